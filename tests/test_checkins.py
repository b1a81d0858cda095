"""Entrance check-in (签到), the desk's walk-in counter, and 进场人数 on the board and report."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from fairsite.checkins.models import CheckIn, WalkIn
from fairsite.extensions import db
from fairsite.intents.models import Attendee, Device
from fairsite.tallies.models import FairEntry

FORM = {"name": "刘芳", "phone": "139 0013 9000", "consent": "y", "groups": ["returnee"]}


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def _board(client, fair) -> str:
    return "".join(client.get(f"/manage/fairs/{fair.id}/board").get_data(as_text=True).split())


def test_checkin_new_phone_shows_form_then_checked_in(client, make_fair):
    fair = make_fair()
    page = client.get(f"/fairs/{fair.id}/checkin").get_data(as_text=True)
    assert "入场签到" in page and 'name="phone"' in page and "个人信息说明" in page
    response = client.post(f"/fairs/{fair.id}/checkin", data=FORM)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/fairs/{fair.id}/checkin")
    assert "fs_device=" in response.headers["Set-Cookie"]
    page = client.get(f"/fairs/{fair.id}/checkin").get_data(as_text=True)
    assert "已签到" in page and "刘芳" in page and 'name="phone"' not in page
    attendee = db.session.scalar(select(Attendee).where(Attendee.phone == "13900139000"))
    assert attendee.group_codes == ["returnee"] and attendee.consent_version
    assert _count(CheckIn, fair_id=fair.id) == 1


def test_checkin_known_phone_is_one_tap_and_scans_count_once(client, login_as, make_fair, make_booth, make_intent):
    fair = make_fair()
    booth = make_booth(fair=fair)
    other = make_fair()
    client.post(f"/fairs/{other.id}/checkin", data=FORM)  # this phone is known from another fair
    page = client.get(f"/fairs/{fair.id}/checkin").get_data(as_text=True)
    assert "点一下就签到了" in page and 'name="phone"' not in page
    for _ in range(3):  # scanned three times
        assert client.post(f"/fairs/{fair.id}/checkin").status_code == 303
    assert "已签到" in client.get(f"/fairs/{fair.id}/checkin").get_data(as_text=True)
    attendee_id = db.session.scalar(select(Attendee.id).where(Attendee.phone == "13900139000"))
    assert _count(CheckIn, fair_id=fair.id) == 1
    # The same person signing an intent at the fair is still one person who came.
    make_intent(booth, phone="13900139000", name="刘芳")
    assert _count(FairEntry, fair_id=fair.id) == 1
    # Someone else only signed at a booth: they came too.
    make_intent(booth, phone="13700000009", name="周杰")
    login_as("organiser")
    board = _board(client, fair)
    assert 'id="tally-entered">2<' in board and "其中100%登记了意向" in board
    assert _count(FairEntry, fair_id=other.id, attendee_id=attendee_id) == 1


def test_checkin_with_htmx_swaps_the_card(hx, make_fair):
    fair = make_fair()
    response = hx.post(f"/fairs/{fair.id}/checkin", data=FORM)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<section class="card checkin-card" id="checkin-{fair.id}"')
    assert "已签到" in body and "<html" not in body


@pytest.mark.parametrize("data, message", [
    ({**FORM, "phone": "12345"}, "手机号不正确"),
    ({**FORM, "phone": "13900139000'; DROP TABLE attendees; --"}, "手机号不正确"),
    ({**FORM, "name": ""}, "请填写您的姓名"),
    ({**FORM, "name": "名" * 200}, "姓名最多 40 个字"),
    ({k: v for k, v in FORM.items() if k != "consent"}, "请勾选同意"),
])
def test_checkin_hostile_input_gets_a_message_and_changes_nothing(client, make_fair, data, message):
    fair = make_fair()
    response = client.post(f"/fairs/{fair.id}/checkin", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(Attendee) == 0 and _count(CheckIn) == 0 and _count(Device) == 0


def test_checkin_odd_groups_and_control_characters_are_cleaned(client, make_fair):
    fair = make_fair()
    data = {**FORM, "name": "刘\x00芳\u202e", "groups": ["returnee"] * 50 + ["admin", "'; DROP TABLE x"]}
    assert client.post(f"/fairs/{fair.id}/checkin", data=data).status_code == 303
    attendee = db.session.scalar(select(Attendee))
    assert attendee.name == "刘芳" and attendee.groups == "returnee"


@pytest.mark.parametrize("path", ["/fairs/999999/checkin", "/fairs/2147483648/checkin", "/fairs/abc/checkin",
                                  "/fairs/%D9%A1/checkin"])
def test_checkin_unknown_fair_is_404(client, make_fair, path):
    make_fair()
    assert client.get(path).status_code == 404
    assert client.post(path, data=FORM).status_code in (404, 405)


def test_checkin_draft_fair_is_404_and_closed_fair_refuses(client, make_fair):
    draft = make_fair(status="draft")
    assert client.get(f"/fairs/{draft.id}/checkin").status_code == 404
    closed = make_fair(status="closed")
    assert "已结束" in client.get(f"/fairs/{closed.id}/checkin").get_data(as_text=True)
    response = client.post(f"/fairs/{closed.id}/checkin", data=FORM)
    assert response.status_code == 422 and "已结束" in response.get_data(as_text=True)
    assert _count(CheckIn) == 0


def test_walk_in_counter_plus_one_and_undo(client, login_as, make_fair):
    fair = make_fair()
    login_as("organiser", staff_role="desk")
    page = client.get(f"/manage/fairs/{fair.id}/entrance").get_data(as_text=True)
    assert "+1" in page and "入口签到二维码" in page and "<svg" in page
    for _ in range(3):
        assert client.post(f"/manage/fairs/{fair.id}/entrance/walk-in").status_code == 303
    assert _count(WalkIn, fair_id=fair.id) == 3
    assert client.post(f"/manage/fairs/{fair.id}/entrance/undo").status_code == 303
    page = "".join(client.get(f"/manage/fairs/{fair.id}/entrance").get_data(as_text=True).split())
    assert 'id="entrance-total">2<' in page and 'id="entrance-walkins">2<' in page
    assert 'id="tally-entered">2<' in _board(client, fair)


def test_walk_in_htmx_returns_the_counter_fragment(client, hx, login_as, make_fair):
    fair = make_fair()
    login_as("organiser")
    body = hx.post(f"/manage/fairs/{fair.id}/entrance/walk-in").get_data(as_text=True)
    assert body.lstrip().startswith(f'<section class="card counter" id="entrance-{fair.id}"')
    assert re.search(r'id="entrance-total">\s*1<', body) and "已计入 1 人" in body


def test_undo_only_takes_back_own_recent_taps(client, app, login_as, make_fair, make_user):
    fair = make_fair()
    login_as("organiser")
    client.post(f"/manage/fairs/{fair.id}/entrance/walk-in")
    # Another desk's staff member cannot undo it.
    client.post("/logout")
    login_as("organiser", staff_role="desk")
    response = client.post(f"/manage/fairs/{fair.id}/entrance/undo")
    assert response.status_code == 303
    assert _count(WalkIn, fair_id=fair.id) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "没有可以撤销的计数" in page or _count(WalkIn, fair_id=fair.id) == 1


def test_walk_in_refused_when_fair_not_running_and_for_viewers(client, login_as, make_fair):
    closed = make_fair(status="closed")
    login_as("organiser")
    response = client.post(f"/manage/fairs/{closed.id}/entrance/walk-in")
    assert response.status_code == 422 and "不能计数" in response.get_data(as_text=True)
    assert _count(WalkIn) == 0
    assert client.post("/manage/fairs/999999/entrance/walk-in").status_code == 404
    client.post("/logout")
    login_as("organiser", staff_role="viewer")
    assert client.post(f"/manage/fairs/{closed.id}/entrance/walk-in").status_code == 403


def test_entrance_is_not_for_employers_or_the_public(client, login_as, make_fair):
    fair = make_fair()
    assert client.get(f"/manage/fairs/{fair.id}/entrance").status_code in (302, 303)
    login_as("employer")
    assert client.get(f"/manage/fairs/{fair.id}/entrance").status_code == 404
    assert client.post(f"/manage/fairs/{fair.id}/entrance/walk-in").status_code == 404


def test_desk_registration_counts_its_person_as_checked_in(client, login_as, make_fair, make_booth):
    fair = make_fair()
    booth = make_booth(fair=fair)
    login_as("organiser", staff_role="desk")
    response = client.post(f"/manage/fairs/{fair.id}/desk", data={
        "name": "孙大爷", "phone": "13600000001", "consent": "y", "vacancy": [booth.vacancies[0].id]})
    assert response.status_code == 303
    assert _count(CheckIn, fair_id=fair.id, method="desk") == 1
    assert _count(FairEntry, fair_id=fair.id) == 1


def test_live_intent_does_not_count_as_entry(app, make_fair, make_booth, make_intent):
    fair = make_fair()
    booth = make_booth(fair=fair)
    make_intent(booth, source="live")
    assert _count(FairEntry, fair_id=fair.id) == 0


def test_erasing_oneself_takes_the_person_out_of_the_headcount(client, login_as, make_fair):
    fair = make_fair()
    client.post(f"/fairs/{fair.id}/checkin", data=FORM)
    response = client.post("/me/delete", data={"confirm": "yes"})
    assert response.status_code == 303
    assert _count(CheckIn) == 0 and _count(FairEntry) == 0
    login_as("organiser")
    assert 'id="tally-entered">0<' in _board(client, fair)


def test_report_shows_headcount_and_share(client, login_as, make_fair, make_booth, make_intent):
    fair = make_fair()
    booth = make_booth(fair=fair)
    client.post(f"/fairs/{fair.id}/checkin", data=FORM)  # came, signed nothing
    make_intent(booth, phone="13700000001", groups=["poverty"])  # came and signed
    login_as("organiser")
    client.post(f"/manage/fairs/{fair.id}/entrance/walk-in")  # and one without a phone
    page = "".join(client.get(f"/manage/fairs/{fair.id}/report").get_data(as_text=True).split())
    assert '<spanclass="num">3</span><spanclass="label">进场人数（人）' in page
    assert "占进场33%" in page
    # By key group: the returnee came (1) and signed nothing; the poor person came and signed.
    assert '<td>返乡农民工</td><tdclass="n">1</td><tdclass="n">0</td>' in page
    assert '<td>脱贫人口</td><tdclass="n">1</td><tdclass="n">1</td><tdclass="n">1</td>' in page


def test_counts_fragment_follows_other_desks_and_the_gate(client, hx, login_as, make_fair):
    fair = make_fair()
    client.post(f"/fairs/{fair.id}/checkin", data=FORM)  # someone scans at the gate
    login_as("organiser", staff_role="desk")
    body = hx.get(f"/manage/fairs/{fair.id}/entrance/counts").get_data(as_text=True)
    assert body.lstrip().startswith(f'<div class="big-stats" id="entrance-counts-{fair.id}"')
    assert re.search(r'id="entrance-total">1<', body) and re.search(r'id="entrance-entered">1<', body)
    page = client.get(f"/manage/fairs/{fair.id}/entrance").get_data(as_text=True)
    assert f'sse-connect="/manage/fairs/{fair.id}/board/stream"' in page


def test_erasing_a_device_that_typed_a_known_number_drops_its_check_in(client, app, make_fair):
    fair = make_fair()
    owner = app.test_client()
    owner.post(f"/fairs/{make_fair().id}/checkin", data=FORM)  # the number's owner, elsewhere
    client.post(f"/fairs/{fair.id}/checkin", data=FORM)  # someone typed the same number here
    assert _count(CheckIn, fair_id=fair.id) == 1 and _count(FairEntry, fair_id=fair.id) == 1
    assert client.post("/me/delete", data={"confirm": "yes"}).status_code == 303
    assert _count(CheckIn, fair_id=fair.id) == 0 and _count(FairEntry, fair_id=fair.id) == 0
    assert _count(Attendee) == 1 and _count(CheckIn) == 1  # the owner and their own check-in stay


def test_fair_overview_shows_the_headcount(client, login_as, make_fair):
    fair = make_fair()
    client.post(f"/fairs/{fair.id}/checkin", data=FORM)
    login_as("organiser")
    client.post(f"/manage/fairs/{fair.id}/entrance/walk-in")
    page = "".join(client.get(f"/manage/fairs/{fair.id}").get_data(as_text=True).split())
    assert '<spanclass="num">2</span><spanclass="label">进场人数' in page
