"""Retention (PIPL): `flask purge` erases the personal data of attendees whose last fair or
intent is older than PERSONAL_DATA_RETENTION_DAYS, and keeps anonymous counts: the day's
report, the tallies and the employer's list still add up and still work."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, or_, select, update

from fairsite.audit.models import AuditEntry
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import Attendee, Device, Intent
from fairsite.intents.service import add_device, find_or_create_attendee, record_intent
from fairsite.sql import write_transaction
from fairsite.tallies import report as reports
from fairsite.tallies import service as tallies

OLD = ("王伟", "13700000001", "四川省泸县")
OLD_TOO = ("李娜", "13700000002", "四川省合江县")
STILL_ACTIVE = ("赵强", "13700000003", "")
COMING_BACK = ("周敏", "13700000004", "")


def _sign(person, vacancy, fair, booth, when, groups=("returnee",), source="booth"):
    name, phone, hometown = person
    attendee, _ = find_or_create_attendee(name, phone, list(groups), "v1", now=when)
    signed = record_intent(attendee, vacancy, source, fair_id=fair.id, booth_id=booth.id, now=when)
    if hometown:
        db.session.execute(update(Attendee).where(Attendee.id == attendee.id).values(hometown=hometown))
    return attendee.id, signed.intent_id


@pytest.fixture
def history(make_fair, make_booth, make_employer, make_vacancy):
    """A fair held 400 days ago (two people seen only there), one 10 days ago (a third person
    came back), and one still to come (a fourth signed up for it long ago)."""
    now = utcnow()
    long_ago = now - timedelta(days=400)
    employer = make_employer(name="川南汽车零部件有限公司")
    v1, v2 = make_vacancy(employer, title="冲压操作工"), make_vacancy(employer, title="喷涂工")
    old_fair = make_fair(date=long_ago.date(), status="closed")
    recent_fair = make_fair(date=(now - timedelta(days=10)).date())
    next_fair = make_fair(date=(now + timedelta(days=30)).date(), status="published")
    old_booth = make_booth(fair=old_fair, employer=employer, vacancies=[v1, v2], number="A-08")
    recent_booth = make_booth(fair=recent_fair, employer=employer, vacancies=[v1], number="B-01")
    next_booth = make_booth(fair=next_fair, employer=employer, vacancies=[v2], number="C-01")
    with write_transaction():
        old_id, old_intent = _sign(OLD, v1, old_fair, old_booth, long_ago, groups=("returnee", "poverty"))
        _sign(OLD, v2, old_fair, old_booth, long_ago + timedelta(minutes=5), source="desk")
        old_too_id, _ = _sign(OLD_TOO, v2, old_fair, old_booth, long_ago, groups=("graduate",))
        add_device(old_id, full_access=True)
        add_device(old_too_id, full_access=True)
        active_id, _ = _sign(STILL_ACTIVE, v2, old_fair, old_booth, long_ago)
        _sign(STILL_ACTIVE, v1, recent_fair, recent_booth, now - timedelta(days=10))
        back_id, _ = _sign(COMING_BACK, v2, next_fair, next_booth, long_ago)
        db.session.execute(update(Intent).where(Intent.id == old_intent).values(
            status="hired", note="王伟 13700000001 已入职"))
    return {"old_fair": old_fair.id, "purged": [old_id, old_too_id], "kept": [active_id, back_id],
            "employer": employer}


def _report(fair_id: int) -> tuple:
    r = reports.build(db.session.get(Fair, fair_id))
    return (r.employers, r.posts, r.average_pay, r.total, r.groups, r.no_group, r.sources, r.hours,
            r.employer_rows)


def _purge(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["purge", *args])
    assert result.exit_code == 0, result.output
    db.session.commit()  # a fresh snapshot: the command wrote from its own app context
    return result.output


def test_purge_erases_name_phone_hometown_and_devices_and_keeps_the_report(app, history):
    before_report = _report(history["old_fair"])
    before_tally = tallies.read(f"fair:{history['old_fair']}")
    output = _purge(app)
    assert "已清除 2 位" in output and "365 天" in output

    for attendee_id in history["purged"]:
        a = db.session.get(Attendee, attendee_id)
        assert (a.name, a.hometown) == ("", "") and a.purged_at is not None
        assert a.phone == f"x{attendee_id:010d}"  # unique, as the column must be; no number
    personal = [v for person in (OLD, OLD_TOO) for v in person]
    assert db.session.scalar(select(func.count()).select_from(Attendee).where(or_(
        Attendee.name.in_(personal), Attendee.phone.in_(personal), Attendee.hometown.in_(personal)))) == 0
    assert db.session.scalar(select(func.count()).select_from(Device).where(
        Device.attendee_id.in_(history["purged"]))) == 0
    notes = db.session.scalars(select(Intent.note).where(Intent.attendee_id.in_(history["purged"]))).all()
    assert notes and all(n == "" for n in notes)
    assert all(not any(p in (e.detail or "") for p in personal) for e in db.session.scalars(select(AuditEntry)))

    # Everything counted stays counted: the report and the board read the same numbers.
    assert _report(history["old_fair"]) == before_report
    assert tallies.read(f"fair:{history['old_fair']}") == before_tally
    # Those seen within the year (or signed up for a fair still to come) keep their data.
    kept = [db.session.get(Attendee, i) for i in history["kept"]]
    assert [(a.name, a.phone, a.purged_at) for a in kept] == [
        (STILL_ACTIVE[0], STILL_ACTIVE[1], None), (COMING_BACK[0], COMING_BACK[1], None)]

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "attendees.purge")).one()
    assert (entry.role, entry.user_id, entry.detail) == ("system", None, "n=2 days=365")
    assert "已清除 0 位" in _purge(app)  # twice is harmless


def test_purge_leaves_report_page_and_employer_list_working(app, client, login_as, history, make_user):
    _purge(app)
    login_as("organiser")
    page = client.get(f"/manage/fairs/{history['old_fair']}/report").get_data(as_text=True)
    assert "招聘会统计报表" in page and "川南汽车零部件有限公司" in page
    assert client.get(f"/manage/fairs/{history['old_fair']}/report.xlsx").status_code == 200
    assert client.get(f"/manage/fairs/{history['old_fair']}/desk/slip/{history['purged'][0]}").status_code == 404

    staff = make_user("employer", employer=history["employer"])
    employer = app.test_client()
    with app.app_context():
        employer.post("/login", data={"login": staff.login, "password": "correct horse battery"})
        listing = employer.get("/employer/intents").get_data(as_text=True)
        assert "信息已按期清除" in listing and STILL_ACTIVE[0] in listing
        assert OLD[0] not in listing and OLD_TOO[0] not in listing and "x00" not in listing
        intent_id = db.session.scalar(select(Intent.id).where(Intent.attendee_id == history["purged"][0]))
        refused = employer.post(f"/employer/intents/{intent_id}/reveal", data={}, follow_redirects=True)
        assert refused.status_code == 200 and "按保存期限清除" in refused.get_data(as_text=True)
        export = employer.post("/employer/intents/export", data={"format": "csv"})
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        export.close()
        db.session.remove()
    assert len(rows) == 1 + 6  # every intent is still on the list
    text = "\n".join(",".join(r) for r in rows)
    assert all(v not in text for v in OLD + OLD_TOO) and "（信息已按期清除）" in text


def test_purge_takes_its_period_from_the_setting(app, history):
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 800
    assert "已清除 0 位" in _purge(app)
    assert "已清除 3 位" in _purge(app, "--days", "5")  # the one seen 10 days ago too


def test_purge_drops_sign_keys_older_than_their_days(app, make_booth):
    from fairsite.intents.models import SignKey

    booth = make_booth()
    client = app.test_client()
    form = {"vacancy_id": booth.vacancies[0].id, "booth": booth.token, "step": "form", "name": "张三",
            "phone": "13800138000", "consent": "y"}
    client.post("/intents/sign", data={**form, "sign_key": "a" * 22})
    client.post("/intents/sign", data={**form, "sign_key": "b" * 22})  # the same intent again
    db.session.execute(update(SignKey).where(SignKey.key == "a" * 22).values(
        created_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    assert "已删除 1 个过期的登记去重码" in _purge(app)
    assert db.session.scalars(select(SignKey.key)).all() == ["b" * 22]
    # The old key sent again signs no second intent.
    client.post("/intents/sign", data={**form, "sign_key": "a" * 22})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Intent)) == 1
