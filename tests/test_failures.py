"""Never fail silently, and sign once whatever the network does: the idempotency key of the
intent button (a repeat is the same signing, the same answer, before any limit); error
answers an htmx page can show (fragment, X-Fs-Error); a staff session that ended leads to the
login page and back, never a login page in a fragment; the service worker at /sw.js."""
from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import func, select

from fairsite.extensions import db
from fairsite.intents.models import Device, Intent, SignKey
from tests.conftest import PASSWORD

FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}
KEY = "k" * 22


def count(model, *where) -> int:
    db.session.commit()  # a fresh snapshot on SQLite
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def button_key(html: str, vacancy_id: int) -> str:
    form = re.search(rf'<div class="intent-slot" id="intent-{vacancy_id}">.*?</form>', html, re.S).group(0)
    return re.search(r'name="sign_key" value="([^"]*)"', form).group(1)


def test_show_booth_page_gives_each_button_of_a_known_phone_its_own_key_each_visit(client, make_booth):
    booth = make_booth(vacancies=3)
    first, second, signed = booth.vacancies
    client.post("/intents/sign", data={"vacancy_id": signed.id, "booth": booth.token, **FORM})
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    again = client.get(f"/q/{booth.token}").get_data(as_text=True)
    keys = {button_key(page, first.id), button_key(page, second.id), button_key(again, first.id)}
    assert len(keys) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16,64}", k) for k in keys)
    assert "__fs:sign_key__" not in page


def test_show_booth_page_of_a_first_scan_has_no_key_the_form_it_opens_has_one(client, make_booth):
    booth = make_booth()
    vacancy = booth.vacancies[0]
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    assert button_key(page, vacancy.id) == ""  # static/js/failsafe.js makes one at the tap
    form = client.post("/intents/sign", data={"vacancy_id": vacancy.id, "booth": booth.token})
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}",
                        re.search(r'name="sign_key" value="([^"]*)"', form.get_data(as_text=True)).group(1))


def test_sign_first_form_repeated_key_is_one_signing_and_gives_the_cookie_back(app, make_booth):
    booth = make_booth()
    vacancy = booth.vacancies[0]
    data = {"vacancy_id": vacancy.id, "booth": booth.token, "sign_key": KEY, **FORM}
    first = app.test_client()
    assert first.post("/intents/sign", data=data).status_code == 303
    # The answer got lost on the way: the same phone sends the same form again, cookie-less.
    retry = app.test_client()
    response = retry.post("/intents/sign", data=data)
    assert response.status_code == 303 and "/intents/done" in response.headers["Location"]
    assert count(Intent) == 1
    assert count(Device) == 1  # no second device for the lost answer
    assert retry.get_cookie("fs_device", domain="fair.test").value == \
        first.get_cookie("fs_device", domain="fair.test").value
    assert count(SignKey) == 1


def test_sign_repeated_key_with_another_number_is_not_a_repeat(app, make_booth):
    booth = make_booth()
    data = {"vacancy_id": booth.vacancies[0].id, "booth": booth.token, "sign_key": KEY, **FORM}
    app.test_client().post("/intents/sign", data=data)
    other = app.test_client()
    response = other.post("/intents/sign", data={**data, "phone": "13900139000", "name": "李四"})
    assert response.status_code == 303
    assert count(Intent) == 2
    # Each got a cookie of their own.
    assert other.get_cookie("fs_device", domain="fair.test") is not None
    assert count(Device) == 2


def test_sign_repeated_key_after_the_limit_gets_the_same_answer(client, hx, make_booth):
    booth = make_booth(vacancies=21)
    vacancies = booth.vacancies
    client.post("/intents/sign", data={"vacancy_id": vacancies[0].id, "booth": booth.token,
                                       "sign_key": "a" * 20 + "00", **FORM})
    for i, v in enumerate(vacancies[1:20], start=1):
        assert hx.post("/intents/sign", data={"vacancy_id": v.id, "booth": booth.token,
                                              "sign_key": f"{'a' * 20}{i:02d}"}).status_code == 200
    # The 21st is refused, with its message in the button's place...
    refused = hx.post("/intents/sign", data={"vacancy_id": vacancies[20].id, "booth": booth.token,
                                             "sign_key": "b" * 22})
    assert refused.status_code == 429
    body = refused.get_data(as_text=True)
    assert f'id="intent-{vacancies[20].id}"' in body and "登记太频繁" in body
    # ...while a retry of a signing that went through is answered as it was, thrice.
    for _ in range(3):
        again = hx.post("/intents/sign", data={"vacancy_id": vacancies[5].id, "booth": booth.token,
                                               "sign_key": f"{'a' * 20}05"})
        assert again.status_code == 200 and "已登记" in again.get_data(as_text=True)
    assert count(Intent) == 20


def test_sign_repeated_key_after_withdrawing_does_not_sign_again(client, hx, make_booth):
    booth = make_booth()
    vacancy = booth.vacancies[0]
    data = {"vacancy_id": vacancy.id, "booth": booth.token, "sign_key": KEY}
    client.post("/intents/sign", data={**data, **FORM})
    intent = db.session.scalar(select(Intent))
    client.post(f"/me/intents/{intent.id}/withdraw")
    late = hx.post("/intents/sign", data=data)  # an old copy of the tap, arriving late
    assert late.status_code == 200 and "我有意向" in late.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Intent, intent.id).withdrawn_at is not None


@pytest.mark.parametrize("key", ["短", "x" * 65, "a b c d e f g h i j", "__fs:sign_key__1", "'; DROP TABLE x;--"])
def test_sign_malformed_key_is_no_key(client, make_booth, key):
    booth = make_booth()
    response = client.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token,
                                                  "sign_key": key, **FORM})
    assert response.status_code == 303
    assert count(Intent) == 1 and count(SignKey) == 0


def test_sign_form_carries_the_buttons_key(hx, make_booth):
    booth = make_booth()
    form = hx.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token,
                                          "sign_key": KEY}).get_data(as_text=True)
    assert "first-form" in form and f'name="sign_key" value="{KEY}"' in form


def test_erase_me_drops_the_keys(client, make_booth):
    booth = make_booth()
    client.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token,
                                       "sign_key": KEY, **FORM})
    client.post("/me/delete", data={"confirm": "yes"})
    assert count(SignKey) == 0 and count(Intent) == 0


# --- error answers for htmx ----------------------------------------------------------------

def test_htmx_error_is_a_fragment_marked_for_the_page(hx, client):
    response = hx.get("/intents/sign", query_string={"vacancy_id": "999999", "booth": "nope"})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert response.headers["X-Fs-Error"] == "404"
    assert "<html" not in body and 'class="fs-error"' in body and "页面不存在" in body
    # Without htmx it stays the whole page.
    page = client.get("/intents/sign", query_string={"vacancy_id": "999999", "booth": "nope"})
    assert "<html" in page.get_data(as_text=True) and "X-Fs-Error" not in page.headers


def test_staff_htmx_request_without_login_goes_to_login_and_back(client, hx, make_fair):
    fair = make_fair()
    response = hx.get(f"/manage/fairs/{fair.id}/board/tally",
                      headers={"HX-Current-URL": f"http://fair.test/manage/fairs/{fair.id}/board"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/login?next=/manage/fairs/{fair.id}/board"
    assert "<form" not in response.get_data(as_text=True)  # no login form inside the board
    login = client.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "登录已失效" in login


@pytest.mark.parametrize("current", ["http://[", "https://evil.example/manage", "//evil.example/x", "javascript:alert(1)", "\u0000"])
def test_staff_htmx_request_with_hostile_current_url_goes_to_plain_login(hx, make_fair, current):
    fair = make_fair()
    response = hx.get(f"/manage/fairs/{fair.id}/board/tally", headers={"HX-Current-URL": current})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_staff_event_stream_without_login_ends_with_401(client, make_fair):
    fair = make_fair()
    response = client.get(f"/manage/fairs/{fair.id}/board/stream", headers={"Accept": "text/event-stream"})
    assert response.status_code == 401


def test_logout_in_another_tab_then_the_board_leads_to_login(client, hx, login_as, make_fair):
    fair = make_fair()
    login_as("organiser")
    assert hx.get(f"/manage/fairs/{fair.id}/board/tally").status_code == 200
    client.post("/logout")
    response = hx.get(f"/manage/fairs/{fair.id}/board/tally",
                      headers={"HX-Current-URL": f"http://fair.test/manage/fairs/{fair.id}/board"})
    assert response.status_code == 401 and "next=/manage/fairs" in response.headers["HX-Redirect"]


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_status_save_with_ended_session_leads_to_login_not_400(self, app, make_user, make_booth, make_intent):
        booth = make_booth()
        intent = make_intent(booth)
        user = make_user("employer", employer=booth.employer)
        tab = app.test_client()
        page = tab.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        tab.post("/login", data={"login": user.login, "password": PASSWORD, "csrf_token": token})
        listing = tab.get("/employer/intents").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', listing).group(1)
        # The session ends (cookies cleared, browser closed); the page is still on the screen.
        tab.delete_cookie("session", domain="fair.test")
        tab.delete_cookie("remember_token", domain="fair.test")
        g.pop("_login_user", None)  # the tests share one app context across requests
        response = tab.post(f"/employer/intents/{intent.id}/status", data={"status": "contacted", "note": ""},
                            headers={"HX-Request": "true", "X-CSRFToken": token,
                                     "HX-Current-URL": "http://fair.test/employer/intents?status=new"})
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login?next=/employer/intents?status%3Dnew"
        db.session.expire_all()
        assert db.session.get(type(intent), intent.id).status == "new"

    def test_attendee_stale_token_says_reload(self, app, make_booth):
        booth = make_booth()
        response = app.test_client().post(
            "/intents/sign", data={"vacancy_id": booth.vacancies[0].id, "booth": booth.token, **FORM},
            headers={"HX-Request": "true", "X-CSRFToken": "stale"})
        assert response.status_code == 400 and response.headers["X-Fs-Error"] == "400"
        body = response.get_data(as_text=True)
        assert "页面已过期" in body and "data-fs-reload" in body
        assert count(Intent) == 0


# --- the service worker --------------------------------------------------------------------

def test_service_worker_is_served_from_the_root_with_its_files(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    # Under whatever name the static files are served (content-hashed or not).
    # js/site is htmx, fairsite.js and failsafe.js in one file (fairsite/assets.py BUNDLES).
    for stem, ext in (("css/site", "css"), ("js/site", "js")):
        assert re.search(rf'"/static/{re.escape(stem)}\.(\w+\.)?{ext}"', body), stem
    assert '["/q/"]' in body
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_show_booth_page_registers_the_service_worker(client, make_booth):
    booth = make_booth()
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    assert '<meta name="fs-sw" content="/sw.js">' in page
    assert "data-offline-sign" in page


def test_shared_render_leaves_the_key_to_the_phone(app, make_vacancy):
    """HTML sent to every viewer (the live card) must not carry one key for all: it has none,
    and static/js/failsafe.js makes one at the tap."""
    from fairsite.web import render_shared

    vacancy = make_vacancy()
    with app.test_request_context():
        html = render_shared("intents/_button.html", "", vacancy=vacancy, where={"live": 1}, signed=False)
        keyed = render_shared("intents/_button.html", "", sign_keys=True, vacancy=vacancy,
                              where={"live": 1}, signed=False)
    assert 'name="sign_key" value=""' in html
    assert f'name="sign_key" value="__fs:sign_key__{vacancy.id}"' in keyed
