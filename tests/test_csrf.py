"""CSRF protection holds for plain forms and for htmx requests (token in hx-headers)."""
import re

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_post_without_token_is_refused_in_chinese(client, make_user):
    user = make_user("organiser")
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


def test_htmx_header_token_is_accepted(client, make_user):
    user = make_user("organiser")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 303


# --- the booth page of a first scan carries no token (fairsite/booths/public.py) -------------

FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}


def _intents():
    from sqlalchemy import func, select

    from fairsite.extensions import db
    from fairsite.intents.models import Intent

    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Intent))


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)


def test_first_scan_gets_the_shared_page_no_session_no_token(client, make_booth):
    booth = make_booth()
    first = client.get(f"/q/{booth.token}")
    again = client.get(f"/q/{booth.token}")
    assert "Set-Cookie" not in first.headers
    assert 'name="csrf-token" content=""' in first.get_data(as_text=True)
    assert first.get_data() == again.get_data()


def test_tokenless_tap_without_device_opens_the_form_with_a_token(client, make_booth):
    booth = make_booth()
    vacancy = booth.vacancies[0]
    response = client.post("/intents/sign", data={"vacancy_id": vacancy.id, "booth": booth.token,
                                                  "csrf_token": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'name="step" value="form"' in response.get_data(as_text=True)
    assert _token(response.get_data(as_text=True))
    assert _intents() == 0


def test_form_with_a_stale_token_is_refused_and_stores_nothing(client, make_booth):
    booth = make_booth()
    data = {"vacancy_id": booth.vacancies[0].id, "booth": booth.token, **FORM, "csrf_token": "stale"}
    response = client.post("/intents/sign", data=data)
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert _intents() == 0


def _known_phone(client, booth) -> None:
    vacancy = booth.vacancies[0]
    form = client.post("/intents/sign", data={"vacancy_id": vacancy.id, "booth": booth.token})
    data = {"vacancy_id": vacancy.id, "booth": booth.token, **FORM,
            "csrf_token": _token(form.get_data(as_text=True))}
    assert client.post("/intents/sign", data=data).status_code == 303


@pytest.mark.parametrize("headers, signs", [
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Origin": "http://fair.test"}, True),
    ({"Referer": "http://fair.test/q/x"}, True),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://fair.test"}, False),
    ({"Origin": "https://evil.example"}, False),
    ({"Referer": "http://fair.test.evil.example/"}, False),
    ({}, False),
])
def test_known_phone_tap_without_token_signs_only_from_the_sites_own_page(client, make_booth, headers, signs):
    booth = make_booth(vacancies=2)
    _known_phone(client, booth)
    other = booth.vacancies[1]
    response = client.post("/intents/sign", data={"vacancy_id": other.id, "booth": booth.token},
                           headers={"HX-Request": "true", **headers})
    assert _intents() == (2 if signs else 1)
    if not signs:
        # The button again, now with this phone's token: one more tap signs.
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "我有意向" in html
        again = client.post("/intents/sign", data={"vacancy_id": other.id, "booth": booth.token,
                                                   "csrf_token": _token(html)},
                            headers={"HX-Request": "true"})
        assert again.status_code == 200 and _intents() == 2


def test_elder_switch_from_the_sites_own_page_needs_no_token(client, make_fair):
    response = client.post("/elder", data={"on": "1", "next": "/"},
                           headers={"Origin": "http://fair.test"})
    assert response.status_code == 303 and "fs_elder=1" in response.headers["Set-Cookie"]
    refused = client.post("/elder", data={"on": "1", "next": "/"},
                          headers={"Origin": "https://evil.example"})
    assert refused.status_code == 400
