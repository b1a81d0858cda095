"""Elder mode (长辈模式): one tap on any attendee page, remembered by the phone (a cookie), the
class on <html> from the server, the "读给我听" words on each vacancy."""
from __future__ import annotations

import re

import pytest

from fairsite.elder.service import safe_next
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession


def html_tag(body: str) -> str:
    return re.search(r"<html[^>]*>", body).group(0)


def switch(client, on: str, next_path: str):
    return client.post("/elder", data={"on": on, "next": next_path})


def test_toggle_sets_the_cookie_and_goes_back_to_the_page(client, make_booth):
    booth = make_booth(vacancies=2)
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    assert html_tag(page) == '<html lang="zh-CN">'
    # The switch is a plain form on the page, coming back to the same page.
    assert 'action="/elder"' in page and f'name="next" value="/q/{booth.token}"' in page
    assert "长辈模式" in page

    response = switch(client, "1", f"/q/{booth.token}")
    assert response.status_code == 303 and response.headers["Location"] == f"/q/{booth.token}"
    assert "fs_elder=1" in response.headers["Set-Cookie"] and "Max-Age" in response.headers["Set-Cookie"]
    elder = client.get(f"/q/{booth.token}")
    assert html_tag(elder.get_data(as_text=True)) == '<html lang="zh-CN" class="elder">'
    assert "Cookie" in elder.headers["Vary"]

    # Back to the standard size: the cookie goes, the class with it.
    response = switch(client, "0", "/")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert html_tag(client.get(f"/q/{booth.token}").get_data(as_text=True)) == '<html lang="zh-CN">'


def test_elder_class_on_every_attendee_page_while_the_shared_page_stays_plain(client, app, make_booth):
    booth = make_booth(vacancies=1)
    other = app.test_client()
    switch(client, "1", "/")
    for path in ("/", f"/fairs/{booth.fair_id}", f"/q/{booth.token}", "/me",
                 f"/intents/sign?vacancy_id={booth.vacancies[0].id}&booth={booth.token}"):
        assert 'class="elder"' in html_tag(client.get(path).get_data(as_text=True)), path
        # The same cached page, for a phone without the cookie: standard.
        assert "elder" not in html_tag(other.get(path).get_data(as_text=True)), path


def test_elder_class_only_on_whole_pages_not_fragments(client, hx, make_booth):
    booth = make_booth(vacancies=1)
    switch(client, "1", "/")
    fragment = hx.get(f"/fairs/{booth.fair_id}?q=岗位").get_data(as_text=True)
    assert "<html" not in fragment and "elder" not in fragment


@pytest.mark.parametrize("on", ["", "2", "yes", "1\x00", "１"])
def test_toggle_bad_value_is_a_clear_400_and_sets_nothing(client, on):
    response = switch(client, on, "/")
    assert response.status_code == 400
    assert "请求有误" in response.get_data(as_text=True)
    assert "fs_elder" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("raw", ["//evil.example/", "/\\evil.example", "https://evil.example/", "evil",
                                 "/q/x\r\nSet-Cookie: a=b", "", None, "/" + "a" * 3000])
def test_toggle_never_goes_off_site(client, raw):
    data = {"on": "1"} if raw is None else {"on": "1", "next": raw}
    response = client.post("/elder", data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert safe_next(raw) == "/"


def test_toggle_without_csrf_token_changes_nothing(app, make_fair):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/elder", data={"on": "1", "next": "/"})
    assert response.status_code == 400 and "fs_elder" not in response.headers.get("Set-Cookie", "")


def test_toggle_is_post_only(client):
    assert client.get("/elder?on=1").status_code == 405


def test_read_aloud_words_on_booth_and_fair_vacancies(client, make_booth, make_vacancy, make_employer):
    employer = make_employer()
    v = make_vacancy(employer, title="电子装配工", pay_min=4000, pay_max=6000, location="高新区",
                     age_min=18, age_max=50, meals_lodging=True, social_insurance=True)
    booth = make_booth(employer=employer, vacancies=[v])
    words = "电子装配工。月薪4000到6000元。包吃住，五险一金，长白班。地点：高新区。年龄18到50岁。"
    for path in (f"/q/{booth.token}", f"/fairs/{booth.fair_id}"):
        page = client.get(path).get_data(as_text=True)
        assert f'data-speak="{words}"' in page, path
        assert "读给我听" in page


def test_read_aloud_on_the_live_card(client, make_vacancy):
    v = make_vacancy(title="质检员", pay_min=5000, pay_max=5000, location="", age_min=None, age_max=None,
                     meals_lodging=False, social_insurance=False, shifts="")
    session = LiveSession(title="直播带岗", status="live", current_vacancy_id=v.id)
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=v.id, position=0))
    db.session.commit()
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert 'data-speak="质检员。月薪5000元。"' in page


def test_hostile_vacancy_text_is_escaped_in_the_spoken_words(client, make_booth, make_vacancy, make_employer):
    employer = make_employer()
    v = make_vacancy(employer, title='"><script>alert(1)</script>', location="<b>x</b>")
    booth = make_booth(employer=employer, vacancies=[v])
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
