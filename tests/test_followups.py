"""Follow-up to hire: the statuses bureaus count, the employer's "waited too long" count, the
organiser's person search and file (一人一档, logged), follow-up notes, the call list at the hour
boundary, the real-name register (xlsx read back), and the ranking of employers who have not
called. Time is the one clock's (fairsite.clock.utcnow), set by the tests."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fairsite import clock
from fairsite.audit.models import AuditEntry
from fairsite.checkins.models import CheckIn
from fairsite.extensions import db
from fairsite.followups.models import FollowUp
from fairsite.intents.models import Intent
from fairsite.intents.service import purge_attendees, set_status, withdraw
from fairsite.live.models import LiveSession
from fairsite.sql import write_transaction

T0 = datetime(2026, 3, 3, 2, 0, 0)  # 10:00 in Beijing, the fair's morning
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def now(monkeypatch):
    """Set the clock: now(t) makes t the present for every page that asks fairsite.clock
    (T0 + 100 h unless a test says otherwise)."""
    def set_now(t: datetime) -> datetime:
        monkeypatch.setattr(clock, "utcnow", lambda: t)
        return t

    set_now(T0 + 100 * HOUR)
    return set_now


@pytest.fixture
def organiser(login_as):
    return login_as("organiser", name="回访员小李")


def _status(intent: Intent, status: str, at: datetime) -> None:
    with write_transaction():
        set_status(db.session.get(Intent, intent.id), status, now=at)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def _queue_names(client) -> set[str]:
    page = client.get("/manage/followups").get_data(as_text=True)
    return {n for n in ("困难甲", "困难乙", "脱贫丙", "返乡丁", "困难戊") if f">{n}</a>" in page}


# ---- statuses -------------------------------------------------------------------------------

def test_status_takes_every_shared_code_and_records_first_contact_once(client, login_as, make_booth, make_intent, now):
    user = login_as("employer")
    booth = make_booth(employer=user.employer)
    intent = make_intent(booth, now=T0)
    page = client.get("/employer/intents").get_data(as_text=True)
    for label in ("待联系", "已联系", "已面试", "现场签约", "已录用", "已到岗", "不合适", "未到岗"):
        assert label in page
    now(T0 + 5 * HOUR)
    assert client.post(f"/employer/intents/{intent.id}/status", data={"status": "contacted"}).status_code == 303
    now(T0 + 30 * HOUR)
    for status in ("signed", "onboard", "no_show"):
        client.post(f"/employer/intents/{intent.id}/status", data={"status": status})
    db.session.expire_all()
    intent = db.session.get(Intent, intent.id)
    assert intent.status == "no_show"
    assert intent.contacted_at == T0 + 5 * HOUR  # the first contact, not the last change


def test_database_refuses_a_status_outside_the_codes(app, make_booth, make_intent):
    intent = make_intent(make_booth())
    intent.status = "married"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_employer_dashboard_counts_people_waiting_too_long_and_links_to_them(client, login_as, make_booth, make_intent, now):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=2)
    v1, v2 = booth.vacancies
    make_intent(booth, v1, name="久等一", phone="13800000001", now=T0)
    make_intent(booth, v2, name="久等一", phone="13800000001", now=T0)  # one person, counted once
    make_intent(booth, v1, name="久等二", phone="13800000002", now=T0 + 51 * HOUR)
    make_intent(booth, v1, name="刚登记", phone="13800000003", now=T0 + 99 * HOUR)
    called = make_intent(booth, v1, name="已打过", phone="13800000004", now=T0)
    _status(called, "contacted", T0 + HOUR)
    gone = make_intent(booth, v1, name="撤回了", phone="13800000005", now=T0)
    withdraw(gone.id, gone.attendee_id)

    page = client.get("/employer").get_data(as_text=True)
    assert "2 人已等待超过 48 小时还没有联系" in page
    assert "/employer/intents?status=overdue" in page
    listed = client.get("/employer/intents?status=overdue").get_data(as_text=True)
    assert "久等一" in listed and "久等二" in listed
    assert "刚登记" not in listed and "已打过" not in listed and "撤回了" not in listed


def test_employer_dashboard_follows_the_configured_hours(app, client, login_as, make_booth, make_intent, now):
    app.config["FOLLOW_UP_HOURS"] = 120
    user = login_as("employer")
    make_intent(make_booth(employer=user.employer), now=T0)
    page = client.get("/employer").get_data(as_text=True)
    assert "已等待超过" not in page and "超过 120 小时未联系" in page


def test_employer_export_has_the_new_labels_and_first_contact(client, login_as, make_booth, make_intent, now):
    user = login_as("employer")
    intent = make_intent(make_booth(employer=user.employer), now=T0)
    _status(intent, "signed", T0 + 2 * HOUR)
    response = client.post("/employer/intents/export", data={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[9:12] == ["跟进状态", "首次联系时间", "备注"]
    assert rows[1][9] == "现场签约" and rows[1][10] == "2026-03-03 12:00"


# ---- search and the person's file -----------------------------------------------------------

def test_people_search_by_name_prefix_and_by_phone_each_logged(client, organiser, make_booth, make_intent):
    booth = make_booth()
    make_intent(booth, name="张三", phone="13800138000")
    make_intent(booth, name="张三丰", phone="13900139000")
    make_intent(booth, name="李四", phone="13700137000")

    page = client.get("/manage/people?q=张三").get_data(as_text=True)
    assert "张三丰" in page and "<strong>张三</strong>" in page and "李四" not in page
    assert "138****8000" in page and "13800138000" not in page  # a list masks numbers
    page = client.get("/manage/people?q=+86 138-0013-8000").get_data(as_text=True)
    assert "<strong>张三</strong>" in page and "张三丰" not in page

    searches = _audit("people.search")
    assert [e.detail for e in searches] == ["name=张三 results=2", "phone=****8000 results=1"]
    assert all(e.user_id == organiser.id for e in searches)


@pytest.mark.parametrize("q, message", [
    ("1380013", "手机号不完整"),
    ("%", "请输入姓名"),
    ("张*", "请输入姓名"),
    ("张" * 41, "请输入姓名"),
])
def test_people_search_explains_unusable_input_and_logs_nothing(client, organiser, make_booth, make_intent, q, message):
    make_intent(make_booth(), name="张三", phone="13800138000")
    response = client.get("/manage/people", query_string={"q": q})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "<strong>张三</strong>" not in page
    assert _audit("people.search") == []


def test_people_search_hostile_text_is_shown_as_text(client, organiser, hx):
    body = hx.get("/manage/people", query_string={"q": "<script>alert(1)</script>\x00"}).get_data(as_text=True)
    assert "<script>alert(1)" not in body and "没有找到" in body
    assert body.lstrip().startswith('<section id="people-results"')  # the fragment for htmx


def test_people_search_does_not_find_erased_people(client, organiser, make_booth, make_intent):
    intent = make_intent(make_booth(), name="张三", phone="13800138000")
    with write_transaction():
        purge_attendees([intent.attendee_id])
    assert "<strong>张三</strong>" not in client.get("/manage/people?q=张三").get_data(as_text=True)


def test_person_file_shows_checkins_intents_notes_across_fairs_and_live_and_is_logged(
        client, organiser, make_booth, make_fair, make_intent, make_vacancy, now):
    fair = make_fair(title="春风行动公园招聘会")
    booth = make_booth(fair=fair, number="B-07")
    intent = make_intent(booth, name="王小明", phone="13800138000", groups=("difficulty",), now=T0)
    _status(intent, "interviewed", T0 + 20 * HOUR)
    db.session.get(Intent, intent.id).note = "周三来面试"
    live_vacancy = make_vacancy(title="仓库管理员")
    session = LiveSession(title="高新区直播带岗", status="live", employer_id=live_vacancy.employer_id)
    db.session.add(session)
    db.session.add(CheckIn(fair_id=fair.id, attendee_id=intent.attendee_id, method="self", created_at=T0))
    db.session.commit()
    make_intent(vacancy=live_vacancy, phone="13800138000", source="live", live_session_id=session.id, now=T0 + HOUR)

    response = client.get(f"/manage/people/{intent.attendee_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "王小明" in page and 'href="tel:13800138000"' in page and "就业困难人员" in page
    assert "签到记录" in page and "入口扫码" in page
    assert "春风行动公园招聘会" in page and "B-07" in page and "已面试" in page and "20 小时后联系" in page
    assert "周三来面试" in page
    assert "高新区直播带岗" in page and "仓库管理员" in page and "已等 99 小时" in page
    views = _audit("people.view")
    assert [(v.obj_type, v.obj_id, v.user_id) for v in views] == [("attendee", intent.attendee_id, organiser.id)]


def test_person_file_of_nobody_is_404(client, organiser):
    assert client.get("/manage/people/999999").status_code == 404
    assert client.get("/manage/people/99999999999").status_code == 404
    assert client.get("/manage/people/%D9%A1").status_code == 404
    assert client.post("/manage/people/999999/followups", data={"outcome": "x"}).status_code == 404
    assert _audit("people.view") == []


def test_followup_note_added_from_the_file_with_who_and_when(client, organiser, make_booth, make_intent, now):
    intent = make_intent(make_booth(), name="王小明", now=T0)
    url = f"/manage/people/{intent.attendee_id}/followups"
    response = client.post(url, data={"outcome": "  已电话联系\x00，本人下周<b>面试</b>  "})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/manage/people/{intent.attendee_id}")
    page = client.get(f"/manage/people/{intent.attendee_id}").get_data(as_text=True)
    assert "已电话联系，本人下周&lt;b&gt;面试&lt;/b&gt;" in page and "回访员小李" in page
    assert "2026-03-07 14:00" in page  # T0 + 100 h, Beijing time
    note = db.session.scalar(select(FollowUp))
    assert note.user_id == organiser.id and note.created_at == T0 + 100 * HOUR
    [entry] = _audit("followup.add")
    assert entry.obj_id == intent.attendee_id and "面试" not in entry.detail  # the words stay out of the log


@pytest.mark.parametrize("outcome, message", [
    ("", "请填写回访结果"),
    ("   \x00\x01 ", "请填写回访结果"),
    ("长" * 201, "回访结果最多 200 个字"),
])
def test_followup_note_refused_keeps_what_was_typed_and_changes_nothing(client, hx, organiser, make_booth, make_intent, outcome, message):
    intent = make_intent(make_booth())
    url = f"/manage/people/{intent.attendee_id}/followups"
    response = client.post(url, data={"outcome": outcome})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    fragment = hx.post(url, data={"outcome": outcome})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and body.lstrip().startswith('<section id="followup-notes"')
    assert message in body
    if len(outcome) > 200:
        assert 'value="' + "长" * 201 in body
    assert db.session.scalar(select(FollowUp)) is None and _audit("followup.add") == []


def test_followup_note_about_an_erased_person_is_refused(client, organiser, make_booth, make_intent):
    intent = make_intent(make_booth())
    with write_transaction():
        purge_attendees([intent.attendee_id])
    response = client.post(f"/manage/people/{intent.attendee_id}/followups", data={"outcome": "打过电话"})
    assert response.status_code == 422 and "已按保存期限清除" in response.get_data(as_text=True)
    assert db.session.scalar(select(FollowUp)) is None


def test_purge_erases_the_words_of_followup_notes(client, organiser, make_booth, make_intent):
    intent = make_intent(make_booth())
    client.post(f"/manage/people/{intent.attendee_id}/followups", data={"outcome": "本人说在外地打工"})
    with write_transaction():
        purge_attendees([intent.attendee_id])
    note = db.session.scalar(select(FollowUp))
    assert note.outcome == "" and note.user_id == organiser.id


# ---- the call list --------------------------------------------------------------------------

@pytest.fixture
def people(make_booth, make_intent):
    """Five people who signed at T0: three in the call-list groups, one returnee, and one in
    a group whose intents have moved on."""
    booth = make_booth(vacancies=2)
    v1, v2 = booth.vacancies
    sign = lambda name, phone, groups, v=v1, **kw: make_intent(booth, v, name=name, phone=phone, groups=groups, now=T0, **kw)  # noqa: E731
    out = {
        "困难甲": [sign("困难甲", "13800000001", ("difficulty",)), sign("困难甲", "13800000001", ("difficulty",), v2)],
        "困难乙": [sign("困难乙", "13800000002", ("difficulty", "returnee"))],
        "脱贫丙": [sign("脱贫丙", "13800000003", ("poverty",))],
        "返乡丁": [sign("返乡丁", "13800000004", ("returnee",))],
        "困难戊": [sign("困难戊", "13800000005", ("difficulty",))],
    }
    _status(out["困难戊"][0], "contacted", T0 + HOUR)
    return out


def test_call_list_takes_people_once_they_have_waited_more_than_the_hours(client, organiser, people, now):
    now(T0 + 47 * HOUR + timedelta(minutes=59))
    assert _queue_names(client) == set()
    now(T0 + 48 * HOUR)
    assert _queue_names(client) == set()  # exactly 48 hours is not more than 48
    now(T0 + 48 * HOUR + timedelta(seconds=1))
    assert _queue_names(client) == {"困难甲", "困难乙", "脱贫丙"}  # not the returnee, not the one called


def test_call_list_waits_for_the_newest_intent_and_drops_anyone_contacted_anywhere(
        client, organiser, people, make_booth, make_intent, now):
    make_intent(make_booth(), name="脱贫丙", phone="13800000003", now=T0 + 40 * HOUR)
    _status(people["困难甲"][1], "contacted", T0 + 10 * HOUR)
    now(T0 + 60 * HOUR)
    assert _queue_names(client) == {"困难乙"}
    now(T0 + 88 * HOUR + timedelta(seconds=1))
    assert _queue_names(client) == {"困难乙", "脱贫丙"}


def test_call_list_takes_people_turned_down_everywhere_at_once(client, organiser, people, now):
    now(T0 + 2 * HOUR)
    _status(people["困难戊"][0], "unsuitable", T0 + 2 * HOUR)
    _status(people["困难甲"][0], "unsuitable", T0 + 2 * HOUR)  # the other is still 待联系
    page = client.get("/manage/followups").get_data(as_text=True)
    assert _queue_names(client) == {"困难戊"}
    assert "所有企业都回复不合适或未到岗" in page
    _status(people["困难甲"][1], "no_show", T0 + 2 * HOUR)
    assert _queue_names(client) == {"困难戊", "困难甲"}


def test_call_list_ignores_withdrawn_intents_and_follows_configured_groups(app, client, organiser, people, now):
    withdraw(people["困难乙"][0].id, people["困难乙"][0].attendee_id)
    assert _queue_names(client) == {"困难甲", "脱贫丙"}
    app.config["CALL_LIST_GROUPS"] = ("returnee", "no-such-group")
    assert _queue_names(client) == {"返乡丁"}


def test_call_list_outcome_takes_the_person_off_until_their_intents_change(client, hx, organiser, people, make_booth, make_intent, now):
    person = people["脱贫丙"][0].attendee_id
    body = hx.post(f"/manage/people/{person}/followups", data={"outcome": "已提醒企业联系", "from": "queue"}).get_data(as_text=True)
    assert f'id="queue-person-{person}"' in body and "已记录回访，移出队列" in body
    assert '<span id="followup-queue-total" class="muted small-title" hx-swap-oob=true>共 2 人</span>' in body
    assert _queue_names(client) == {"困难甲", "困难乙"}
    # A new intent is a change; once it too has waited 48 hours, the person is back.
    make_intent(make_booth(), name="脱贫丙", phone="13800000003", now=T0 + 101 * HOUR)
    now(T0 + 149 * HOUR + timedelta(seconds=1))
    assert _queue_names(client) == {"困难甲", "困难乙", "脱贫丙"}
    # And the register counts the call back.
    assert "已提醒企业联系" in client.get(f"/manage/people/{person}").get_data(as_text=True)


def test_call_list_outcome_refused_without_js_shows_the_list_with_the_error(client, organiser, people):
    person = people["困难乙"][0].attendee_id
    response = client.post(f"/manage/people/{person}/followups", data={"outcome": " ", "from": "queue"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写回访结果" in page and "回访队列" in page
    assert _queue_names(client) == {"困难甲", "困难乙", "脱贫丙"}


def test_call_list_outcome_without_js_redirects_to_the_list(client, organiser, people):
    person = people["困难乙"][0].attendee_id
    response = client.post(f"/manage/people/{person}/followups", data={"outcome": "已上班", "from": "queue"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/followups")
    assert _queue_names(client) == {"困难甲", "脱贫丙"}


def test_call_list_shows_intents_and_masked_phones(client, organiser, people, now):
    page = client.get("/manage/followups").get_data(as_text=True)
    assert "138****0001" in page and "13800000001" not in page
    assert "岗位1" in page and "岗位2" in page and "已等 100 小时无人联系" in page
    assert "就业困难人员、脱贫人口" in page


# ---- the real-name register -----------------------------------------------------------------

def _register(client, scope: str) -> list[tuple]:
    response = client.post("/manage/followups/export", data={"scope": scope})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_register_has_the_bureau_columns_and_each_person_once(client, organiser, people, make_booth, make_intent):
    make_intent(make_booth(), name="=HYPERLINK(1)", phone="13800000009", groups=("poverty",), now=T0)
    client.post(f"/manage/people/{people['困难乙'][0].attendee_id}/followups", data={"outcome": "已在别处上班"})
    rows = _register(client, "queue")
    assert rows[0] == ("姓名", "手机号", "重点群体", "户籍/家乡", "登记招聘会", "意向企业及岗位", "状态",
                       "回访时间", "回访人", "回访结果")
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"困难甲", "脱贫丙", "'=HYPERLINK(1)"}
    first = by_name["困难甲"]
    assert first[1] == "13800000001" and first[2] == "就业困难人员"
    assert first[4].startswith("测试招聘会")
    assert first[5].count("\n") == 1 and "岗位1" in first[5] and "岗位2" in first[5] and " — " in first[5]
    assert first[6] == "待联系\n待联系" and first[7] is None

    everyone = {r[0]: r for r in _register(client, "all")[1:]}
    assert set(everyone) == {"困难甲", "困难乙", "脱贫丙", "'=HYPERLINK(1)"}
    called = everyone["困难乙"]
    assert called[7] == "2026-03-07 14:00" and called[8] == "回访员小李" and called[9] == "已在别处上班"
    assert [e.detail for e in _audit("followups.export")] == ["scope=queue rows=3", "scope=all rows=4"]


def test_register_refuses_an_unknown_scope(client, organiser):
    assert client.post("/manage/followups/export", data={"scope": "../x"}).status_code == 400
    assert _audit("followups.export") == []


# ---- employers who have not called ----------------------------------------------------------

def test_slow_employers_ranked_by_people_overdue_then_the_longest_wait(client, organiser, make_booth, make_employer, make_intent, now):
    fast = make_booth(employer=make_employer(name="快回电厂", contact_phone="0813-1234567"))
    many = make_booth(employer=make_employer(name="两人未联系厂", contact_name="刘经理", contact_phone="13912345678"))
    oldest = make_booth(employer=make_employer(name="一人久等厂"))
    fresh = make_booth(employer=make_employer(name="刚有人报名厂"))
    make_intent(many, phone="13800000001", now=T0 + 40 * HOUR)
    make_intent(many, phone="13800000002", now=T0 + 45 * HOUR)
    make_intent(oldest, phone="13800000003", now=T0)
    make_intent(fresh, phone="13800000004", now=T0 + 90 * HOUR)
    _status(make_intent(fast, phone="13800000005", now=T0), "contacted", T0 + HOUR)

    page = client.get("/manage/followups/employers").get_data(as_text=True)
    order = [page.index(name) for name in ("两人未联系厂", "一人久等厂", "刚有人报名厂")]
    assert order == sorted(order)
    assert "快回电厂" not in page
    assert 'href="tel:13912345678"' in page and "刘经理" in page
    compact = "".join(page.split())
    assert '<tdclass="nnum-celloverdue">2</td><tdclass="n">2</td><tdclass="n">60</td>' in compact
    assert '<tdclass="nnum-celloverdue">1</td><tdclass="n">1</td><tdclass="n">100</td>' in compact
    assert '<tdclass="nnum-cell">0</td><tdclass="n">1</td><tdclass="n">10</td>' in compact


# ---- who may open these pages ---------------------------------------------------------------

ROUTES = [
    ("get", "/manage/people?q=张三"), ("get", "/manage/people/{id}"),
    ("post", "/manage/people/{id}/followups"), ("get", "/manage/followups"),
    ("post", "/manage/followups/export"), ("get", "/manage/followups/employers"),
]


@pytest.mark.parametrize("method, path", ROUTES)
def test_employers_and_anonymous_cannot_reach_followups(client, login_as, make_booth, make_intent, method, path):
    intent = make_intent(make_booth(), name="张三", groups=("difficulty",), now=T0)
    url = path.format(id=intent.attendee_id)
    data = {"outcome": "x", "scope": "all"} if method == "post" else None
    anonymous = getattr(client, method)(url, data=data)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    login_as("employer")
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 404 and "张三" not in response.get_data(as_text=True)
    assert db.session.scalar(select(FollowUp)) is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("people.%"))) is None


@pytest.mark.parametrize("role", ["desk", "viewer"])
def test_organisers_other_than_admin_are_refused(client, login_as, make_booth, make_intent, role):
    intent = make_intent(make_booth(), name="张三", now=T0)
    login_as("organiser", staff_role=role)
    for method, path in ROUTES:
        response = getattr(client, method)(path.format(id=intent.attendee_id), data={"outcome": "x"} if method == "post" else None)
        assert response.status_code == 403, path
    assert db.session.scalar(select(FollowUp)) is None


def test_organiser_nav_links_to_the_follow_up(client, organiser):
    assert 'href="/manage/followups"' in client.get("/manage/followups/employers").get_data(as_text=True)


def test_call_list_outcome_refused_for_someone_who_left_the_list_says_so(client, hx, organiser, people):
    person = people["困难戊"][0].attendee_id  # contacted: not on the list
    body = hx.post(f"/manage/people/{person}/followups", data={"outcome": "", "from": "queue"}).get_data(as_text=True)
    assert f'id="queue-person-{person}"' in body and "已不在回访队列中" in body and "请填写回访结果" in body
    assert db.session.scalar(select(FollowUp)) is None
