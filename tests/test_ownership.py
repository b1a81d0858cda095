"""Who may see what: an employer reaches only its own employer, booths, vacancies, intents,
exports and live sessions. Every route an employer's staff can open (found in the url_map by
the audience its access decorator marks, so a new route cannot be forgotten) answers 404 with
another employer's ids and sends anonymous visitors to log in; the employer-only ones are a
404 for organisers."""
import pytest

from fairsite.accounts.models import User
from fairsite.audit.models import AuditEntry
from fairsite.extensions import db
from fairsite.intents.models import Intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.vacancies.models import Vacancy

METHODS = ("GET", "POST")


def employer_rules(app, audiences=("employer", "staff")):
    """Routes whose access decorator serves these audiences ("staff": organisers and employer
    staff alike, e.g. running a live session)."""
    rules = [
        rule for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "audience", None) in audiences
    ]
    assert len(rules) >= 15, [r.endpoint for r in rules]
    return rules


@pytest.fixture
def foreign(make_booth, make_fair, make_user, make_intent):
    """Another employer's booth, vacancy and intent, and a fair nobody may apply to."""
    booth = make_booth(vacancies=1)
    vacancy = booth.vacancies[0]
    intent = make_intent(booth, name="别家求职者", phone="13600136000")
    session = LiveSession(title="别家的直播", employer_id=booth.employer_id)
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancy.id, position=0))
    db.session.commit()
    return {
        "session_id": session.id,
        "booth_id": booth.id,
        "vacancy_id": vacancy.id,
        "intent_id": intent.id,
        "fair_id": make_fair(status="draft").id,
        "user_id": make_user("employer", employer=booth.employer).id,
    }


def build(rule, ids: dict) -> str:
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"{rule.endpoint}: teach this test about {missing}"
    return rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]


def test_every_employer_route_answers_404_for_another_employers_ids(app, client, login_as, foreign):
    login_as("employer")
    checked = 0
    for rule in employer_rules(app):
        if not rule.arguments:
            continue
        url = build(rule, foreign)
        for method in METHODS:
            if method not in rule.methods:
                continue
            response = client.open(url, method=method, data={
                "status": "hired", "note": "x", "vacancy": str(foreign["vacancy_id"]), "new-title": "x",
            })
            assert response.status_code == 404, f"{method} {url} ({rule.endpoint}) -> {response.status_code}"
            checked += 1
    assert checked >= 10
    # Nothing of theirs changed, and no number was shown.
    db.session.expire_all()
    assert db.session.get(Intent, foreign["intent_id"]).status == "new"
    assert db.session.get(Vacancy, foreign["vacancy_id"]).is_open
    assert db.session.query(AuditEntry).count() == 0
    assert db.session.get(User, foreign["user_id"]).active
    assert db.session.get(LiveSession, foreign["session_id"]).status == "scheduled"


def test_lists_and_exports_hold_only_own_rows(client, login_as, foreign):
    login_as("employer")
    for url in ("/employer", "/employer/intents", "/employer/intents/rows", "/employer/vacancies",
                "/employer/booths"):
        assert "别家求职者" not in client.get(url).get_data(as_text=True), url
    for fmt in ("csv", "xlsx"):
        response = client.post("/employer/intents/export", data={"format": fmt, "vacancy": foreign["vacancy_id"]})
        assert response.status_code == 200
        assert b"13600136000" not in response.data


def test_every_employer_route_sends_anonymous_to_login(app, client, foreign):
    for rule in employer_rules(app):
        url = build(rule, foreign)
        for method in METHODS:
            if method not in rule.methods:
                continue
            response = client.open(url, method=method)
            assert response.status_code == 302, f"{method} {url} -> {response.status_code}"
            assert "/login" in response.headers["Location"]


def test_every_employer_route_is_404_for_organisers(app, client, login_as, foreign):
    login_as("organiser")
    for rule in employer_rules(app, ("employer",)):
        url = build(rule, foreign)
        for method in METHODS:
            if method in rule.methods:
                assert client.open(url, method=method).status_code == 404, f"{method} {url}"
