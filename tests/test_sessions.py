"""Staff sessions end for real: logging out, a new password or a login switched off refuses
every copy of the old cookies; a log-in starts a new session; log-in throttles count one login
however it is typed, and across addresses; an unknown login answers as slowly as a wrong
password; the password change page."""
from __future__ import annotations

import time

import gevent
import pytest
from flask import g

from fairsite.accounts import models as account_models
from fairsite.accounts.models import User
from fairsite.audit.models import AuditEntry
from fairsite.extensions import db
from tests.conftest import PASSWORD

COOKIES = ("session", "remember_token")


def fresh(client):
    """The tests share one app context, where Flask-Login caches the user between requests."""
    g.pop("_login_user", None)
    return client


def copy_cookies(client) -> dict[str, str]:
    copied = {}
    for name in COOKIES:
        cookie = client.get_cookie(name, domain="fair.test")
        if cookie is not None:
            copied[name] = cookie.value
    return copied


def replay(app, cookies: dict[str, str]):
    """A second browser holding copies of the cookies (e.g. stolen, or a forgotten tab)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value, domain="fair.test")
    return fresh(other)


def log_in(client, user: User, password: str = PASSWORD):
    response = fresh(client).post("/login", data={"login": user.login, "password": password})
    fresh(client)
    return response


# --- the end of a session is the end of every copy -------------------------------------------

def test_logout_refuses_copied_session_and_remember_cookies(app, client, login_as):
    login_as("employer")
    copied = copy_cookies(client)
    assert set(copied) == set(COOKIES)
    assert replay(app, copied).get("/employer").status_code == 200  # the copy works while logged in

    fresh(client).post("/logout")

    for cookies in (copied, {"session": copied["session"]}, {"remember_token": copied["remember_token"]}):
        response = replay(app, cookies).get("/employer")
        assert response.status_code == 302 and "/login" in response.headers["Location"], cookies


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, login_as):
    user = login_as("employer")
    elsewhere = app.test_client()
    assert log_in(elsewhere, user).status_code == 303
    assert fresh(elsewhere).get("/employer").status_code == 200
    copied = copy_cookies(client)

    response = fresh(client).post("/account/password", data={
        "current": PASSWORD, "password": "a-new-password", "confirm": "a-new-password",
    }, follow_redirects=True)
    assert response.status_code == 200
    assert "密码已修改" in response.get_data(as_text=True)

    assert fresh(client).get("/employer").status_code == 200  # this browser goes on
    assert fresh(elsewhere).get("/employer").status_code == 302  # the other one is logged out
    assert replay(app, copied).get("/employer").status_code == 302  # so are old cookie copies
    # The new password is the one that works now.
    third = app.test_client()
    assert log_in(third, user, PASSWORD).status_code == 422
    assert log_in(third, user, "a-new-password").status_code == 303
    assert db.session.query(AuditEntry).filter_by(action="account.password", obj_id=user.id).count() == 1


@pytest.mark.parametrize("data,message", [
    ({"current": "wrong-password", "password": "a-new-password", "confirm": "a-new-password"}, "当前密码不正确"),
    ({"current": PASSWORD, "password": "short", "confirm": "short"}, "新密码至少 8 位"),
    ({"current": PASSWORD, "password": "a-new-password", "confirm": "another-one"}, "两次输入的新密码不一致"),
    ({"current": "", "password": "a-new-password", "confirm": "a-new-password"}, "请填写当前密码"),
])
def test_password_bad_input_is_explained_and_changes_nothing(app, client, login_as, data, message):
    user = login_as("organiser")
    response = fresh(client).post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(client).get("/manage/fairs").status_code == 200  # still logged in
    assert log_in(app.test_client(), user, PASSWORD).status_code == 303  # password unchanged


@pytest.mark.parametrize("role,home", [("organiser", "/manage/fairs"), ("employer", "/employer")])
def test_password_page_is_in_the_nav_of_every_staff_member(client, login_as, role, home):
    login_as(role)
    page = fresh(client).get(home).get_data(as_text=True)
    assert 'href="/account/password"' in page
    form = fresh(client).get("/account/password").get_data(as_text=True)
    assert "修改密码" in form and 'name="current"' in form and 'name="confirm"' in form


def test_password_sends_anonymous_to_login(client):
    for method in ("GET", "POST"):
        response = client.open("/account/password", method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_active_off_ends_the_colleagues_copied_cookies_for_good(app, client, login_as, make_user):
    user = login_as("employer")
    colleague = make_user("employer", employer=user.employer)
    other = app.test_client()
    assert log_in(other, colleague).status_code == 303
    copied = copy_cookies(other)

    fresh(client).post(f"/employer/staff/{colleague.id}/active", data={"active": "0"})
    assert replay(app, copied).get("/employer").status_code == 302
    # Switched on again, the login works with its password, not with the old cookies.
    fresh(client).post(f"/employer/staff/{colleague.id}/active", data={"active": "1"})
    assert replay(app, copied).get("/employer").status_code == 302
    assert log_in(app.test_client(), colleague).status_code == 303


# --- logging in ------------------------------------------------------------------------------

def test_login_starts_a_new_session_and_csrf_token(client, make_user):
    user = make_user("organiser")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["csrf_token"] = "planted-token"
        sess["planted"] = "by someone else"
    assert log_in(client, user).status_code == 303
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != "planted-token"
    assert fresh(client).get("/manage/fairs").status_code == 200


@pytest.mark.parametrize("variant", ["{}\x00", "{}\x07", " {} ", "{}\u200b", "UPPER", "FULLWIDTH"])
def test_login_throttle_counts_one_login_however_it_is_typed(client, make_user, variant):
    user = make_user("organiser", login="hr@firm.cn")
    spellings = {"UPPER": "HR@FIRM.CN", "FULLWIDTH": "ｈｒ＠ｆｉｒｍ．ｃｎ"}
    typed = spellings.get(variant) or variant.format(user.login)
    codes = []
    for i in range(12):
        # Alternate the plain login with the variant: they are one login, so one throttle.
        login = typed if i % 2 else user.login
        codes.append(client.post("/login", data={"login": login, "password": "bad"}).status_code)
    assert codes[0] == 422
    assert codes[-1] == 429
    # The variant still names the account (the lookup uses the same normalisation).
    assert "操作太频繁" in client.post("/login", data={"login": typed, "password": PASSWORD}).get_data(as_text=True)


def test_login_account_limit_holds_across_addresses(app, client, make_user):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"
    user, bystander = make_user("organiser"), make_user("organiser")

    def attempt(login, password, n):
        return fresh(app.test_client()).post(
            "/login", data={"login": login, "password": password},
            environ_base={"REMOTE_ADDR": f"10.0.{n // 250}.{n % 250 + 1}"},
        ).status_code

    # The owner's own successful log-in does not count against the account.
    assert attempt(user.login, PASSWORD, 0) == 303
    assert [attempt(user.login, "guess", n) for n in range(1, 4)] == [422, 422, 422]
    # From yet another address, even the right password waits now; other accounts do not.
    assert attempt(user.login, PASSWORD, 10) == 429
    assert attempt(bystander.login, PASSWORD, 11) == 303


def test_login_unknown_account_answers_as_slowly_as_a_wrong_password(client, make_user):
    user = make_user("organiser")

    def seconds(login):
        start = time.perf_counter()
        assert client.post("/login", data={"login": login, "password": "wrong-password"}).status_code == 422
        return time.perf_counter() - start

    seconds("warm-up@nobody.cn")
    wrong = sorted(seconds(user.login) for _ in range(3))[1]
    unknown = sorted(seconds(f"nobody{i}@nobody.cn") for i in range(3))[1]
    # Both check one password (before: 6 ms against 114 ms, which told who has an account).
    assert unknown > wrong * 0.5, (unknown, wrong)


def test_login_switched_off_account_is_refused_like_a_wrong_password(client, make_user):
    user = make_user("employer", active=False)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 422
    assert "账号或密码不正确" in response.get_data(as_text=True)


def test_password_hash_lets_the_worker_serve_others_meanwhile(monkeypatch):
    """Under gevent the hash runs in the hub's thread pool: other greenlets (the worker's other
    connections) keep running while scrypt works."""
    monkeypatch.setattr(account_models, "gevent_active", lambda: True)
    ticks = []

    def other_connection():
        while True:
            ticks.append(time.perf_counter())
            gevent.sleep(0.002)

    other = gevent.spawn(other_connection)
    gevent.sleep(0)
    started = time.perf_counter()
    hashed = account_models.hash_password("correct horse battery")
    assert account_models.password_matches(hashed, "correct horse battery")
    finished = time.perf_counter()
    other.kill()
    during = [t for t in ticks if started < t < finished]
    assert len(during) >= 5, (len(during), finished - started)
