"""Text messages: the Aliyun backend against a local server that checks requests as the
service does, the outbox (statuses, retries, idempotency, daily cap, monthly budget), the
queue with a real consumer process, the organiser's outbox page, and the uses: interview
invitations from the employer's list (and on /me) and the desk receipt."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from fairsite.clock import CST, utcnow
from fairsite.extensions import db
from fairsite.intents.models import Intent
from fairsite.sms import queue, service
from fairsite.sms.gateway import AliyunGateway, ConsoleGateway, SmsError
from fairsite.sms.models import Invitation, Message
from fairsite.sql import write_transaction
from tests.aliyun_server import AliyunSmsServer
from tests.test_attendees import first_sign

KEY_ID, SECRET, SIGN = "LTAI5tTestKeyId", "test-secret-0123456789", "区就业服务"
TEMPLATES = {"SMS_1001": service.TEMPLATES["invite"][1], "SMS_1002": service.TEMPLATES["desk"][1],
             "SMS_1003": service.TEMPLATES["push"][1], "SMS_1004": service.TEMPLATES["digest"][1]}
INVITE = {"on_date": "", "at_time": "09:30", "place": "高新区创业路8号三楼", "contact": "王经理 0833-1234567"}


@pytest.fixture
def provider():
    with AliyunSmsServer({KEY_ID: SECRET}, {SIGN}, TEMPLATES) as server:
        yield server


@pytest.fixture
def app_config(provider, tmp_path):
    return {
        "SMS_BACKEND": "aliyun", "SMS_ALIYUN_ACCESS_KEY_ID": KEY_ID,
        "SMS_ALIYUN_ACCESS_KEY_SECRET": SECRET, "SMS_ALIYUN_ENDPOINT": provider.url,
        "SMS_SIGN_NAME": SIGN, "SMS_TIMEOUT": 5,
        "SMS_TEMPLATES": {"invite": "SMS_1001", "desk": "SMS_1002", "push": "SMS_1003",
                          "digest": "SMS_1004"},
        # A real Huey queue on SQLite, as on the embedded tier.
        "SMS_QUEUE_PATH": str(tmp_path / "sms-queue.sqlite"),
    }


def gateway(provider, secret=SECRET) -> AliyunGateway:
    return AliyunGateway(KEY_ID, secret, SIGN, endpoint=provider.url)


def queue_one(phone="13800138000", key="push:1:1", **params) -> Message:
    values = {"fair": "春风行动招聘会", "posts": "5271", "link": "http://x.cn/p/abc", **params}
    with write_transaction():
        queued = service.queue_message("push", phone, values, key)
    service.dispatch([queued.message.id])
    return queued.message


def status_of(message_id: int) -> Message:
    # A new read: the queue's tasks write through sessions of their own.
    db.session.commit()
    return db.session.get(Message, message_id)


def tomorrow() -> str:
    return ((utcnow() + CST).date() + timedelta(days=1)).isoformat()


# ---- the Aliyun backend against the local service ----------------------------------------

def test_aliyun_send_is_signed_and_accepted(provider):
    biz_id = gateway(provider).send("13800138000", "SMS_1003",
                                    {"fair": "春风 行动*~", "posts": "12", "link": "http://a.cn/p?x=1&y=2"}, "42")
    assert biz_id.endswith("^0")
    [sent] = provider.accepted
    assert sent == {"phone": "13800138000", "template": "SMS_1003", "sign_name": SIGN, "out_id": "42",
                    "params": {"fair": "春风 行动*~", "posts": "12", "link": "http://a.cn/p?x=1&y=2"},
                    "biz_id": biz_id}


def test_aliyun_wrong_secret_is_refused_as_aliyun_does(provider):
    with pytest.raises(SmsError) as refused:
        gateway(provider, secret="not-the-secret").send("13800138000", "SMS_1003",
                                                         {"fair": "a", "posts": "1", "link": "b"}, "1")
    assert refused.value.code == "SignatureDoesNotMatch" and not refused.value.transient
    assert provider.accepted == []


def test_aliyun_business_errors_say_whether_to_retry(provider):
    with pytest.raises(SmsError) as bad_number:
        gateway(provider).send("12345", "SMS_1003", {"fair": "a", "posts": "1", "link": "b"}, "1")
    assert bad_number.value.code == "isv.MOBILE_NUMBER_ILLEGAL" and not bad_number.value.transient
    with pytest.raises(SmsError) as missing:
        gateway(provider).send("13800138000", "SMS_1003", {"fair": "a"}, "1")
    assert missing.value.code == "isv.TEMPLATE_MISSING_PARAMETERS"
    provider.fail_next["13800138000"].append("isv.BUSINESS_LIMIT_CONTROL")
    with pytest.raises(SmsError) as throttled:
        gateway(provider).send("13800138000", "SMS_1003", {"fair": "a", "posts": "1", "link": "b"}, "1")
    assert throttled.value.transient
    provider.http_error_next.append(503)
    with pytest.raises(SmsError) as down:
        gateway(provider).send("13800138000", "SMS_1003", {"fair": "a", "posts": "1", "link": "b"}, "1")
    assert down.value.transient


def test_aliyun_unreachable_is_transient():
    unreachable = AliyunGateway(KEY_ID, SECRET, SIGN, endpoint="http://127.0.0.1:9/", timeout=2)
    with pytest.raises(SmsError) as error:
        unreachable.send("13800138000", "SMS_1003", {}, "1")
    assert error.value.code == "network" and error.value.transient


def test_console_backend_logs_and_sends_nothing(caplog):
    with caplog.at_level(logging.INFO, logger="fairsite.sms"):
        provider_id = ConsoleGateway().send("13800138000", "SMS_1", {"name": "张三"}, "7")
    assert provider_id.startswith("console-")
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text


# ---- outbox and queue ---------------------------------------------------------------------

def test_queued_message_is_sent_by_the_queue(app, provider):
    message = queue_one()
    assert status_of(message.id).status == "queued" and provider.accepted == []
    assert queue.run_pending(app) == 1
    sent = status_of(message.id)
    assert sent.status == "sent" and sent.tries == 1 and sent.sent_at is not None
    assert sent.provider_id == provider.accepted[0]["biz_id"]
    assert provider.accepted[0]["out_id"] == str(message.id)


def test_transient_error_retries_with_backoff_then_sends(app, provider):
    provider.fail_next["13800138000"] += ["isv.BUSINESS_LIMIT_CONTROL", "isv.BUSINESS_LIMIT_CONTROL"]
    message = queue_one()
    queue.run_pending(app)
    first = status_of(message.id)
    assert first.status == "queued" and first.tries == 1 and "BUSINESS_LIMIT_CONTROL" in first.error
    wait1 = (first.next_try_at - first.updated_at).total_seconds()
    assert wait1 == app.config["SMS_RETRY_BASE"]
    # Not due yet: nothing happens.
    assert service.send_one(message.id) is None
    service.send_one(message.id, now=first.next_try_at)
    second = status_of(message.id)
    assert second.tries == 2 and (second.next_try_at - second.updated_at).total_seconds() == 2 * wait1
    service.send_one(message.id, now=second.next_try_at)
    done = status_of(message.id)
    assert done.status == "sent" and done.tries == 3 and done.error == ""
    assert len(provider.accepted) == 1


def test_permanent_error_fails_at_once_and_gives_up_after_max_tries(app, provider):
    provider.fail_next["13900139000"].append("isv.MOBILE_NUMBER_ILLEGAL")
    bad = queue_one(phone="13900139000", key="push:1:2")
    queue.run_pending(app)
    assert status_of(bad.id).status == "failed" and status_of(bad.id).tries == 1
    app.config["SMS_MAX_TRIES"] = 2
    provider.fail_next["13700137000"] += ["isv.BUSINESS_LIMIT_CONTROL"] * 3
    flaky = queue_one(phone="13700137000", key="push:1:3")
    queue.run_pending(app)
    service.send_one(flaky.id, now=utcnow() + timedelta(hours=1))
    gave_up = status_of(flaky.id)
    assert gave_up.status == "failed" and gave_up.tries == 2 and provider.accepted == []


def test_same_key_is_never_sent_twice(app, provider):
    first = queue_one(key="invite:7:2026-03-04T09:30")
    again = queue_one(key="invite:7:2026-03-04T09:30")
    assert again.id == first.id
    assert db.session.scalar(select(db.func.count(Message.id))) == 1
    # The same row handed to the queue twice (and a sweep on top): one text.
    service.dispatch([first.id, first.id])
    queue.run_pending(app)
    assert service.send_one(first.id) is None
    assert len(provider.accepted) == 1


def test_daily_cap_per_phone(app, provider):
    app.config["SMS_DAILY_CAP_PER_PHONE"] = 2
    ids = [queue_one(key=f"push:cap:{i}").id for i in range(3)]
    other = queue_one(phone="13900139000", key="push:cap:other")
    queue.run_pending(app)
    assert [status_of(i).status for i in ids] == ["sent", "sent", "failed"]
    assert status_of(ids[2]).error == "daily_cap" and status_of(ids[2]).tries == 0
    assert status_of(other.id).status == "sent"
    assert len(provider.accepted) == 3


def test_monthly_budget_set_and_seen_by_the_organiser(app, client, login_as, provider):
    login_as("organiser")
    response = client.post("/manage/sms/budget", data={"messages": "2"})
    assert response.status_code == 303
    ids = [queue_one(phone=f"1380013800{i}", key=f"push:b:{i}").id for i in range(3)]
    queue.run_pending(app)
    assert [status_of(i).status for i in ids] == ["sent", "sent", "failed"]
    assert status_of(ids[2]).error == "budget"
    page = client.get("/manage/sms").get_data(as_text=True)
    assert 'id="sms-used">2<' in page and 'id="sms-left">0<' in page
    assert "超过本月短信预算" in page and "138****8002" in page and "13800138002" not in page
    failed = client.get("/manage/sms?status=failed").get_data(as_text=True)
    assert failed.count('class="sms-row') == 1


@pytest.mark.parametrize("value", ["", "-1", "１２", "١٢", "10000001", "1e3", "<script>"])
def test_budget_refuses_bad_numbers_in_chinese(app, client, login_as, value):
    login_as("organiser")
    response = client.post("/manage/sms/budget", data={"messages": value})
    assert response.status_code == 422
    assert "请填写" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["status=<x>", "purpose=%00", "page=١٢", "page=99999999999", "status=sent&page=-1"])
def test_outbox_page_ignores_hostile_filters(client, login_as, query):
    login_as("organiser")
    assert client.get(f"/manage/sms?{query}").status_code == 200


def test_outbox_is_organisers_only(client, login_as):
    assert client.get("/manage/sms").status_code in (302, 303)
    login_as("employer")
    assert client.get("/manage/sms").status_code == 404


def test_real_consumer_process_sends_a_queued_row(app, provider, tmp_path, database_url):
    """`flask sms worker`, the command `make run` starts, drains the SQLite queue."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the consumer process test runs on the embedded tier's SQLite")
    message = queue_one()
    env = {**os.environ, "FLASK_APP": "fairsite.app", "FAIRSITE_TESTING": "true",
           "FAIRSITE_SECRET_KEY": "test-secret", "FAIRSITE_DATABASE_URL": database_url,
           "FAIRSITE_SMS_QUEUE_PATH": app.config["SMS_QUEUE_PATH"],
           "FAIRSITE_SMS_BACKEND": "aliyun", "FAIRSITE_SMS_ALIYUN_ACCESS_KEY_ID": KEY_ID,
           "FAIRSITE_SMS_ALIYUN_ACCESS_KEY_SECRET": SECRET, "FAIRSITE_SMS_ALIYUN_ENDPOINT": provider.url,
           "FAIRSITE_SMS_SIGN_NAME": SIGN, "FAIRSITE_SMS_TEMPLATES": json.dumps(app.config["SMS_TEMPLATES"])}
    worker = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "flask"), "sms", "worker"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status_of(message.id).status != "sent":
            time.sleep(0.2)
        assert status_of(message.id).status == "sent"
        assert len(provider.accepted) == 1
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_sweep_sends_rows_the_queue_lost(app, provider):
    with write_transaction():
        lost = service.queue_message("push", "13800138000", {"fair": "a", "posts": "1", "link": "b"},
                                     "push:lost:1", now=utcnow() - timedelta(minutes=5)).message
    app.extensions["sms_tasks"]["sweep"].call_local()
    queue.run_pending(app)
    assert status_of(lost.id).status == "sent"


# ---- interview invitations ----------------------------------------------------------------

def _invite(client, intents, **data):
    return client.post("/employer/invitations", data={**INVITE, "on_date": tomorrow(),
                                                      "intent": [i.id for i in intents], **data})


def test_invitation_texts_each_person_and_marks_contacted(app, client, login_as, make_booth,
                                                          make_intent, provider):
    booth = make_booth()
    user = login_as("employer", employer=booth.employer)
    a = make_intent(booth, phone="13800138001", name="张三")
    b = make_intent(booth, phone="13800138002", name="李四")
    page = client.get("/employer/invitations").get_data(as_text=True)
    assert "张三" in page and "138****8001" in page and "13800138001" not in page
    response = _invite(client, [a, b])
    assert response.status_code == 303
    assert "已向 2 人发出面试邀请短信" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.commit()
    assert {db.session.get(Intent, i.id).status for i in (a, b)} == {"contacted"}
    invitations = db.session.scalars(select(Invitation)).all()
    assert {(i.intent_id, i.place, i.sent_by_id) for i in invitations} == {
        (a.id, INVITE["place"], user.id), (b.id, INVITE["place"], user.id)}
    queue.run_pending(app)
    texts = {m["phone"]: m["params"] for m in provider.accepted}
    assert texts["13800138001"]["name"] == "张三"
    assert texts["13800138001"]["employer"] == booth.employer.name[:35]
    assert texts["13800138002"]["when"].endswith("09:30") and texts["13800138002"]["contact"] == INVITE["contact"]
    # The same people and slot again: no second text.
    assert _invite(client, [a, b]).status_code == 303
    queue.run_pending(app)
    assert len(provider.accepted) == 2


def test_invitation_shows_on_me(app, client, login_as, make_booth):
    booth = make_booth()
    attendee = app.test_client()
    first_sign(attendee, booth)
    intent = db.session.scalar(select(Intent))
    login_as("employer", employer=booth.employer)
    _invite(client, [intent])
    me = attendee.get("/me").get_data(as_text=True)
    assert "面试邀请" in me and INVITE["place"] in me and "09:30" in me


def test_invitation_to_someone_elses_people_changes_nothing(client, login_as, make_booth, make_intent):
    mine, theirs = make_booth(), make_booth()
    login_as("employer", employer=mine.employer)
    other = make_intent(theirs, phone="13800138009")
    response = _invite(client, [other])
    assert response.status_code == 422
    db.session.commit()
    assert db.session.get(Intent, other.id).status == "new"
    assert db.session.scalar(select(db.func.count(Message.id))) == 0


@pytest.mark.parametrize("data,message", [
    ({"intent": []}, "请至少勾选一个人"),
    ({"intent": ["١", "abc", "99999999999"]}, "请至少勾选一个人"),
    ({"on_date": "2020-01-01"}, "面试日期不能早于今天"),
    ({"on_date": "0001-01-01"}, "请填写"),
    ({"on_date": "not a date"}, "面试日期"),
    ({"at_time": "25:99"}, "面试时间"),
    ({"place": ""}, "请填写面试地点"),
    ({"place": "地" * 31}, "地点最多 30 个字"),
    ({"contact": "\x00\x01"}, "请填写联系人和电话"),
])
def test_invitation_refuses_bad_input_in_chinese(client, login_as, make_booth, make_intent, data, message):
    booth = make_booth()
    login_as("employer", employer=booth.employer)
    intent = make_intent(booth)
    response = _invite(client, [intent], **data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Message.id))) == 0


def test_invitation_past_the_cap_is_recorded_but_not_texted(app, client, login_as, make_booth, make_intent):
    app.config["SMS_DAILY_CAP_PER_PHONE"] = 0
    booth = make_booth()
    login_as("employer", employer=booth.employer)
    intent = make_intent(booth)
    response = _invite(client, [intent])
    assert "短信未发出" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Message.error)) == "daily_cap"


# ---- desk receipt -------------------------------------------------------------------------

def test_desk_registration_texts_the_slip(app, client, login_as, make_booth, provider):
    booth = make_booth(vacancies=2)
    login_as("organiser")
    form = {"name": "李桂兰", "phone": "139 0013 9000", "consent": "y", "action": "register",
            "vacancy": [v.id for v in booth.vacancies]}
    assert client.post(f"/manage/fairs/{booth.fair_id}/desk", data=form).status_code == 303
    queue.run_pending(app)
    [text_] = provider.accepted
    assert text_["phone"] == "13900139000" and text_["template"] == "SMS_1002"
    assert text_["params"]["count"] == "2" and booth.number in text_["params"]["booths"]
    # The same registration again signs nothing new: no second text.
    client.post(f"/manage/fairs/{booth.fair_id}/desk", data=form)
    queue.run_pending(app)
    assert len(provider.accepted) == 1


def test_outbox_rows_survive_on_both_backends(database_url, app):
    """The migration's tables and constraints as the model has them."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        with pytest.raises(Exception):  # noqa: B017 - the CHECK constraint's own error
            conn.execute(text("INSERT INTO sms_messages (idem_key, phone, purpose, template, params, status,"
                              " provider_id, tries, error, created_at, updated_at) VALUES ('k', '1', 'push',"
                              " 't', '{}', 'bogus', '', 0, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    engine.dispose()


# ---- employer digest ----------------------------------------------------------------------

def test_digest_switched_on_texts_the_days_figures_once(app, client, login_as, make_booth, make_intent,
                                                         provider):
    booth = make_booth()
    login_as("employer", employer=booth.employer)
    assert client.get("/employer/sms-digest").status_code == 200
    response = client.post("/employer/sms-digest", data={"active": "y", "phone": "139-0013-9001"})
    assert response.status_code == 303
    for n in range(3):
        make_intent(booth, phone=f"1380013801{n}")
    contacted = make_intent(booth, phone="13800138019")
    with write_transaction():
        db.session.get(Intent, contacted.id).status = "contacted"
    service.dispatch(service.queue_digests())
    service.dispatch(service.queue_digests())  # the same day again: nothing new
    queue.run_pending(app)
    [digest] = provider.accepted
    assert digest["phone"] == "13900139001" and digest["template"] == "SMS_1004"
    assert digest["params"] == {"employer": booth.employer.name[:35], "today": "4", "waiting": "3"}
    # Switched off: no more digests.
    client.post("/employer/sms-digest", data={"phone": ""})
    assert service.queue_digests(now=utcnow() + timedelta(days=1)) == []


def test_digest_without_people_sends_nothing(client, login_as, make_booth):
    booth = make_booth()
    login_as("employer", employer=booth.employer)
    client.post("/employer/sms-digest", data={"active": "y", "phone": "13900139001"})
    assert service.queue_digests() == []


@pytest.mark.parametrize("phone", ["", "12345", "²3800138000", "1380013800０<script>"])
def test_digest_refuses_bad_phone_in_chinese(client, login_as, make_booth, phone):
    booth = make_booth()
    login_as("employer", employer=booth.employer)
    response = client.post("/employer/sms-digest", data={"active": "y", "phone": phone})
    assert response.status_code == 422 and "请填写正确的 11 位手机号" in response.get_data(as_text=True)


def test_digest_is_for_employer_admins(client, login_as):
    login_as("organiser")
    assert client.get("/employer/sms-digest").status_code == 404


# ---- personal data ------------------------------------------------------------------------

def test_deleting_my_data_erases_my_texts(app, client, login_as, make_booth):
    booth = make_booth()
    attendee = app.test_client()
    first_sign(attendee, booth)
    intent = db.session.scalar(select(Intent))
    login_as("employer", employer=booth.employer)
    _invite(client, [intent])
    assert db.session.scalar(select(db.func.count(Message.id))) == 1
    response = attendee.post("/me/delete", data={"confirm": "yes"})
    assert response.status_code == 303
    db.session.commit()
    assert db.session.scalar(select(db.func.count(Message.id))) == 0
    assert db.session.scalar(select(db.func.count(Invitation.id))) == 0


def test_texts_past_the_retention_period_are_erased(app, provider):
    old_id = queue_one(key="push:old").id
    queue.run_pending(app)
    days = app.config["PERSONAL_DATA_RETENTION_DAYS"]
    assert service.forget_old(now=utcnow() + timedelta(days=days - 1)) == 0
    assert service.forget_old(now=utcnow() + timedelta(days=days + 1)) == 1
    db.session.commit()
    assert db.session.get(Message, old_id) is None


# ---- delivery receipts --------------------------------------------------------------------

def test_aliyun_delivery_receipts_mark_texts_delivered_or_failed(app, client, provider):
    app.config["SMS_RECEIPT_TOKEN"] = "receipt-token-123"
    ok = queue_one(key="push:r:1")
    bad = queue_one(phone="13900139000", key="push:r:2")
    queue.run_pending(app)
    ok_biz, bad_biz = status_of(ok.id).provider_id, status_of(bad.id).provider_id
    reports = [
        {"phone_number": "13800138000", "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功",
         "biz_id": ok_biz, "out_id": str(ok.id), "sms_size": "1"},
        {"phone_number": "13900139000", "success": False, "err_code": "MK:0001", "err_msg": "空号",
         "biz_id": bad_biz, "out_id": str(bad.id), "sms_size": "1"},
        {"biz_id": 12}, "junk",
    ]
    response = client.post("/sms/receipts/aliyun/receipt-token-123", json=reports)
    assert response.status_code == 200 and response.get_json() == {"code": 0, "msg": "成功"}
    assert status_of(ok.id).status == "delivered" and status_of(ok.id).delivered_at is not None
    assert status_of(bad.id).status == "failed" and "MK:0001" in status_of(bad.id).error


@pytest.mark.parametrize("token,body", [("wrong", []), ("", []), ("receipt-token-123", {"a": 1}),
                                        ("receipt-token-123", "not json")])
def test_receipts_refuse_strangers_and_junk(app, client, token, body):
    app.config["SMS_RECEIPT_TOKEN"] = "receipt-token-123"
    kwargs = {"json": body} if not isinstance(body, str) else {"data": body}
    response = client.post(f"/sms/receipts/aliyun/{token}", **kwargs)
    assert response.status_code in (400, 404, 405)


def test_receipts_off_without_a_token(client):
    assert client.post("/sms/receipts/aliyun/anything", json=[]).status_code == 404
