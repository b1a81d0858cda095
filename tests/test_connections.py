"""One pooled connection per request at a time: a request that held two (the session's and
another taken beside it) could deadlock the pool under a burst, every request holding one and
waiting for a second. Pool checkouts are counted around the requests a crowd makes: the booth
page, signing (first time and returning), the employer's list and both exports."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from fairsite.employers.models import Employer
from fairsite.extensions import db

FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}


@pytest.fixture
def held(app):
    """The most pooled connections a request held at once (the test's own session releases its
    connection before each request)."""
    state = {"now": 0, "most": 0}

    def checkout(*_args):
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])

    def checkin(*_args):
        state["now"] -= 1

    event.listen(db.engine, "checkout", checkout)
    event.listen(db.engine, "checkin", checkin)

    def measure(call):
        db.session.commit()
        db.session.close()
        state["now"], state["most"] = 0, 0
        # An app context of its own, as each request has in production.
        with app.app_context():
            response = call()
            response.get_data()  # a streamed body (the CSV export) runs its queries now
            response.close()
        return state["most"]

    yield measure
    event.remove(db.engine, "checkout", checkout)
    event.remove(db.engine, "checkin", checkin)


def test_requests_of_a_crowd_hold_one_connection_at_a_time(app, client, held, login_as, make_booth, make_intent):
    booth = make_booth(vacancies=3)
    token, v1, v2 = booth.token, booth.vacancies[0].id, booth.vacancies[1].id
    employer_id = booth.employer_id
    for i in range(3):
        make_intent(booth, phone=f"1390013900{i}")
    attendee = app.test_client()
    assert held(lambda: attendee.get(f"/q/{token}")) == 1
    assert held(lambda: attendee.post("/intents/sign", data={"vacancy_id": v1, "booth": token, **FORM})) == 1
    assert held(lambda: attendee.post("/intents/sign", data={"vacancy_id": v2, "booth": token},
                                      headers={"HX-Request": "true"})) == 1
    assert held(lambda: attendee.get("/me")) == 1
    login_as("employer", employer=db.session.get(Employer, employer_id))
    assert held(lambda: client.get("/employer/intents")) == 1
    assert held(lambda: client.post("/employer/intents/export", data={"format": "csv"})) == 1
    assert held(lambda: client.post("/employer/intents/export", data={"format": "xlsx"})) == 1
