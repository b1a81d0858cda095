"""The net under every route: each rule of the url_map, for each kind of visitor (anonymous, an
attendee's phone, an employer, another employer, an organiser), with hostile values in the path,
the query string and the form (numbers out of range or in other scripts, NUL and control
characters, CR/LF, bidi overrides, 10,000 characters, a field sent 200 times, fields left out,
markup and htmx attributes as text). Every answer is a page or a clear 4xx: never a 5xx, never a
traceback in the log, and markup sent as text never comes back unescaped.

A new route is walked without teaching this test anything; teaching it a valid request for the
route (`valid` in the world fixture) lets the walk reach deeper, one hostile field at a time."""
from __future__ import annotations

import logging
import re
from urllib.parse import quote

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from fairsite.accounts.models import EMPLOYER, ORGANISER
from fairsite.employers.credit_code import make_credit_code
from fairsite.employers.forms import ProfileForm, RegisterForm, StaffForm
from fairsite.extensions import db
from fairsite.fairs.forms import FairForm
from fairsite.intents.forms import DeskForm
from fairsite.intents.models import Attendee, Intent
from fairsite.live.forms import LiveSessionForm
from fairsite.live.models import LiveItem, LiveSession
from fairsite.vacancies.forms import VacancyForm
from tests.conftest import PASSWORD

MARKUP = "<img src=x onerror=alert(1)>"
HX_ATTR = 'hx-get="/logout"'
LONG = "x" * 10_000

# Every field at once (the 10,000 characters go one field at a time, below the body limit).
HOSTILE = [
    "²", "١٢", "2147483648", "9" * 30, "-1", "a\x00b\x01\x1f\x7f", "\r\nSet-Cookie: x=1",
    "\u202eexe.txt", MARKUP, HX_ATTR, "http://[", "0001-01-01", "9999-12-31T23:59",
]
# One field at a time, the others valid.
HOSTILE_ONE = {  # by what the valid value looks like
    "date": ["0001-01-01", "9999-12-31", "2026-02-30", "２０２６-０３-０３"],
    "number": ["²", "9" * 30, "-1", "١٢", "2147483648", "4.5"],
    "text": ["\x00\r\n\u202e", LONG, MARKUP, HX_ATTR, "²"],
}
_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER_LIKE = re.compile(r"[0-9][0-9,.]*[k元人岁]?")
# Instead of an id in the path.
HOSTILE_IDS = ["0", "-1", "2147483648", str(2**63), "9" * 30, "²", "١٢", "1%00", "1%0D%0A"]
HOSTILE_SEGMENTS = ["x" * 300, "%00", "%0D%0A", "%E2%80%AE", quote(MARKUP, safe=""), ".."]

# Query names the views read (any route gets them all).
QUERY_NAMES = ["q", "page", "category", "min_pay", "meals", "insurance", "fair", "vacancy",
               "status", "group", "v", "show", "prefix", "field", "next", "booth", "live",
               "vacancy_id", "slot", "step", "to", "from", "action", "user", "after"]
# Form names the views read outside their form classes.
FORM_NAMES = ["vacancy_id", "booth", "fair", "live", "slot", "step", "vacancy", "note", "status",
              "page", "format", "to", "number", "zone", "reason", "show", "direction", "active",
              "confirm", "action", "q", "groups", "consent"]

# Writes that end what later requests need: walked last, logout the very last.
DESTRUCTIVE = ["intents.withdraw", "manage_booths.reject", "manage_live.remove_item",
               "manage_live.end", "employer_vacancies.close", "employer.staff_active",
               "manage_fairs.status", "intents.delete_me", "accounts.logout"]
SSE = "text/event-stream"
FIELDS_A_ROUTE = 2
HASHES_PASSWORDS = {"accounts.login", "employers.register", "employer.staff"}


def _form_names() -> list[str]:
    names = set(FORM_NAMES)
    for form in (FairForm, DeskForm, LiveSessionForm, RegisterForm, ProfileForm, StaffForm):
        names.update(name for name in dir(form) if hasattr(getattr(form, name), "field_class"))
    vacancy_fields = [name for name in dir(VacancyForm)
                      if hasattr(getattr(VacancyForm, name), "field_class")]
    return sorted(names) + [f"new-{name}" for name in vacancy_fields]


@pytest.fixture
def app_config():
    # A 500 is answered and logged, as in production, instead of raised into the test.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture(autouse=True)
def app_log(app):
    """The app's log, as the walk reads it: Alembic's logging set-up (the migrations ran
    earlier in this process) switches existing loggers off."""
    disabled, app.logger.disabled = app.logger.disabled, False
    yield
    app.logger.disabled = disabled


def request(app, client, *args, **kwargs):
    """One request in an app context of its own, as in production: the tests' shared context
    would carry one visitor's logged-in user (flask.g) and session over to the next."""
    with app.app_context():
        response = client.open(*args, **kwargs)
        try:
            # Read here, while the context lives (an export streams); an SSE stream is not read.
            text = response.mimetype.startswith("text/") and response.mimetype != SSE
            body = response.get_data().decode("utf-8", "replace") if text else ""
        finally:
            response.close()
    return response, body


def log_in(app, user):
    client = app.test_client()
    response, body = request(app, client, "/login", method="POST",
                             data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 303, body
    return client


@pytest.fixture
def world(app, make_fair, make_employer, make_booth, make_vacancy, make_user):
    """A fair with an approved booth of employer A (two vacancies), a fair employers may apply
    to, a live session of A's, an attendee who signed from their phone; a client per role."""
    fair = make_fair(status="open")
    open_fair = make_fair(status="published", title="待申请的招聘会")
    employer = make_employer()
    vacancies = [make_vacancy(employer, title="电子装配工"), make_vacancy(employer, title="仓库管理员")]
    booth = make_booth(fair=fair, employer=employer, vacancies=vacancies, number="A-01")
    pending = make_booth(fair=fair, status="applied")
    session = LiveSession(title="直播带岗", employer_id=employer.id, fair_id=fair.id, status="live")
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancies[0].id, position=0))
    db.session.commit()
    organiser = make_user(ORGANISER)
    staff = make_user(EMPLOYER, employer=employer)
    colleague = make_user(EMPLOYER, employer=employer)
    other = make_user(EMPLOYER)

    attendee = app.test_client()
    response, _body = request(app, attendee, "/intents/sign", method="POST", data={
        "vacancy_id": vacancies[0].id, "booth": booth.token, "step": "form", "name": "张三",
        "phone": "13800138000", "consent": "y"})
    assert response.status_code == 303
    db.session.commit()  # end the test's read transaction: see what the request wrote
    intent = db.session.scalar(db.select(Intent))
    ids = {
        "fair_id": fair.id, "booth_id": booth.id, "vacancy_id": vacancies[0].id,
        "intent_id": intent.id, "session_id": session.id, "user_id": colleague.id,
        "attendee_id": db.session.scalar(db.select(Attendee.id)), "token": booth.token,
        "filename": "css/site.css",
    }
    v1, v2 = str(vacancies[0].id), str(vacancies[1].id)
    vacancy_form = {"title": "普工", "category": "production", "headcount": "5",
                    "pay_min": "4,000元", "pay_max": "4.5k", "location": "高新区",
                    "shifts": "长白班", "age_min": "18", "age_max": "45", "education": "",
                    "description": "包吃住"}
    sign = {"vacancy_id": v1, "booth": booth.token}
    valid = {
        # GET: the query string
        ("GET", "fairs.show"): {"q": "工", "after": f"A-01~{v1}", "min_pay": "3000", "category": "production"},
        ("GET", "intents.sign"): sign,
        ("GET", "intents.done"): sign,
        ("GET", "employer_intents.index"): {"fair": str(fair.id), "vacancy": v1, "status": "new", "page": "1"},
        ("GET", "employer_intents.rows"): {"fair": str(fair.id), "v": "0-0-0-0", "page": "2"},
        ("GET", "manage_intents.desk"): {"q": "装配", "vacancy": v1},
        ("GET", "manage_intents.desk_vacancies"): {"q": "A-01", "vacancy": [v1, v2]},
        ("GET", "manage_live.candidates"): {"q": "仓库"},
        ("GET", "manage_booths.index"): {"show": "all"},
        ("GET", "accounts.login"): {"next": "/manage/fairs"},
        ("GET", "manage_audit.index"): {"from": "2026-03-01", "to": "2026-03-31", "action": "export",
                                        "user": str(staff.id), "page": "2"},
        # POST: the form
        ("POST", "intents.sign"): {**sign, "vacancy_id": v2, "step": "form", "name": "李四",
                                   "phone": "139 0013 9000", "consent": "y", "groups": "graduate"},
        ("POST", "intents.delete_me"): {"confirm": "yes"},
        ("POST", "employer_intents.status"): {"status": "contacted", "note": "周三面试", "page": "1",
                                              "fair": str(fair.id)},
        ("POST", "employer_intents.reveal"): {"page": "1", "vacancy": v1},
        ("POST", "employer_intents.export"): {"format": "csv", "fair": str(fair.id), "status": "new"},
        ("POST", "employer.profile"): {"name": employer.name, "credit_code": employer.credit_code,
                                       "industry": "电子制造", "contact_name": "王经理",
                                       "contact_phone": "13800138000", "address": "高新区",
                                       "description": "电子厂"},
        ("POST", "employer.staff"): {"name": "同事", "login": "colleague@test.cn",
                                     "password": "a long password"},
        ("POST", "employer.staff_active"): {"active": "1"},
        ("POST", "employer_booths.apply"): {"note": "我们想参加"},
        ("POST", "employer_booths.placements"): {"vacancy": [v1, v2]},
        ("POST", "employer_vacancies.create"): {f"new-{k}": v for k, v in vacancy_form.items()},
        ("POST", "employer_vacancies.update"): {f"v{v1}-{k}": v for k, v in vacancy_form.items()},
        ("POST", "employer_vacancies.validate"): {f"new-{k}": v for k, v in vacancy_form.items()},
        ("POST", "employer_vacancies.place"): {"show": "1"},
        ("POST", "manage_fairs.create"): {"title": "春风行动招聘会", "kind": "park", "campaign": "春风行动",
                                          "venue": "人民公园", "date": "2026-03-03",
                                          "opens_at": "08:30", "closes_at": "16:30",
                                          "description": "欢迎"},
        ("POST", "manage_fairs.status"): {"to": "closed"},
        ("POST", "manage_booths.approve"): {"number": "B-07", "zone": "B"},
        ("POST", "manage_booths.reject"): {"reason": "材料不全"},
        ("POST", "manage_booths.approve_all"): {"zone": "C"},
        ("POST", "manage_intents.desk"): {"name": "王大姐", "phone": "13700137000", "consent": "y",
                                          "vacancy": v1, "groups": "poverty"},
        ("POST", "manage_live.create"): {"title": "返乡专场", "host_name": "小王", "fair_id": "0",
                                         "scheduled_at": "2026-03-03T10:00", "description": "简介"},
        ("POST", "manage_live.add_item"): {"vacancy_id": v2},
        ("POST", "manage_live.move_item"): {"direction": "up"},
        ("POST", "manage_live.present"): {"vacancy_id": v1},
        ("POST", "accounts.login"): {"login": "nobody@test.cn", "password": "wrong password"},
        ("POST", "employers.register"): {"name": "新企业", "credit_code": make_credit_code("91510100MA6C7X123"),
                                         "industry": "其他", "contact_name": "赵", "contact_phone":
                                         "13500135000", "login": "new@test.cn",
                                         "password": "a long password",
                                         "confirm": "a long password"},
    }
    valid[("POST", "manage_fairs.edit")] = valid[("POST", "manage_fairs.create")]
    valid[("POST", "manage_live.edit")] = valid[("POST", "manage_live.create")]
    # Pending booth for approving and rejecting; the approved one stays at the fair.
    ids_by_endpoint = {"manage_booths.approve": {"booth_id": pending.id},
                       "manage_booths.reject": {"booth_id": pending.id},
                       "employer_vacancies.place": {"vacancy_id": vacancies[1].id}}
    clients = Visitors(app, {"anonymous": app.test_client(), "attendee": attendee},
                       {"employer": staff, "other employer": other, "organiser": organiser})
    return dict(ids=ids, valid=valid, ids_by_endpoint=ids_by_endpoint, clients=clients,
                open_fair=open_fair)


ROLES = ["anonymous", "attendee", "employer", "other employer", "organiser"]
# Whose routes each visitor's are (the audience an access decorator marks; None: public).
AUDIENCES = {"anonymous": (None,), "attendee": (None,), "employer": ("employer", "staff"),
             "other employer": (), "organiser": ("organiser", "staff")}


class Visitors:
    """A client per kind of visitor, and the audiences whose routes are its own. Staff log in
    when first asked for: each log-in hashes a password (a third of a second here)."""

    def __init__(self, app, clients: dict, users: dict):
        self.app, self.clients, self.users = app, dict(clients), users

    def __getitem__(self, role: str):
        if role not in self.clients:
            self.clients[role] = log_in(self.app, self.users[role])
        return self.clients[role], AUDIENCES[role]

    def items(self):
        return [(role, self[role]) for role in ROLES]


def _order(rule) -> tuple:
    """GET-only routes first, then writes, the destructive ones last (logout the very last)."""
    writes = "POST" in rule.methods
    last = DESTRUCTIVE.index(rule.endpoint) if rule.endpoint in DESTRUCTIVE else -1
    return (writes, last, rule.rule)


def _path(rule, ids: dict, hostile_arg: str | None = None, hostile: str = "") -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name == hostile_arg:
            values[name] = 987654321 if isinstance(converter, IntegerConverter) else "SENTINEL"
        else:
            values[name] = ids.get(name, 1 if isinstance(converter, IntegerConverter) else "x")
    path = rule.build(values, append_unknown=False)[1]
    if hostile_arg:
        path = path.replace("987654321", hostile).replace("SENTINEL", hostile)
    return path


class Walk:
    """Sends requests, keeps what went wrong."""

    def __init__(self, app, caplog):
        self.app = app
        self.caplog = caplog
        self.problems: list[str] = []
        self.answered: dict[str, int] = {}
        self.sent = 0

    def send(self, role: str, client, method: str, url: str, data=None, query=None, hx=False):
        before = len(self.caplog.records)
        headers = {"HX-Request": "true"} if hx else {}
        self.sent += 1
        response, body = request(self.app, client, url, method=method, query_string=query,
                                 data=data if method == "POST" else None, headers=headers)
        what = f"{role}: {method} {url} query={_short(query)} form={_short(data)} hx={hx}"
        if response.status_code >= 500:
            self.problems.append(f"{response.status_code} {what}")
        if response.mimetype == "text/html" and (MARKUP in body or HX_ATTR in body):
            self.problems.append(f"markup reflected unescaped: {what}")
        logged = [r for r in self.caplog.records[before:]
                  if r.levelno >= logging.ERROR or r.exc_info or "Traceback" in r.getMessage()]
        if logged:
            record = logged[0]
            cause = repr(record.exc_info[1])[:300] if record.exc_info else record.getMessage()[:300]
            self.problems.append(f"logged {cause}: {what}")
        if response.status_code < 400:
            self.answered[role] = self.answered.get(role, 0) + 1
        return response


def _short(values) -> str:
    if not values:
        return "{}"
    items = values.items(multi=True) if isinstance(values, MultiDict) else values.items()
    out = []
    for k, v in items:
        v = v if isinstance(v, str) else repr(v)
        out.append(f"{k}={v[:20]!r}" + ("…" if len(v) > 20 else ""))
    return "{" + ", ".join(out[:6]) + (", …" if len(out) > 6 else "") + "}"


class Rotation:
    """Hands out the hostile values in turn, so that a handful per route covers them all."""

    def __init__(self, values):
        self.values = list(values)
        self.i = -1

    def __call__(self):
        self.i = (self.i + 1) % len(self.values)
        return self.values[self.i]


def _variants(method: str, names: list[str], valid: dict, owner: bool, pick: dict, slow: bool):
    """(values, hx) pairs for one route and visitor. Its own audience gets: nothing, the valid
    request (and a write's htmx twin), every name hostile at once (with htmx every other
    time), two valid fields hostile in turn (the form property tests go through every field),
    a write's every field sent 200 times. Anyone else: one request, the names hostile (the
    access check answers first)."""
    if not owner:
        yield {name: pick["all"]() for name in names}, False
        return
    if method == "POST" or not valid:
        yield {}, False
    if valid:
        yield dict(valid), False
        if method == "POST" and not slow:
            yield dict(valid), True
    value = pick["all"]()
    yield {name: value for name in names}, pick["hx"]()
    if slow:  # each try with a login or password in it hashes a password
        return
    fields = list(valid.items())
    start = pick["field"]() % len(fields) if fields else 0
    for name, value in (fields[start:] + fields[:start])[:FIELDS_A_ROUTE]:
        shape = value if isinstance(value, str) else value[0]
        kind = ("date" if _DATE_LIKE.match(shape) else
                "number" if _NUMBER_LIKE.fullmatch(shape) else "text")
        yield {**valid, name: pick[kind]()}, False
    if valid and method == "POST":
        repeated = MultiDict()
        for name, value in valid.items():
            for _ in range(200):
                repeated.add(name, value if isinstance(value, str) else value[0])
        yield repeated, False


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_hostile_input_without_a_5xx(app, world, caplog, role):
    caplog.set_level(logging.WARNING)
    walk = Walk(app, caplog)
    db.session.commit()  # the test's own session holds no transaction while requests write
    client, audiences = world["clients"][role]
    pick = {"all": Rotation(HOSTILE), "id": Rotation(HOSTILE_IDS), "field": Rotation(range(7)),
            "hx": Rotation([False, True]),
            "segment": Rotation(HOSTILE_SEGMENTS),
            **{kind: Rotation(values) for kind, values in HOSTILE_ONE.items()}}
    form_names = _form_names()
    rules = sorted(app.url_map.iter_rules(), key=_order)
    assert len(rules) >= 60
    methods_at: dict[str, set] = {}
    for rule in rules:
        methods_at.setdefault(rule.rule, set()).update(rule.methods)
    for rule in rules:
        audience = getattr(app.view_functions[rule.endpoint], "audience", None)
        owner = audience in audiences
        ids = {**world["ids"], **world["ids_by_endpoint"].get(rule.endpoint, {})}
        url = _path(rule, ids)
        # The path: each argument replaced by what is not an id (or a token), a value a route
        # in turn (a 404 before the view, whoever asks).
        for name in rule.arguments if owner else ():
            kind = "id" if isinstance(rule._converters[name], IntegerConverter) else "segment"
            walk.send(role, client, "GET" if "GET" in rule.methods else "POST",
                      _path(rule, ids, name, pick[kind]()))
        for method in ("GET", "POST"):
            if method not in rule.methods:
                # The wrong method gets a Chinese 405 page.
                if owner and method not in methods_at[rule.rule] and rule.endpoint != "static":
                    response = walk.send(role, client, method, url)
                    assert response.status_code == 405, (method, url)
                continue
            names = QUERY_NAMES if method == "GET" else form_names
            valid = world["valid"].get((method, rule.endpoint), {})
            slow = rule.endpoint in HASHES_PASSWORDS
            for values, hx in _variants(method, names, valid, owner, pick, slow):
                if method == "GET":
                    walk.send(role, client, method, url, query=values, hx=hx)
                else:
                    walk.send(role, client, method, url, data=values, hx=hx)
    assert not walk.problems, f"{len(walk.problems)} of {walk.sent} requests:\n" + "\n".join(walk.problems[:40])
    # The walk reached the pages, not only the doors.
    assert walk.answered.get(role, 0) >= 20, walk.answered


def test_markup_typed_into_any_text_field_is_shown_escaped_on_every_page(app, world, caplog):
    """Store markup through every form that keeps text, then open every page each visitor can
    open: the markup is on the pages, but only as text."""
    caplog.set_level(logging.WARNING)
    walk = Walk(app, caplog)
    clients = world["clients"]
    db.session.commit()
    ids = world["ids"]
    employer, organiser = clients["employer"][0], clients["organiser"][0]
    text = f"{MARKUP} {HX_ATTR}"
    valid = world["valid"]
    vid = ids["vacancy_id"]
    writes = [
        (organiser, f"/manage/fairs/{ids['fair_id']}/edit",
         {**valid[("POST", "manage_fairs.edit")], "title": text[:120], "campaign": text[:60],
          "venue": text, "description": text}),
        (employer, f"/employer/vacancies/{vid}",
         {**valid[("POST", "employer_vacancies.update")], f"v{vid}-title": text[:60],
          f"v{vid}-location": text[:100], f"v{vid}-shifts": text[:40], f"v{vid}-description": text}),
        (employer, "/employer/profile",
         {**valid[("POST", "employer.profile")], "name": text[:100], "industry": text[:40],
          "contact_name": text[:40], "address": text, "description": text}),
        (employer, f"/employer/intents/{ids['intent_id']}/status", {"status": "contacted", "note": text}),
        (employer, f"/employer/booths/apply/{world['open_fair'].id}", {"note": text}),
        (organiser, f"/manage/booths/{world['ids_by_endpoint']['manage_booths.reject']['booth_id']}/reject",
         {"reason": text}),
        (employer, f"/live/{ids['session_id']}/edit",
         {**valid[("POST", "manage_live.edit")], "title": text[:120], "host_name": text[:60],
          "description": text}),
        (organiser, f"/manage/fairs/{ids['fair_id']}/desk",
         {**valid[("POST", "manage_intents.desk")], "name": text[:40]}),
        (clients["anonymous"][0], "/intents/sign",
         {**valid[("POST", "intents.sign")], "name": text[:40]}),
    ]
    for client, url, data in writes:
        response = walk.send("writer", client, "POST", url, data=data)
        assert response.status_code in (200, 303), (url, response.status_code)
    db.session.commit()  # a fresh read: see what the requests wrote
    assert db.session.get(LiveSession, ids["session_id"]).title.startswith("<img")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        audience = getattr(app.view_functions[rule.endpoint], "audience", None)
        for role, (client, audiences) in clients.items():
            if audience in audiences:  # the page, and its fragment
                walk.send(role, client, "GET", _path(rule, ids))
                walk.send(role, client, "GET", _path(rule, ids), hx=True)
            elif audience is None:  # a public page seen by staff (their menu, their name)
                walk.send(role, client, "GET", _path(rule, ids))
    assert not walk.problems, "\n".join(walk.problems[:40])
