"""The audit log of staff actions: what gets recorded (number reveals, exports, status
changes, booth decisions, fair status, desk registrations and slip views), the organiser's
page with its filters and pages, and no phone number in any entry. The desk slip opens only
for someone registered at that fair's desk."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from fairsite.audit.models import AuditEntry
from fairsite.audit.service import record
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.intents.models import Attendee
from fairsite.sql import write_transaction
from tests.conftest import PASSWORD

PHONE = "13900139000"


def entries() -> list[AuditEntry]:
    db.session.commit()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def _desk(client, fair_id, vacancy_ids, phone="139 0013 9000"):
    return client.post(f"/manage/fairs/{fair_id}/desk", data={
        "name": "李桂兰", "phone": phone, "consent": "y", "action": "register", "vacancy": vacancy_ids})


def test_staff_actions_are_recorded_without_phone_numbers(app, client, login_as, make_booth, make_fair,
                                                          make_intent, make_user):
    fair = make_fair(status="published")
    booth = make_booth(fair=fair)
    applied, other = make_booth(fair=fair, status="applied"), make_booth(fair=fair, status="applied")
    organiser = login_as("organiser")
    assert client.post(f"/manage/booths/{applied.id}/approve", data={"zone": "C"}).status_code == 303
    client.post(f"/manage/booths/{other.id}/reject", data={"reason": f"资料不全，请致电 {PHONE}"})
    client.post(f"/manage/fairs/{fair.id}/status", data={"to": "open"})
    slip = _desk(client, fair.id, [booth.vacancies[0].id]).headers["Location"]
    assert client.get(slip).status_code == 200

    staff = make_user("employer", employer=booth.employer)
    intent = make_intent(booth, phone="13800138000")
    intent_id = intent.id
    db.session.commit()
    employer = app.test_client()

    def as_employer(path, **data):
        # An app context of its own: the test's one remembers the organiser's login (in g).
        with app.app_context():
            employer.post(path, data=data).close()
            db.session.remove()

    as_employer("/login", login=staff.login, password=PASSWORD)
    as_employer(f"/employer/intents/{intent_id}/reveal")
    as_employer(f"/employer/intents/{intent_id}/status", status="contacted", note=f"明天再打 {PHONE}")
    as_employer("/employer/intents/export", format="csv")

    log = entries()
    assert [e.action for e in log] == ["booth.approve", "booth.reject", "fair.status", "desk.register",
                                       "desk.slip", "phone.reveal", "intent.status", "intents.export"]
    by_action = {e.action: e for e in log}
    assert by_action["booth.approve"].obj_id == applied.id and "C-01" in by_action["booth.approve"].detail
    assert by_action["fair.status"].detail == "published -> open"
    assert by_action["intent.status"].detail == "new -> contacted; note"
    assert (by_action["phone.reveal"].obj_type, by_action["phone.reveal"].obj_id) == ("intent", intent_id)
    desk = by_action["desk.register"]
    assert (desk.user_id, desk.role, desk.employer_id) == (organiser.id, "organiser", None)
    reveal = by_action["phone.reveal"]
    assert (reveal.user_id, reveal.role, reveal.employer_id) == (staff.id, "employer", booth.employer_id)
    for entry in log:
        assert not re.search(r"1[3-9]\d{9}", entry.detail or ""), entry.detail
    assert "***" in by_action["booth.reject"].detail


def test_record_never_keeps_a_phone_number_however_typed(app):
    with app.test_request_context("/"):
        with write_transaction():
            for detail in ("139 0013 9000", "+86-139-0013-9000", "１３９００１３９０００", "note=13900139000;"):
                record("intent.status", "intent", 1, detail)
    assert [e.detail for e in entries()] == ["***", "***", "***", "note=***;"]
    assert entries()[0].role == "system" and entries()[0].user_id is None


def test_manage_audit_filters_by_action_user_and_dates(client, login_as, make_user, app):
    first = make_user("organiser", name="值班员甲")
    second = make_user("organiser", name="值班员乙")
    now = utcnow()
    with write_transaction():
        db.session.add_all([
            AuditEntry(user_id=first.id, role="organiser", action="booth.approve", obj_type="booth", obj_id=7,
                       detail="A-07", created_at=now - timedelta(days=10)),
            AuditEntry(user_id=second.id, role="organiser", action="fair.status", obj_type="fair", obj_id=3,
                       detail="open -> closed", created_at=now),
        ])
    login_as("organiser")
    page = client.get("/manage/audit").get_data(as_text=True)
    assert "操作记录" in page and "通过展位申请" in page and "更改招聘会状态" in page
    assert "值班员甲" in page and "展位 #7" in page and "A-07" in page

    def shown(**args):
        body = client.get("/manage/audit", query_string=args).get_data(as_text=True)
        return {d for d in ("A-07", "open -&gt; closed") if d in body}

    assert shown(action="fair.status") == {"open -&gt; closed"}
    assert shown(user=first.id) == {"A-07"}
    today = (now + timedelta(hours=8)).date()
    assert shown(**{"from": (today - timedelta(days=1)).isoformat()}) == {"open -&gt; closed"}
    assert shown(to=(today - timedelta(days=5)).isoformat()) == {"A-07"}
    # Nonsense is ignored with a plain message, never a 500.
    response = client.get("/manage/audit", query_string={"from": "2026-13-45", "user": "١٢", "action": "<x>"})
    assert response.status_code == 200 and "日期格式应为" in response.get_data(as_text=True)
    assert shown(**{"from": "昨天"}) == {"A-07", "open -&gt; closed"}


def test_manage_audit_pages_and_fragment(client, hx, login_as, app):
    login_as("organiser")
    with write_transaction():
        db.session.add_all([AuditEntry(role="system", action="attendees.purge", detail=f"n={i}")
                            for i in range(120)])
    page = client.get("/manage/audit").get_data(as_text=True)
    assert "共 120 条记录" in page and "第 1 / 3 页" in page and "n=119" in page and "n=69" not in page
    assert "n=69" in client.get("/manage/audit?page=2").get_data(as_text=True)
    assert "第 3 / 3 页" in client.get("/manage/audit?page=999").get_data(as_text=True)
    body = hx.get("/manage/audit?action=attendees.purge").get_data(as_text=True)
    assert body.lstrip().startswith('<section id="audit-rows"')


def test_manage_audit_is_for_organisers_only(client, login_as):
    assert client.get("/manage/audit").status_code == 302
    login_as("employer")
    assert client.get("/manage/audit").status_code == 404


def test_nav_links_organisers_to_the_audit_page(client, login_as):
    login_as("organiser")
    assert 'href="/manage/audit"' in client.get("/manage/fairs").get_data(as_text=True)


def test_desk_slip_opens_only_for_people_registered_at_this_fairs_desk(client, login_as, make_booth, make_fair,
                                                                      make_intent):
    booth = make_booth()
    elsewhere = make_booth(fair=make_fair())
    self_signed = make_intent(booth, phone="13700137000")  # by QR code at this fair
    login_as("organiser")
    assert client.get(f"/manage/fairs/{booth.fair_id}/desk/slip/{self_signed.attendee_id}").status_code == 404
    slip = _desk(client, booth.fair_id, [booth.vacancies[0].id]).headers["Location"]
    attendee_id = int(slip.rsplit("/", 1)[1])
    assert client.get(slip).status_code == 200
    # The same person, at a fair whose desk never registered them.
    make_intent(elsewhere, phone=PHONE)
    assert client.get(f"/manage/fairs/{elsewhere.fair_id}/desk/slip/{attendee_id}").status_code == 404
    assert client.get(f"/manage/fairs/{booth.fair_id}/desk/slip/999999").status_code == 404
    views = [e for e in entries() if e.action == "desk.slip"]
    assert [(e.obj_type, e.obj_id) for e in views] == [("attendee", attendee_id)]
    assert db.session.get(Attendee, attendee_id).name == "李桂兰"
