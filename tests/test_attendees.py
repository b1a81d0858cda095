"""Attendees: the booth page a QR code opens, signing intent without an account, my intents,
deleting my data, abuse limits, and how light the booth page is."""
from __future__ import annotations

import gzip
import re
import threading

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from fairsite.booths.service import touch_booth, touch_booths_of_vacancy, touch_fair
from fairsite.extensions import db
from fairsite.intents.models import Attendee, Device, Intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.tallies import service as tallies

FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}


def sign(client, vacancy, where: dict, **form):
    data = {"vacancy_id": vacancy.id, **where, **form}
    return client.post("/intents/sign", data=data)


def first_sign(client, booth, vacancy=None, **overrides):
    vacancy = vacancy or booth.vacancies[0]
    return sign(client, vacancy, {"booth": booth.token}, **{**FORM, **overrides})


def intent_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Intent))


def active_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Intent).where(Intent.withdrawn_at.is_(None)))


# --- the booth page -----------------------------------------------------------------------

def test_public_shows_employer_booth_and_vacancies_in_large_type(client, make_booth, make_employer, make_vacancy):
    employer = make_employer(name="川南电子有限公司")
    booth = make_booth(employer=employer, number="A-12", vacancies=[
        make_vacancy(employer, title="电子装配工", pay_min=4000, pay_max=6000, headcount=30,
                     location="高新区", age_min=18, age_max=50, meals_lodging=True, social_insurance=True),
    ])
    response = client.get(f"/q/{booth.token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("川南电子有限公司", "A-12", "电子装配工", "4,000–6,000 元/月", "招 30 人", "包吃住",
                 "五险一金", "高新区", "18–50 岁", "我有意向"):
        assert text in page, text
    assert "__fs_csrf" not in page


def test_public_unknown_token_is_clear_404(client, make_booth):
    make_booth()
    response = client.get("/q/nosuchtoken")
    assert response.status_code == 404
    assert "二维码无效" in response.get_data(as_text=True)


def test_public_booth_not_approved_says_so(client, make_booth):
    booth = make_booth(status="applied")
    response = client.get(f"/q/{booth.token}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "还没有开放" in page and "我有意向" not in page


def test_public_closed_fair_says_so(client, make_booth, make_fair):
    booth = make_booth(fair=make_fair(status="closed"))
    response = client.get(f"/q/{booth.token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "本场招聘会已结束" in page and "我有意向" not in page


def test_public_follows_changes_after_touch(client, make_booth):
    booth = make_booth(vacancies=1)
    assert "岗位1" in client.get(f"/q/{booth.token}").get_data(as_text=True)
    vacancy = booth.vacancies[0]
    vacancy.title = "新的岗位名"
    touch_booths_of_vacancy(vacancy.id)
    db.session.commit()
    assert "新的岗位名" in client.get(f"/q/{booth.token}").get_data(as_text=True)
    booth.number = "Z-99"
    touch_booth(booth.id)
    db.session.commit()
    assert "Z-99" in client.get(f"/q/{booth.token}").get_data(as_text=True)
    booth.fair.status = "closed"
    touch_fair(booth.fair_id)
    db.session.commit()
    assert "本场招聘会已结束" in client.get(f"/q/{booth.token}").get_data(as_text=True)


def test_public_shows_signed_state_for_this_device_only(app, client, make_booth):
    booth = make_booth(vacancies=2)
    first_sign(client, booth)
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    assert page.count("已登记") == 1 and page.count("我有意向</button>") == 1
    other = app.test_client()
    page = other.get(f"/q/{booth.token}").get_data(as_text=True)
    assert "已登记" not in page and page.count("我有意向</button>") == 2


# --- signing: the first time ---------------------------------------------------------------

def test_sign_unknown_device_gets_short_form_with_consent_text(client, make_booth):
    booth = make_booth()
    response = sign(client, booth.vacancies[0], {"booth": booth.token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("姓名", "手机号", "返乡农民工", "高校毕业生", "脱贫人口", "就业困难人员", "退役军人",
                 "区人力资源和社会保障局", booth.employer.name, "保存 12 个月", "删除"):
        assert text in page, text
    consent = re.search(r'<input[^>]*name="consent"[^>]*>', page).group(0)
    assert "checked" not in consent
    assert intent_count() == 0


def test_sign_first_time_records_attendee_consent_device_and_intent(app, client, make_booth):
    booth = make_booth()
    response = first_sign(client, booth, groups=["returnee", "veteran"])
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/intents/done")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Max-Age=" in cookie and "fs_device=" in cookie
    attendee = db.session.scalar(select(Attendee))
    assert (attendee.name, attendee.phone, attendee.group_codes) == ("张三", "13800138000", ["returnee", "veteran"])
    assert attendee.consent_version == app.config["CONSENT_VERSION"] and attendee.consent_at is not None
    intent = db.session.scalar(select(Intent))
    assert (intent.source, intent.booth_id, intent.fair_id) == ("booth", booth.id, booth.fair_id)
    device = db.session.scalar(select(Device))
    assert device.full_access and intent.device_id == device.id
    # The cookie is signed: it does not hold the raw device token.
    assert device.token not in cookie


def test_sign_confirmation_says_what_happens_next(client, make_booth, make_employer):
    employer = make_employer(contact_name="李经理", contact_phone="0831-1234567")
    booth = make_booth(employer=employer, number="B-07")
    response = first_sign(client, booth)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("登记成功", "打电话联系您", "B-07", "李经理", "0831-1234567"):
        assert text in page, text


def test_sign_second_intent_is_one_tap(client, make_booth):
    booth = make_booth(vacancies=2)
    first_sign(client, booth)
    response = sign(client, booth.vacancies[1], {"booth": booth.token})
    assert response.status_code == 303
    assert intent_count() == 2
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 1


def test_sign_with_htmx_turns_button_into_signed_in_place(client, hx, make_booth):
    booth = make_booth(vacancies=2)
    v1, v2 = booth.vacancies
    # Unknown device: the form replaces the button, with the same id.
    body = hx.post("/intents/sign", data={"vacancy_id": v1.id, "booth": booth.token}).get_data(as_text=True)
    assert body.lstrip().startswith(f'<div class="intent-slot card first-form" id="intent-{v1.id}"')
    body = hx.post("/intents/sign", data={"vacancy_id": v1.id, "booth": booth.token, **FORM}).get_data(as_text=True)
    assert body.lstrip().startswith(f'<div class="intent-slot" id="intent-{v1.id}"')
    assert "已登记" in body and "<html" not in body and "打电话联系您" in body
    body = hx.post("/intents/sign", data={"vacancy_id": v2.id, "booth": booth.token}).get_data(as_text=True)
    assert f'id="intent-{v2.id}"' in body and "已登记" in body
    assert intent_count() == 2


@pytest.mark.parametrize("typed", ["１３８００１３８０００", "+86 138-0013-8000", "0086 13800138000",
                                   "138 0013 8000", "+86１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠",
                                   "tel:13800138000", "13800138000\u200b"])
def test_sign_normalises_phone_numbers(client, make_booth, typed):
    booth = make_booth()
    assert first_sign(client, booth, phone=typed).status_code == 303
    assert db.session.scalar(select(Attendee.phone)) == "13800138000"


BAD_TEXT = ["", "x" * 10_000, "a\x00b", "😀👍", "\u202eevil", "<script>alert(1)</script>",
            "'; DROP TABLE attendees; --", "１２３", "+86 138-0013-8000", "1380013800", "138001380001",
            "١٣٨٠٠١٣٨٠٠", "138²0013800"]


@pytest.mark.parametrize("value", BAD_TEXT, ids=range(len(BAD_TEXT)))
@pytest.mark.parametrize("field", ["name", "phone", "groups", "consent", "vacancy_id", "booth", "slot"])
def test_sign_bad_inputs_never_5xx_never_echo_unescaped_never_store_bad_phone(client, make_booth, field, value):
    booth = make_booth()
    data = {"vacancy_id": booth.vacancies[0].id, "booth": booth.token, **FORM, field: value}
    response = client.post("/intents/sign", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code < 500
    assert "<script>alert" not in page
    assert "\x00" not in page and "\u202e" not in page
    for phone in db.session.scalars(select(Attendee.phone)):
        assert re.fullmatch(r"1[3-9]\d{9}", phone)
    if field == "phone" and value != "+86 138-0013-8000":
        assert intent_count() == 0
        if value:
            assert "手机号不正确" in page
            if "\x00" not in value and "\u202e" not in value:
                assert str(escape(value)) in page  # what was typed is kept, escaped
        else:
            assert "请填写手机号" in page


def test_sign_bad_phone_keeps_everything_typed_and_stores_nothing(client, make_booth):
    booth = make_booth()
    response = first_sign(client, booth, name="王大姐", phone="138-0013-800", groups=["poverty"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "手机号不正确" in page and 'value="138-0013-800"' in page and 'value="王大姐"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="poverty"|<input[^>]*value="poverty"[^>]*checked', page)
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0


def test_sign_without_consent_is_refused(client, make_booth):
    booth = make_booth()
    data = {**FORM}
    data.pop("consent")
    response = sign(client, booth.vacancies[0], {"booth": booth.token}, **data)
    assert "请勾选同意" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0


def test_sign_twice_gives_one_intent_and_same_confirmation(client, hx, make_booth):
    booth = make_booth()
    first = first_sign(client, booth)
    again = sign(client, booth.vacancies[0], {"booth": booth.token})
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    a = hx.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token})
    b = hx.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token})
    assert a.get_data() == b.get_data()
    assert intent_count() == 1
    assert tallies.read(f"fair:{booth.fair_id}")["intents"][""] == 1


def test_sign_retry_of_first_form_from_a_new_device_gives_one_intent(app, make_booth):
    booth = make_booth()
    # The response (and its cookie) was lost: the phone posts the same form again.
    first_sign(app.test_client(), booth)
    retry = first_sign(app.test_client(), booth)
    assert retry.status_code == 303
    assert intent_count() == 1


def test_sign_existing_phone_on_new_device_records_but_hides_history(app, client, make_booth, make_fair):
    fair = make_fair()
    b1, b2 = make_booth(fair=fair), make_booth(fair=fair)
    first_sign(client, b1, name="本人")
    stranger = app.test_client()
    assert first_sign(stranger, b2, name="冒名").status_code == 303
    assert intent_count() == 2
    # The attendee's details are not changed by someone typing their number.
    assert db.session.scalar(select(Attendee.name)) == "本人"
    me = stranger.get("/me").get_data(as_text=True)
    assert b2.vacancies[0].employer.name in me
    assert b1.vacancies[0].employer.name not in me
    assert "本人" not in me and "138****8000" not in me
    # The booth page on that device does not reveal the earlier intent either.
    assert "已登记" not in stranger.get(f"/q/{b1.token}").get_data(as_text=True)
    # The owner's device sees both.
    mine = client.get("/me").get_data(as_text=True)
    assert b1.vacancies[0].employer.name in mine and b2.vacancies[0].employer.name in mine


def test_sign_from_fair_page_records_source_fair(client, make_booth):
    booth = make_booth()
    page = client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert "我有意向" in page and f'name="fair" value="{booth.fair_id}"' in page
    assert sign(client, booth.vacancies[0], {"fair": booth.fair_id}, **FORM).status_code == 303
    intent = db.session.scalar(select(Intent))
    assert (intent.source, intent.fair_id, intent.booth_id) == ("fair", booth.fair_id, booth.id)


def _live(booth, status="live", with_item=True):
    session = LiveSession(title="直播带岗", fair_id=booth.fair_id, status=status)
    db.session.add(session)
    db.session.flush()
    if with_item:
        db.session.add(LiveItem(session_id=session.id, vacancy_id=booth.vacancies[0].id, position=0))
    db.session.commit()
    return session


def test_sign_from_live_session_records_source_live(client, make_booth):
    booth = make_booth()
    session = _live(booth)
    assert sign(client, booth.vacancies[0], {"live": session.id}, **FORM).status_code == 303
    intent = db.session.scalar(select(Intent))
    assert (intent.source, intent.live_session_id, intent.fair_id) == ("live", session.id, booth.fair_id)
    assert tallies.read(f"live:{session.id}")["intents"][""] == 1


def test_sign_live_vacancy_not_in_running_order_is_404(client, make_booth):
    booth = make_booth()
    session = _live(booth, with_item=False)
    assert sign(client, booth.vacancies[0], {"live": session.id}, **FORM).status_code == 404


@pytest.mark.parametrize("status", ["scheduled", "ended"])
def test_sign_live_session_not_live_says_so(client, make_booth, status):
    booth = make_booth()
    session = _live(booth, status=status)
    response = sign(client, booth.vacancies[0], {"live": session.id}, **FORM)
    assert response.status_code == 200 and "直播" in response.get_data(as_text=True)
    assert intent_count() == 0


def test_sign_needs_exactly_one_place(client, make_booth):
    booth = make_booth()
    v = booth.vacancies[0]
    assert sign(client, v, {}, **FORM).status_code == 404
    assert sign(client, v, {"booth": booth.token, "fair": booth.fair_id}, **FORM).status_code == 404


def test_sign_vacancy_not_at_this_booth_is_404(client, make_booth, make_vacancy):
    booth = make_booth()
    assert sign(client, make_vacancy(), {"booth": booth.token}, **FORM).status_code == 404


def test_sign_closed_fair_is_refused_clearly(client, make_booth, make_fair):
    booth = make_booth(fair=make_fair(status="closed"))
    response = first_sign(client, booth)
    assert response.status_code == 200 and "已结束" in response.get_data(as_text=True)
    assert intent_count() == 0


def test_sign_publishes_intent_changed_after_commit(client, make_booth, monkeypatch):
    from fairsite import events

    calls = []
    monkeypatch.setattr(events, "intent_changed", lambda *a: calls.append(a))
    booth = make_booth()
    first_sign(client, booth)
    first_sign(client, booth)  # the same intent again: nothing changed
    assert calls == [(booth.fair_id, None, booth.employer_id)]


# --- my intents ----------------------------------------------------------------------------

def test_me_without_device_shows_nothing_personal(client, make_booth):
    first_sign(client.application.test_client(), make_booth())
    page = client.get("/me").get_data(as_text=True)
    assert "还没有登记" in page and "张三" not in page


def test_me_lists_and_withdraw_keeps_record(client, hx, make_booth):
    booth = make_booth(vacancies=2)
    first_sign(client, booth)
    sign(client, booth.vacancies[1], {"booth": booth.token})
    page = client.get("/me").get_data(as_text=True)
    assert "岗位1" in page and "岗位2" in page and "138****8000" in page
    intent = db.session.scalar(select(Intent).where(Intent.vacancy_id == booth.vacancies[0].id))
    body = hx.post(f"/me/intents/{intent.id}/withdraw").get_data(as_text=True)
    assert body.lstrip().startswith(f'<li class="card my-intent withdrawn" id="my-intent-{intent.id}"')
    assert "已撤回" in body
    db.session.expire_all()
    assert intent_count() == 2 and active_count() == 1
    assert tallies.read(f"fair:{booth.fair_id}")["intents"][""] == 1
    # The booth page offers the withdrawn one again.
    assert client.get(f"/q/{booth.token}").get_data(as_text=True).count("已登记") == 1


def test_withdraw_someone_elses_intent_is_404(app, client, make_booth):
    booth = make_booth()
    first_sign(app.test_client(), booth, phone="13900139000")
    intent = db.session.scalar(select(Intent))
    first_sign(client, make_booth())
    assert client.post(f"/me/intents/{intent.id}/withdraw").status_code == 404
    assert app.test_client().post(f"/me/intents/{intent.id}/withdraw").status_code == 404
    assert active_count() == 2


def test_delete_me_needs_confirmation_then_erases_everything(client, make_booth):
    booth = make_booth(vacancies=2)
    first_sign(client, booth)
    sign(client, booth.vacancies[1], {"booth": booth.token})
    assert "删除后不能恢复" in client.get("/me/delete").get_data(as_text=True)
    response = client.post("/me/delete", data={})
    assert "请先勾选" in response.get_data(as_text=True) and intent_count() == 2
    response = client.post("/me/delete", data={"confirm": "yes"})
    assert response.status_code == 303
    assert "fs_device=;" in response.headers["Set-Cookie"]
    assert intent_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0
    assert db.session.scalar(select(func.count()).select_from(Device)) == 0
    counts = tallies.read(f"fair:{booth.fair_id}")
    assert counts["intents"][""] == 0 and counts["attendees"][""] == 0
    assert "已删除" in client.get("/me").get_data(as_text=True)


def test_delete_me_from_device_that_typed_existing_number_keeps_owner_data(app, client, make_booth, make_fair):
    fair = make_fair()
    b1, b2 = make_booth(fair=fair), make_booth(fair=fair)
    first_sign(client, b1)
    stranger = app.test_client()
    first_sign(stranger, b2)
    assert stranger.post("/me/delete", data={"confirm": "yes"}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 1
    assert [i.vacancy_id for i in db.session.scalars(select(Intent))] == [b1.vacancies[0].id]
    assert tallies.read(f"fair:{fair.id}")["intents"][""] == 1


def test_no_page_shows_data_by_phone_number(client, make_booth):
    first_sign(client.application.test_client(), make_booth())
    for url in ("/me?phone=13800138000", "/me/13800138000", "/intents?phone=13800138000"):
        assert "张三" not in client.get(url).get_data(as_text=True)


# --- abuse limits --------------------------------------------------------------------------

@pytest.fixture
def small_limits(app):
    app.config.update(INTENT_LIMIT_PER_PHONE="3 per hour", INTENT_LIMIT_PER_DEVICE="3 per hour",
                      INTENT_LIMIT_PER_IP="5 per hour")


def test_sign_limit_per_device_gives_clear_message(client, small_limits, make_booth):
    booth = make_booth(vacancies=5)
    first_sign(client, booth)
    for v in booth.vacancies[1:3]:
        assert sign(client, v, {"booth": booth.token}).status_code == 303
    response = sign(client, booth.vacancies[3], {"booth": booth.token})
    assert response.status_code == 429 and "太频繁" in response.get_data(as_text=True)
    assert intent_count() == 3
    # Signing one already signed still confirms, limit or not.
    assert sign(client, booth.vacancies[0], {"booth": booth.token}).status_code == 303


def test_sign_limit_per_phone_across_devices(app, small_limits, make_booth):
    booth = make_booth(vacancies=4)
    for v in booth.vacancies[:3]:
        assert first_sign(app.test_client(), booth, v).status_code == 303
    assert first_sign(app.test_client(), booth, booth.vacancies[3]).status_code == 429


def test_sign_limit_per_ip_is_loose_but_holds(app, small_limits, make_booth):
    booth = make_booth(vacancies=6)
    codes = [first_sign(app.test_client(), booth, v, phone=f"1390013900{i}").status_code
             for i, v in enumerate(booth.vacancies)]
    assert codes == [303] * 5 + [429]


# --- concurrency ---------------------------------------------------------------------------

@pytest.fixture
def app_config(tmp_path):
    return {"INTENT_LIMIT_PER_PHONE": "1000 per hour", "INTENT_LIMIT_PER_DEVICE": "1000 per hour"}


def test_sign_same_intent_from_50_threads_gives_one_row(app, make_booth):
    booth = make_booth()
    vacancy_id, token = booth.vacancies[0].id, booth.token
    db.session.commit()
    barrier = threading.Barrier(50)
    codes = []

    def worker():
        client = app.test_client()
        barrier.wait()
        with app.app_context():
            r = client.post("/intents/sign", data={"vacancy_id": vacancy_id, "booth": token, **FORM})
            codes.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [303] * 50
    db.session.expire_all()
    assert intent_count() == 1
    assert db.session.scalar(select(func.count()).select_from(Attendee)) == 1
    assert tallies.read("all")["intents"][""] == 1


# --- lightness -----------------------------------------------------------------------------

def test_public_first_load_is_under_40_kb_compressed_and_local(client, make_booth):
    booth = make_booth(vacancies=8)
    html = client.get(f"/q/{booth.token}").get_data(as_text=True)
    resources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert all(r.startswith("/") or r.startswith("data:") for r in resources), resources
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    total = len(gzip.compress(html.encode()))
    for url in resources:
        if url.startswith("data:"):
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        total += len(gzip.compress(response.data))
        response.close()
    assert total <= 40 * 1024, total


def test_sign_limits_are_shared_through_redis(app, database_url, make_booth):
    """With Redis configured, a second server process sees the first one's count."""
    import os
    import uuid

    from fairsite.app import create_app
    from tests.conftest import base_config

    redis_url = os.environ.get("FAIRSITE_TEST_REDIS_URL", "")
    if not redis_url:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail("FAIRSITE_TEST_REDIS_URL must be set in CI")
        pytest.skip("Redis not configured: set FAIRSITE_TEST_REDIS_URL")
    booth = make_booth(vacancies=3)
    token, vacancy_ids = booth.token, [v.id for v in booth.vacancies]
    db.session.commit()
    config = {**base_config(database_url), "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url,
              "RATELIMIT_KEY_PREFIX": f"fairsite-test-{uuid.uuid4().hex[:8]}",
              "INTENT_LIMIT_PER_PHONE": "2 per hour"}

    def post(vacancy_id):
        process = create_app(config)  # a fresh app, as another server process would be
        with process.app_context():
            response = process.test_client().post(
                "/intents/sign", data={"vacancy_id": vacancy_id, "booth": token, **FORM})
            db.session.remove()
            db.engine.dispose()
            return response.status_code

    assert [post(v) for v in vacancy_ids] == [303, 303, 429]
