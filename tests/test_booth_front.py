"""The booth page's front door (fairsite/booths/front.py): a first scan (no cookie) gets from it
exactly what Flask would answer, and everything else goes on to Flask."""
from __future__ import annotations

import pytest

from fairsite.booths import front
from fairsite.booths.service import touch_booth
from fairsite.extensions import db
from tests.test_wire import decoded

# A cookie that means nothing to the site: the request goes through Flask, which must answer
# as the front door does.
THROUGH_FLASK = {"Cookie": "unrelated=1"}


def get(app, path, headers=None, method="GET", base_url="http://fair.test"):
    # Without the test client's cookie jar, which would replace a Cookie header.
    return app.test_client(use_cookies=False).open(path, method=method, headers=headers or {},
                                                   base_url=base_url)


@pytest.fixture
def answered(monkeypatch):
    """The tokens the front door answered itself."""
    seen = []
    original = front.FrontDoor._answer

    def spy(self, environ, token):
        answer = original(self, environ, token)
        if answer is not None:
            seen.append(token)
        return answer

    monkeypatch.setattr(front.FrontDoor, "_answer", spy)
    return seen


def headers(response) -> dict:
    return {k: v for k, v in response.headers.items() if k not in ("Content-Length", "Date")}


@pytest.mark.parametrize("request_headers", [
    {},
    {"Accept-Encoding": "gzip, deflate, br"},
    {"Accept-Encoding": "gzip"},
    {"Accept-Encoding": "br;q=0, gzip;q=0.5"},
    {"Accept-Language": "en-US,en;q=0.9"},
    {"Accept-Language": "zh-TW"},
])
def test_first_scan_gets_what_flask_would_answer(app, make_booth, answered, request_headers):
    booth = make_booth(vacancies=3)
    path = f"/q/{booth.token}"
    get(app, path, request_headers)  # Flask builds the page
    via_flask = get(app, path, {**request_headers, **THROUGH_FLASK})
    assert answered == []
    first_scan = get(app, path, request_headers)
    assert answered == [booth.token]
    assert first_scan.status_code == via_flask.status_code == 200
    assert headers(first_scan) == headers(via_flask)
    assert decoded(first_scan) == decoded(via_flask)
    assert "Set-Cookie" not in first_scan.headers
    assert "岗位1" in decoded(first_scan).decode()


def test_first_scan_over_https_carries_hsts_as_flask_does(app, make_booth, answered):
    booth = make_booth()
    path = f"/q/{booth.token}"
    get(app, path, base_url="https://fair.test")
    via_flask = get(app, path, THROUGH_FLASK, base_url="https://fair.test")
    first_scan = get(app, path, base_url="https://fair.test")
    assert answered == [booth.token]
    assert first_scan.headers["Strict-Transport-Security"] == via_flask.headers["Strict-Transport-Security"]
    assert headers(first_scan) == headers(via_flask)


def test_first_scan_of_a_booth_not_shown_gets_flasks_404(app, make_booth, answered):
    booth = make_booth(status="applied")
    path = f"/q/{booth.token}"
    via_flask = get(app, path, THROUGH_FLASK)
    first_scan = get(app, path)
    assert first_scan.status_code == via_flask.status_code == 404
    assert decoded(first_scan) == decoded(via_flask) and answered == [booth.token]


def test_a_changed_booth_is_never_answered_from_the_old_page(app, make_booth, make_vacancy, answered):
    booth = make_booth()
    path = f"/q/{booth.token}"
    client = app.test_client()
    client.get(path)  # Flask builds the page
    client.get(path)  # the front door answers from it
    booth.vacancies[0].title = "叉车司机"
    touch_booth(booth.id)
    db.session.commit()
    changed = client.get(path)
    assert "叉车司机" in changed.get_data(as_text=True)
    assert answered == [booth.token]  # the new version went through Flask first


@pytest.mark.parametrize("method, cookie", [
    ("GET", "fs_elder=1"),
    ("GET", "fs_lang=en"),
    ("HEAD", None),
])
def test_anything_but_a_cookieless_get_goes_to_flask(app, make_booth, answered, method, cookie):
    booth = make_booth()
    client = app.test_client()
    client.get(f"/q/{booth.token}")
    answered.clear()
    response = get(app, f"/q/{booth.token}", {"Cookie": cookie} if cookie else {}, method)
    assert response.status_code == 200 and answered == []
    if cookie == "fs_elder=1":
        assert 'class="elder"' in response.get_data(as_text=True)
    if cookie == "fs_lang=en":
        assert 'lang="en"' in response.get_data(as_text=True)


def test_unknown_or_malformed_token_and_untrusted_host_go_to_flask(app, make_booth, answered):
    booth = make_booth()
    client = app.test_client()
    client.get(f"/q/{booth.token}")
    assert client.get("/q/doesnotexist000").status_code == 404
    assert client.get("/q/%00%3Cscript%3E").status_code == 404
    app.config["TRUSTED_HOSTS"] = ["fair.test"]
    refused = client.get(f"/q/{booth.token}", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert answered == []


def test_a_failing_version_read_is_left_to_flask(app, make_booth, monkeypatch, answered):
    booth = make_booth()
    client = app.test_client()
    client.get(f"/q/{booth.token}")

    def broken(*_args, **_kw):
        raise RuntimeError("database gone")

    monkeypatch.setattr(front, "fetch_one_on", broken)
    # Flask's own path still reads the database: it answers (here the database still works).
    assert client.get(f"/q/{booth.token}").status_code == 200
    assert answered == []


@pytest.mark.parametrize("header, expected", [
    ("", ""), ("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"),
    ("*", "br"), ("identity", ""), ("gzip;q=1, br;q=0.5", "gzip"),
])
def test_encoding_is_chosen_by_the_browsers_preference(header, expected):
    assert front.encoding_for(header) == expected
