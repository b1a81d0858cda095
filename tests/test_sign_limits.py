"""Signing limits that hold under a crowd: counted before the signing they let through, so
forty taps at once from one phone make twenty intents, not forty; on the embedded tier the
per-phone and per-device counts come from the database and survive a restart; with Redis,
two server processes share one count, under key names that hold no phone number. And no
phone number in the log when a desk registration fails, nor on the error page."""
from __future__ import annotations

import logging
import os
import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from fairsite.app import create_app
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.intents import manage as desk_views
from fairsite.intents.models import Intent
from tests.conftest import base_config

FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}
REDIS_URL = os.environ.get("FAIRSITE_TEST_REDIS_URL", "")


def intent_count() -> int:
    # A new transaction: on SQLite an open one would still read its old snapshot.
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Intent))


def _device_cookie(app, booth) -> str:
    """Sign once with the short form; the device cookie that answer sets."""
    client = app.test_client()
    response = client.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token, **FORM})
    assert response.status_code == 303
    return client.get_cookie("fs_device", domain="fair.test").value


def _tap(app, cookie: str, vacancy_id: int, token: str) -> int:
    client = app.test_client()
    client.set_cookie("fs_device", cookie, domain="fair.test")
    with app.app_context():
        response = client.post("/intents/sign", data={"vacancy_id": vacancy_id, "booth": token})
        status = response.status_code
        db.session.remove()
    return status


def _all_at_once(taps) -> list[int]:
    """Run each tap (a no-argument function) in its own thread, released together."""
    barrier = threading.Barrier(len(taps))
    codes: list[int] = []
    lock = threading.Lock()

    def run(tap):
        barrier.wait()
        code = tap()
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=run, args=(tap,)) for tap in taps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def test_sign_forty_taps_at_once_from_one_phone_make_twenty_intents(app, make_booth):
    booth = make_booth(vacancies=41)
    cookie = _device_cookie(app, booth)  # one intent already
    token, ids = booth.token, [v.id for v in booth.vacancies[1:]]
    db.session.commit()
    codes = _all_at_once([lambda v=v: _tap(app, cookie, v, token) for v in ids])
    assert sorted(codes) == [303] * 19 + [429] * 21
    assert intent_count() == 20


def test_sign_twenty_first_is_refused_and_the_count_survives_a_restart(app, database_url, make_booth):
    booth = make_booth(vacancies=22)
    cookie = _device_cookie(app, booth)
    token, ids = booth.token, [v.id for v in booth.vacancies]
    db.session.commit()
    assert [_tap(app, cookie, v, token) for v in ids[1:20]] == [303] * 19
    assert intent_count() == 20
    # A new process (the worker restarted: its in-memory store is empty) still refuses,
    # by device and by phone number (a new phone typing the same number).
    restarted = create_app(base_config(database_url))
    assert _tap(restarted, cookie, ids[20], token) == 429
    with restarted.app_context():
        response = restarted.test_client().post(
            "/intents/sign", data={"vacancy_id": ids[21], "booth": token, **FORM})
        assert response.status_code == 429 and "太频繁" in response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert intent_count() == 20
    # Signing again what was signed still confirms.
    assert _tap(app, cookie, ids[5], token) == 303


def test_sign_desk_registrations_do_not_count_against_the_phone(client, app, login_as, make_booth):
    booth = make_booth(vacancies=22)
    login_as("organiser")
    response = client.post(f"/manage/fairs/{booth.fair_id}/desk", data={
        "name": "李桂兰", "phone": "13800138000", "consent": "y", "action": "register",
        "vacancy": [v.id for v in booth.vacancies[:20]]})
    assert response.status_code == 303
    phone = app.test_client()
    assert phone.post("/intents/sign", data={"vacancy_id": booth.vacancies[20].id, "booth": booth.token,
                                             **FORM}).status_code == 303


@pytest.fixture
def redis_config(database_url):
    if not REDIS_URL:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail("FAIRSITE_TEST_REDIS_URL must be set in CI")
        pytest.skip("Redis not configured: set FAIRSITE_TEST_REDIS_URL")
    prefix = f"fairsite-test-{uuid.uuid4().hex[:8]}"
    config = {**base_config(database_url), "REDIS_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": prefix, "PUBSUB_PREFIX": prefix}
    yield config
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    for key in r.scan_iter(match=f"*{prefix}*"):
        r.delete(key)


def test_sign_on_redis_two_processes_share_one_count_under_hashed_keys(app, redis_config, make_booth):
    import redis

    booth = make_booth(vacancies=41)
    token, ids = booth.token, [v.id for v in booth.vacancies]
    db.session.commit()
    a, b = create_app(redis_config), create_app(redis_config)
    cookie = _device_cookie(a, booth)
    # Forty at once, half on each process: one count, twenty intents.
    codes = _all_at_once([lambda i=i, v=v: _tap(a if i % 2 else b, cookie, v, token)
                          for i, v in enumerate(ids[1:])])
    assert sorted(codes) == [303] * 19 + [429] * 21
    assert intent_count() == 20
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(match=f"*{redis_config['RATELIMIT_KEY_PREFIX']}*")]
    assert any("intent-phone" in k for k in keys) and any("intent-device" in k for k in keys)
    assert not any("13800138000" in k for k in keys), keys
    for process in (a, b):
        with process.app_context():
            db.engine.dispose()


def test_desk_failing_registration_logs_no_phone(client, app, login_as, make_booth, monkeypatch, caplog):
    """The statement that fails quotes its values (PostgreSQL's DETAIL repeats the row): the
    log says what failed, never the number."""
    booth = make_booth()
    login_as("organiser")

    def failing(attendee, vacancy, *args, **kwargs):
        # The same number again: the unique constraint refuses it.
        db.session.execute(text(
            "INSERT INTO attendees (name, phone, groups, hometown, consent_version, consent_at, "
            "consent_method, created_at) VALUES (:n, :p, '', '', 'v', :t, 'verbal', :t)"),
            {"n": attendee.name, "p": attendee.phone, "t": utcnow()})

    monkeypatch.setattr(desk_views, "record_intent", failing)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # logged and answered as in production
    # The migrations' logging.config.fileConfig disabled the loggers that existed by then.
    monkeypatch.setattr(app.logger, "disabled", False)
    with caplog.at_level(logging.ERROR):
        response = client.post(f"/manage/fairs/{booth.fair_id}/desk", data={
            "name": "李桂兰", "phone": "139 0013 9000", "consent": "y", "action": "register",
            "vacancy": [booth.vacancies[0].id]})
    assert response.status_code == 500 and "服务器出了点问题" in response.get_data(as_text=True)
    assert "Exception on" in caplog.text and "attendees" in caplog.text  # it was logged...
    assert "13900139000" not in caplog.text  # ...without the number
    assert "13900139000" not in response.get_data(as_text=True)
    assert intent_count() == 0
