"""Verification codes before a phone's first signing at a fair that asks for them: the fair
setting, the plain-form step between the sign form and the confirmation, expiry, wrong-try and
per-phone / per-address limits, the constant-time check, the offline signing's key, and the
code shown on the console outbox page."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import Attendee, Intent
from fairsite.sms import codes, queue
from fairsite.sms.models import Code, Message
from fairsite.sql import write_transaction
from tests.test_attendees import FORM, first_sign, sign

PHONE = "13800138000"


@pytest.fixture
def app_config():
    # Room for the limit tests below the outbox's own per-phone daily cap.
    return {"SMS_DAILY_CAP_PER_PHONE": 50, "SMS_CODE_LIMIT_PER_PHONE": 3, "SMS_CODE_LIMIT_PER_IP": 4}


@pytest.fixture
def booth(make_booth, make_fair):
    return make_booth(fair=make_fair(verify_phone=True))


def intents() -> int:
    return db.session.scalar(select(func.count(Intent.id)))


def last_code(phone: str = PHONE) -> str:
    """The code as the console backend's outbox row holds it (what the person's phone shows)."""
    db.session.commit()
    message = db.session.scalars(select(Message).where(Message.purpose == "verify", Message.phone == phone)
                                 .order_by(Message.id.desc())).first()
    return json.loads(message.params)["code"]


def code_step(client, booth, code, **extra):
    return first_sign(client, booth, code_step="check", code=code, **extra)


def test_sign_at_verifying_fair_asks_for_code_then_signs(client, booth):
    response = first_sign(client, booth, sign_key="k" * 20)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请输入短信验证码" in page and "138****8000" in page
    # A plain form, carrying the first form's fields and the idempotency key.
    assert 'name="code"' in page and 'value="kkkkkkkkkkkkkkkkkkkk"' in page and 'value="张三"' in page
    assert intents() == 0 and db.session.scalar(select(func.count(Attendee.id))) == 0
    code = last_code()
    assert len(code) == 6 and code.isdigit()
    # Only a keyed hash of the code is kept.
    row = db.session.scalars(select(Code)).one()
    assert code not in row.code_hash and PHONE not in row.phone_key
    response = code_step(client, booth, code, sign_key="k" * 20)
    assert response.status_code == 303 and "/intents/done" in response.headers["Location"]
    assert intents() == 1
    # Later signings by this phone at this fair: one tap, no code.
    other = booth.vacancies[0]
    assert client.get(f"/intents/done?vacancy_id={other.id}&booth={booth.token}").status_code == 200


def test_second_vacancy_at_the_same_fair_needs_no_new_code(client, make_booth, make_fair):
    fair = make_fair(verify_phone=True)
    booth = make_booth(fair=fair, vacancies=2)
    first_sign(client, booth)
    code_step(client, booth, last_code())
    response = sign(client, booth.vacancies[1], {"booth": booth.token})
    assert response.status_code == 303 and intents() == 2
    assert db.session.scalar(select(func.count(Code.id))) == 1


def test_fair_without_the_setting_signs_at_once(client, make_booth):
    booth = make_booth()
    assert first_sign(client, booth).status_code == 303
    assert intents() == 1 and db.session.scalar(select(func.count(Message.id))) == 0


def test_known_phone_at_a_verifying_fair_confirms_once(client, make_booth, make_fair):
    plain = make_booth()
    first_sign(client, plain)  # a device cookie from another fair, no code asked
    booth = make_booth(fair=make_fair(verify_phone=True))
    response = sign(client, booth.vacancies[0], {"booth": booth.token})
    assert "请输入短信验证码" in response.get_data(as_text=True) and intents() == 1
    response = sign(client, booth.vacancies[0], {"booth": booth.token}, code_step="check", code=last_code())
    assert response.status_code == 303 and intents() == 2


def test_htmx_gets_the_code_step_in_the_buttons_place(hx, booth):
    response = hx.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token, **FORM})
    page = response.get_data(as_text=True)
    assert f'id="intent-{booth.vacancies[0].id}"' in page and "<html" not in page
    # A signing the phone kept offline is answered with this form, marked for the offline queue.
    assert response.headers["X-Fs-Needs-Code"] == "1"


def test_wrong_code_counts_tries_then_voids_the_code(client, booth, app):
    first_sign(client, booth)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        page = code_step(client, booth, wrong).get_data(as_text=True)
        assert f"验证码不对，还可以再试 {left} 次" in page
    page = code_step(client, booth, wrong).get_data(as_text=True)
    assert "输错次数太多" in page
    # The right code no longer works: the code is void.
    page = code_step(client, booth, code).get_data(as_text=True)
    assert "输错次数太多" in page and intents() == 0


def test_expired_code_is_refused(client, booth):
    first_sign(client, booth)
    code = last_code()
    with write_transaction():
        db.session.execute(Code.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    page = code_step(client, booth, code).get_data(as_text=True)
    assert "验证码已过期" in page and intents() == 0


@pytest.mark.parametrize("raw", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "1" * 5000, "' OR 1=1 --"])
def test_hostile_codes_get_a_chinese_message_and_change_nothing(client, booth, raw):
    first_sign(client, booth)
    response = code_step(client, booth, raw)
    assert response.status_code == 200
    assert "请输入短信里的 6 位数字验证码" in response.get_data(as_text=True)
    assert intents() == 0
    assert db.session.scalar(select(Code.tries)) == 0  # not even a try counted


def test_full_width_digits_and_spaces_are_accepted(client, booth):
    first_sign(client, booth)
    code = last_code()
    typed = " ".join(chr(ord(c) + 0xFEE0) for c in code)  # "１ ２ ３ ..."
    assert code_step(client, booth, typed).status_code == 303 and intents() == 1


def test_code_check_is_constant_time(client, booth, monkeypatch):
    first_sign(client, booth)
    code = last_code()
    seen = []
    real = codes.hmac.compare_digest

    def spy(a, b):
        seen.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(codes.hmac, "compare_digest", spy)
    assert code_step(client, booth, code).status_code == 303
    # The code's hash against the stored hash (other checks on the way use it too).
    assert (64, 64) in seen


def test_codes_are_limited_per_phone(client, booth, app):
    first_sign(client, booth)
    # A resend within a minute sends nothing new.
    page = first_sign(client, booth, code_step="resend").get_data(as_text=True)
    assert "验证码刚刚已发出" in page
    for _n in range(2):
        with write_transaction():
            db.session.execute(Code.__table__.update().values(created_at=utcnow() - timedelta(minutes=5)))
        assert first_sign(client, booth, code_step="resend").status_code == 200
    assert db.session.scalar(select(func.count(Code.id))) == 3
    with write_transaction():
        db.session.execute(Code.__table__.update().values(created_at=utcnow() - timedelta(minutes=5)))
    response = first_sign(client, booth, code_step="resend")
    assert response.status_code == 429
    assert "一小时内已收到多次验证码" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Code.id))) == 3


def test_codes_are_limited_per_address(client, booth):
    for n in range(4):
        assert first_sign(client, booth, phone=f"1390000000{n}").status_code == 200
    response = first_sign(client, booth, phone="13900000009")
    assert response.status_code == 429 and "这个网络一小时内已发出太多验证码" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Code.id))) == 4
    # Another address is not held by this one's count.
    other = client.post("/intents/sign", environ_base={"REMOTE_ADDR": "10.0.0.9"}, data={
        "vacancy_id": booth.vacancies[0].id, "booth": booth.token, **FORM, "phone": "13900000008"})
    assert other.status_code == 200


def test_a_code_for_one_phone_does_not_sign_another(client, booth):
    first_sign(client, booth)
    code = last_code()
    response = code_step(client, booth, code, phone="13900139000")
    assert "请输入短信验证码" in response.get_data(as_text=True) and intents() == 0


def test_same_offline_key_sent_again_after_the_code_is_one_intent(client, booth):
    first_sign(client, booth, sign_key="offline-key-0123456789")
    code = last_code()
    assert code_step(client, booth, code, sign_key="offline-key-0123456789").status_code == 303
    # The phone sends its kept copy again (the answer got lost): the same signing, no code.
    again = sign(client, booth.vacancies[0], {"booth": booth.token}, sign_key="offline-key-0123456789")
    assert again.status_code == 303 and intents() == 1


def test_console_outbox_page_shows_the_code(client, booth, login_as):
    first_sign(client, booth)
    code = last_code()
    login_as("organiser")
    page = client.get("/manage/sms?purpose=verify").get_data(as_text=True)
    assert "验证码" in page and code in page


def test_fair_form_sets_the_setting(client, login_as, make_fair):
    fair = make_fair(status="draft")
    login_as("organiser")
    data = {"title": fair.title, "kind": "park", "date": "2026-03-03", "verify_phone": "y"}
    assert client.post(f"/manage/fairs/{fair.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert db.session.get(Fair, fair.id).verify_phone is True
    assert 'name="verify_phone"' in client.get(f"/manage/fairs/{fair.id}/edit").get_data(as_text=True)
    client.post(f"/manage/fairs/{fair.id}/edit", data={**data, "verify_phone": ""})
    db.session.expire_all()
    assert db.session.get(Fair, fair.id).verify_phone is False


def test_code_is_sent_by_the_queue_and_blanked_in_the_outbox_once_used(app, client, booth):
    first_sign(client, booth)
    code = last_code()
    queue.run_pending(app)
    db.session.commit()
    message = db.session.scalars(select(Message).where(Message.purpose == "verify")).one()
    assert message.status == "sent" and message.provider_id.startswith("console-")
    assert code_step(client, booth, code).status_code == 303
    assert last_code() == "******"


def _burst(app, fair_id, calls):
    results, errors = [], []

    def one(phone, address):
        try:
            with app.app_context():
                results.append(codes.issue(fair_id, "测试招聘会", phone, address).status)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=one, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    db.session.commit()
    return sorted(results)


def test_a_burst_from_one_phone_gets_one_code(app, booth):
    """Ten requests for a code at once from one phone: the check is made where nobody can
    interleave (BEGIN IMMEDIATE / an advisory lock), so one code goes out, not ten."""
    results = _burst(app, booth.fair_id, [("13700137000", f"10.0.1.{n}") for n in range(10)])
    assert results == ["recent"] * 9 + ["sent"]
    assert db.session.scalar(select(func.count(Code.id))) == 1


def test_per_address_limit_holds_under_a_burst(app, booth):
    """Ten phones at once behind one address with room for four: four codes, six refusals."""
    results = _burst(app, booth.fair_id, [(f"1370013700{n}", "10.0.2.1") for n in range(10)])
    assert results == ["ip_limit"] * 6 + ["sent"] * 4
    assert db.session.scalar(select(func.count(Code.id))) == 4
