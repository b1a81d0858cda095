"""Staff roles: every route of the URL map, walked for every role.

A route is public when its view lives in a domain's public.py (the layout's rule: views for
anyone); every other route must declare the roles it serves with the decorators in
fairsite/accounts/service.py (view.roles). For each role (anonymous, organiser admin / desk /
viewer, employer admin / booth staff) and each route and method, with ids the role's own kind
of login owns: where the role has no business the answer is 403 or 404 (anonymous: sent to log
in) and nothing changes; where it has, it is neither (nor a 500)."""
from __future__ import annotations

import io
from functools import cache

import pytest
from flask import Flask, g

from fairsite.accounts.models import ADMIN, BOOTH, DESK, EMPLOYER, ORGANISER, VIEWER
from fairsite.accounts.service import organiser_required, organiser_roles
from fairsite.audit.models import AuditEntry
from fairsite.campaigns.models import Campaign
from fairsite.extensions import db
from fairsite.imports import service as imports
from fairsite.imports.models import ImportedLogin
from fairsite.imports.sheets import template_workbook
from fairsite.live.models import LiveItem, LiveSession

METHODS = ("GET", "POST")
PRINCIPALS = [None, (ORGANISER, ADMIN), (ORGANISER, DESK), (ORGANISER, VIEWER),
              (EMPLOYER, ADMIN), (EMPLOYER, BOOTH)]
# Form fields a POST carries, so that a write a role may make gets past its first check.
FORM = {"status": "contacted", "note": "回访", "new-title": "x", "format": "csv", "to": "published"}
# Where a route's argument names something else than the world's key of the same name.
ENDPOINT_IDS = {"manage_imports.send_login": {"user_id": "imported_user_id"}}


@cache
def _import_template(max_rows: int) -> bytes:
    return template_workbook(max_rows)  # about a second to make: once per run


def is_public(app: Flask, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    return endpoint == "static" or (
        view.__module__.endswith(".public") and not hasattr(view, "audience")
    )


def undeclared(app: Flask) -> list[str]:
    """Routes that are not public and declare no roles: each is a route nobody decided about."""
    return sorted({
        rule.endpoint for rule in app.url_map.iter_rules()
        if not is_public(app, rule.endpoint) and not hasattr(app.view_functions[rule.endpoint], "roles")
    })


def staff_rules(app: Flask) -> list:
    return [rule for rule in app.url_map.iter_rules() if not is_public(app, rule.endpoint)]


def test_every_route_is_public_or_declares_its_roles(app):
    assert undeclared(app) == [], (
        "declare who may open these routes: @organiser_roles(...), @employer_roles(...) or "
        "@staff_roles(...) from fairsite/accounts/service.py"
    )
    assert len(staff_rules(app)) >= 60


def test_a_route_without_declared_roles_is_caught():
    """The check above fails for a new route written with the bare decorator (which then
    serves admins only, until someone says otherwise)."""
    app = Flask(__name__)

    @app.get("/manage/new-thing")
    @organiser_required
    def new_thing():
        return "x"

    @app.get("/manage/declared")
    @organiser_roles(ADMIN, VIEWER)
    def declared():
        return "x"

    assert undeclared(app) == ["new_thing"]
    assert declared.roles == {"organiser:admin", "organiser:viewer"}
    assert new_thing.audience == "organiser"


@pytest.fixture
def world(make_booth, make_fair, make_user, make_intent, make_employer):
    """A login of the role, and a maker of what that login can reach (called afresh for each
    write, so that one write, such as cancelling an import, cannot hide the next route): for
    employer staff, their employer's booth, vacancies, an intent, a live session and a
    colleague; for organisers, a fair with a booth, a person registered at its desk, a
    campaign, an organiser's live session, an import upload of theirs and an organiser
    colleague."""
    tokens = []

    def build(principal):
        kind, staff_role = principal or (ORGANISER, ADMIN)
        own_employer = make_employer() if kind == EMPLOYER else None
        user = make_user(kind, employer=own_employer, staff_role=staff_role) if principal else None

        def make_ids() -> dict:
            employer = own_employer or make_employer()
            booth = make_booth(employer=employer, vacancies=3)
            intent = make_intent(booth, source="desk", name="求职者甲", phone="13700137000")
            session = LiveSession(title="直播", employer_id=own_employer.id if own_employer else None)
            campaign = Campaign(name=f"春风行动 {booth.fair_id}", year=2026)
            db.session.add_all([session, campaign])
            db.session.flush()
            booth.fair.campaign_id = campaign.id
            for pos, v in enumerate(booth.vacancies[:2]):  # the third is there to add
                db.session.add(LiveItem(session_id=session.id, vacancy_id=v.id, position=pos))
            db.session.commit()
            colleague = make_user(kind, employer=own_employer)
            imported = make_user(EMPLOYER, employer=employer, active=False)
            db.session.add(ImportedLogin(user_id=imported.id, employer_id=employer.id))
            db.session.commit()
            # An import's upload is its uploader's own (anyone else's token names nothing).
            token = imports.store_upload(io.BytesIO(_import_template(imports.max_rows())),
                                         "企业.xlsx", (user or colleague).id)
            tokens.append(token)
            return {
                "fair_id": booth.fair_id, "booth_id": booth.id, "vacancy_id": booth.vacancies[0].id,
                "intent_id": intent.id, "attendee_id": intent.attendee_id,
                "session_id": session.id, "user_id": colleague.id, "employer_id": employer.id,
                "spare_vacancy_id": booth.vacancies[2].id, "campaign_id": campaign.id,
                "token": token, "imported_user_id": imported.id,
            }

        return user, make_ids

    yield build
    for token in tokens:
        imports.discard_upload(token)


def build_url(rule, ids: dict) -> str:
    keys = {arg: ENDPOINT_IDS.get(rule.endpoint, {}).get(arg, arg) for arg in rule.arguments}
    missing = set(keys.values()) - set(ids)
    assert not missing, f"{rule.endpoint}: teach tests/test_roles.py's world about {missing}"
    return rule.build({arg: ids[key] for arg, key in keys.items()}, append_unknown=False)[1]


def _key(principal) -> str:
    return f"{principal[0]}:{principal[1]}"


def _audit_rows() -> int:
    db.session.expire_all()
    return db.session.query(AuditEntry).count()


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: _key(p) if p else "anonymous")
def test_every_route_for_every_role(app, client, login_as, world, principal):
    user, make_ids = world(principal)
    if user is not None:
        login_as(user=user)
    read_ids = make_ids()
    refused = allowed = 0
    for method in METHODS:
        for rule in sorted(staff_rules(app), key=lambda r: r.endpoint):
            if method not in rule.methods:
                continue
            view = app.view_functions[rule.endpoint]
            may = principal is not None and _key(principal) in view.roles
            # A write that may go through gets things of its own; a refused one changes nothing.
            ids = make_ids() if method == "POST" and may else read_ids
            url = build_url(rule, ids)
            form = {**FORM, "vacancy_id": ids["spare_vacancy_id"]} if method == "POST" else None
            audit_before = _audit_rows()
            g.pop("_login_user", None)  # the tests share one app context across requests
            response = client.open(url, method=method, data=form)
            status, location = response.status_code, response.headers.get("Location", "")
            response.close()  # a stream the role may open is not read
            where = f"{principal} {method} {url} ({rule.endpoint}) -> {status} {location}"
            if may:
                assert status not in (403, 404) and status < 500, where
                assert "/login" not in location, where
                allowed += 1
                continue
            if principal is None:
                assert status == 302 and "/login" in location, where
            else:
                assert status in (403, 404), where
            # Refused, it changed nothing (every staff write is in the audit log).
            assert _audit_rows() == audit_before, where
            refused += 1
    if principal is None or principal == (EMPLOYER, BOOTH) or principal[1] in (DESK, VIEWER):
        assert refused >= 10
    if principal is not None:
        assert allowed >= 5


@pytest.mark.parametrize("staff_role, opens, hidden", [
    (DESK, ["/manage/fairs/{fair_id}/desk", "/manage/fairs/{fair_id}/board"],
     ["/manage/fairs/{fair_id}/report", "/manage/staff", "/manage/audit", "/manage/employers"]),
    (VIEWER, ["/manage/fairs/{fair_id}/board", "/manage/fairs/{fair_id}/report"],
     ["/manage/fairs/{fair_id}/desk", "/manage/staff", "/manage/fairs/new"]),
])
def test_organiser_roles_see_only_their_links(client, login_as, world, staff_role, opens, hidden):
    user, make_ids = world((ORGANISER, staff_role))
    ids = make_ids()
    login_as(user=user)
    for url in opens:
        assert client.get(url.format(**ids)).status_code == 200, url
    page = client.get(f"/manage/fairs/{ids['fair_id']}").get_data(as_text=True)
    index = client.get("/manage/fairs").get_data(as_text=True)
    for url in hidden:
        url = url.format(**ids)
        assert client.get(url).status_code == 403, url
        assert f'href="{url}"' not in page + index, url
    assert "新建招聘会" not in index
    assert "编辑信息" not in page


def test_organiser_admin_sees_every_link(client, login_as, world):
    user, make_ids = world((ORGANISER, ADMIN))
    ids = make_ids()
    login_as(user=user)
    page = client.get(f"/manage/fairs/{ids['fair_id']}").get_data(as_text=True)
    for url in ("/manage/staff", "/manage/audit", f"/manage/fairs/{ids['fair_id']}/desk",
                f"/manage/fairs/{ids['fair_id']}/report", f"/manage/fairs/{ids['fair_id']}/edit"):
        assert f'href="{url}"' in page, url
