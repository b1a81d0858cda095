"""What every response says about itself: a Content-Security-Policy without unsafe-*, nosniff,
a referrer policy, HSTS over HTTPS; no-store on staff and personal pages; cookies Secure over
HTTPS (also behind a trusted proxy); absolute URLs that never follow the Host header; and a
cap on the event streams one address may hold."""
from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from fairsite.accounts.models import EMPLOYER, ORGANISER
from fairsite.app import create_app
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession
from fairsite.qr.service import qr_png
from tests.conftest import PASSWORD

SITE = "https://jobs.example.gov.cn"
ATTENDEE_FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}

# Pages showing staff or one person's data: never stored. (The tally board's counts fragment
# is the one staff response a browser may keep, to revalidate it: private, no-cache.)
PRIVATE_PATH = re.compile(
    r"^/(employer|manage|me|login|account|live/manage|live/new|live/\d+/(host|edit|candidates))(/|$|\?)")
COUNTS_FRAGMENT = re.compile(r"^/manage/fairs/\d+/board/tally")
LINK = re.compile(r'(?:href|hx-get)="(/[^"#]*)')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"""\s(on[a-z]+|style|hx-on[:\w-]*)\s*=""", re.I)


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.fixture
def site(make_booth, make_intent):
    """A fair with an approved booth, an intent at it, and a live session of its vacancies."""
    booth = make_booth(vacancies=2)
    make_intent(booth, phone="13900139000", name="李四")
    session = LiveSession(title="直播带岗 · 测试专场", host_name="小李", fair_id=booth.fair_id)
    db.session.add(session)
    db.session.flush()
    for pos, vacancy in enumerate(booth.vacancies):
        db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancy.id, position=pos))
    db.session.commit()
    return {"booth": booth, "fair_id": booth.fair_id, "session_id": session.id,
            "token": booth.token, "employer": booth.employer}


def assert_safe_headers(response, url: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'",
                      "form-action 'self'", "base-uri 'none'", "object-src 'none'"):
        assert directive in csp, (url, directive, csp)
    assert "unsafe-" not in csp, (url, csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "same-origin"), url


def assert_no_inline_code(response, url: str) -> None:
    if response.mimetype != "text/html":
        return
    html = response.get_data(as_text=True)
    assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
    found = INLINE_HANDLER.search(html)
    assert not found, (url, html[max(0, found.start() - 80):found.end() + 80])
    assert "<style" not in html, url


def crawl(client, starts: list[str], limit: int = 80) -> dict[str, object]:
    """GET each start page and every same-site link found (href, hx-get), breadth first."""
    seen: dict[str, object] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        url = queue.popleft().replace("&amp;", "&")
        if url in seen or url.startswith("/static/"):
            continue
        response = client.get(url)
        seen[url] = response
        if response.mimetype == "text/html" and response.status_code == 200:
            queue.extend(u for u in LINK.findall(response.get_data(as_text=True)) if u not in seen)
    return seen


def check_crawl(pages: dict[str, object]) -> None:
    for url, response in pages.items():
        assert response.status_code < 500, url
        assert_safe_headers(response, url)
        assert_no_inline_code(response, url)
        cache = response.headers.get("Cache-Control", "")
        if COUNTS_FRAGMENT.match(url):
            assert cache == "private, no-cache", (url, cache)
        elif PRIVATE_PATH.match(url):
            assert cache == "no-store", (url, cache)


def test_pages_of_anonymous_visitor_carry_security_headers(client, site):
    sid, fid, token = site["session_id"], site["fair_id"], site["token"]
    pages = crawl(client, ["/", f"/fairs/{fid}", f"/q/{token}", f"/live/{sid}", f"/l/{sid}",
                           f"/live/{sid}/board", f"/qr/booth/{token}.png", f"/qr/fair/{fid}.png",
                           f"/live/{sid}/qr.png", "/login", "/register", "/me", "/employer",
                           "/manage/fairs", "/no/such/page"])
    check_crawl(pages)
    for path in ("/static/css/site.css", "/static/js/fairsite.js"):
        assert_safe_headers(client.get(path), path)
    assert pages["/no/such/page"].status_code == 404
    assert pages["/me"].headers["Cache-Control"] == "no-store"
    assert pages["/login"].headers["Cache-Control"] == "no-store"


def test_pages_of_attendee_carry_security_headers_and_my_data_is_not_stored(client, site):
    booth = site["booth"]
    signed = client.post("/intents/sign", data={"vacancy_id": booth.vacancies[0].id,
                                                "booth": booth.token, **ATTENDEE_FORM})
    assert signed.status_code in (200, 303)
    assert signed.headers["Cache-Control"] == "no-store"
    pages = crawl(client, ["/me", "/me/delete", f"/q/{booth.token}", f"/fairs/{site['fair_id']}",
                           f"/live/{site['session_id']}"])
    check_crawl(pages)
    assert "张三" in pages["/me"].get_data(as_text=True)
    # The booth page keeps its own rule: a browser may keep it, revalidating every time.
    assert pages[f"/q/{booth.token}"].headers["Cache-Control"] == "private, no-cache"


def test_pages_of_employer_staff_are_never_stored(client, hx, login_as, make_user, site):
    user = make_user(EMPLOYER, employer=site["employer"])
    login_as(user=user)
    pages = crawl(client, ["/employer", "/employer/intents", "/employer/vacancies",
                           "/employer/booths", f"/employer/booths/{site['booth'].id}/poster",
                           "/employer/profile", "/employer/staff", f"/fairs/{site['fair_id']}"])
    check_crawl(pages)
    assert pages["/employer/intents"].status_code == 200
    intent_id = int(re.search(r"/employer/intents/(\d+)/reveal",
                              pages["/employer/intents"].get_data(as_text=True)).group(1))
    answers = {
        "rows": hx.get("/employer/intents/rows"),
        "reveal": hx.post(f"/employer/intents/{intent_id}/reveal"),
        "csv": client.post("/employer/intents/export", data={"format": "csv"}),
        "xlsx": client.post("/employer/intents/export", data={"format": "xlsx"}),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        assert_safe_headers(response, name)
        assert response.headers["Cache-Control"] == "no-store", name
    assert "13900139000" in answers["reveal"].get_data(as_text=True)


def test_pages_of_organiser_are_never_stored(client, hx, login_as, site):
    login_as(ORGANISER)
    fid, sid = site["fair_id"], site["session_id"]
    desk = client.post(f"/manage/fairs/{fid}/desk", data={
        "name": "李桂兰", "phone": "139 0013 9001", "consent": "y", "action": "register",
        "vacancy": [site["booth"].vacancies[0].id]})
    assert desk.status_code == 303
    slip = desk.headers["Location"]
    pages = crawl(client, [f"/manage/fairs/{fid}", f"/manage/fairs/{fid}/booths",
                           f"/manage/fairs/{fid}/posters", f"/manage/fairs/{fid}/desk", slip,
                           f"/manage/fairs/{fid}/board", f"/manage/fairs/{fid}/board/tally",
                           f"/manage/fairs/{fid}/report", f"/manage/fairs/{fid}/report.xlsx",
                           "/manage/fairs", "/live/manage", "/live/new", f"/live/{sid}/host",
                           f"/live/{sid}/edit"], limit=100)
    check_crawl(pages)
    for url in (slip, f"/manage/fairs/{fid}/report.xlsx", f"/live/{sid}/host"):
        assert pages[url].status_code == 200, url
        assert pages[url].headers["Cache-Control"] == "no-store", url


def test_tally_and_live_board_keep_their_etag_polling(client, login_as, site):
    """Public (and the board's) polling endpoints still answer 304 to a browser's ETag."""
    live = client.get(f"/live/{site['session_id']}/board")
    assert live.headers["Cache-Control"] == "no-cache" and live.headers.get("ETag")
    again = client.get(f"/live/{site['session_id']}/board",
                       headers={"If-None-Match": live.headers["ETag"]})
    assert again.status_code == 304
    login_as(ORGANISER)
    tally = client.get(f"/manage/fairs/{site['fair_id']}/board/tally")
    assert tally.headers["Cache-Control"] == "private, no-cache"
    again = client.get(f"/manage/fairs/{site['fair_id']}/board/tally",
                       headers={"If-None-Match": tally.headers["ETag"]})
    assert again.status_code == 304


def test_csp_frames_only_the_video_platforms_a_live_page_embeds(client, site):
    csp = client.get(f"/live/{site['session_id']}").headers["Content-Security-Policy"]
    frames = re.search(r"frame-src ([^;]+)", csp).group(1).split()
    assert "https://player.bilibili.com" in frames and "https://www.bilibili.com" in frames
    assert all(f.startswith("https://") for f in frames) and "*" not in csp


# --- HTTPS, cookies, proxies -------------------------------------------------------------

def cookies_set(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_login_over_https_sets_secure_httponly_cookies_and_hsts(client, make_user):
    user = make_user(ORGANISER)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD},
                           base_url="https://fair.test")
    assert response.status_code == 303
    cookies = cookies_set(response)
    assert {"session", "remember_token"} <= set(cookies)
    for cookie in cookies.values():
        assert "; Secure" in cookie and "; HttpOnly" in cookie
    remember = cookies["remember_token"]
    assert "SameSite=Lax" in remember
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    assert timedelta(days=13) < expires - datetime.now(UTC) <= timedelta(days=14, minutes=1)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_over_plain_http_has_no_secure_flag_and_no_hsts(client, make_user):
    user = make_user(ORGANISER)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 303
    assert all("; Secure" not in c for c in cookies_set(response).values())
    assert "Strict-Transport-Security" not in response.headers


def test_attendee_device_cookie_is_secure_over_https(client, site):
    booth = site["booth"]
    response = client.post("/intents/sign", base_url="https://fair.test", data={
        "vacancy_id": booth.vacancies[0].id, "booth": booth.token, **ATTENDEE_FORM})
    device = cookies_set(response)["fs_device"]
    assert "; Secure" in device and "; HttpOnly" in device


def test_forwarded_proto_is_ignored_without_trusted_proxy(client, make_user):
    user = make_user(ORGANISER)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"})
    assert all("; Secure" not in c for c in cookies_set(response).values())
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXY_HOPS": 1}], indirect=True)
def test_login_behind_trusted_proxy_over_https_sets_secure_cookies(client, make_user):
    user = make_user(ORGANISER)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 303
    cookies = cookies_set(response)
    assert "session" in cookies and all("; Secure" in c for c in cookies.values())
    assert "Strict-Transport-Security" in response.headers


# --- absolute URLs never come from the Host header ------------------------------------------

@pytest.mark.parametrize("app_config", [{"SITE_ADDRESS": SITE}], indirect=True)
def test_request_for_another_host_is_refused(client, site):
    for path in ("/", f"/qr/fair/{site['fair_id']}.png", f"/live/{site['session_id']}"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
        assert "evil.example" not in response.get_data(as_text=True)
        assert "不是本站的地址" in response.get_data(as_text=True)
        assert_safe_headers(response, path)
    assert client.get("/", headers={"Host": "jobs.example.gov.cn"}).status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200


@pytest.mark.parametrize("app_config", [{"SITE_ADDRESS": SITE}], indirect=True)
def test_qr_png_and_share_link_use_site_address_whatever_the_forwarded_host(client, site):
    fid, sid = site["fair_id"], site["session_id"]
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
    png = client.get(f"/qr/fair/{fid}.png", headers=forged)
    assert png.status_code == 200
    assert png.data == qr_png(f"{SITE}/fairs/{fid}/checkin")
    assert client.get(f"/live/{sid}/qr.png", headers=forged).data == qr_png(f"{SITE}/l/{sid}")
    page = client.get(f"/live/{sid}", headers=forged).get_data(as_text=True)
    assert f"{SITE}/l/{sid}" in page and "evil.example" not in page


@pytest.mark.parametrize("app_config", [{"SITE_ADDRESS": SITE, "TRUSTED_PROXY_HOPS": 1}],
                         indirect=True)
def test_forwarded_host_of_another_site_is_refused_behind_trusted_proxy(client, site):
    response = client.get(f"/qr/fair/{site['fair_id']}.png",
                          headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 400
    ok = client.get(f"/qr/fair/{site['fair_id']}.png",
                    headers={"X-Forwarded-Host": "jobs.example.gov.cn", "X-Forwarded-Proto": "https"})
    assert ok.status_code == 200 and ok.data == qr_png(f"{SITE}/fairs/{site['fair_id']}/checkin")


def test_app_refuses_to_start_in_production_without_site_address(tmp_path, monkeypatch):
    monkeypatch.delenv("FAIRSITE_SITE_ADDRESS", raising=False)
    # SITE_ADDRESS left empty, as the default is: whatever instance/config.py says on this machine.
    config = {"SECRET_KEY": "a-real-secret", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
              "SITE_ADDRESS": ""}
    with pytest.raises(RuntimeError, match=r'SITE_ADDRESS = "http://127.0.0.1:8000"'):
        create_app(config)
    app = create_app({**config, "SITE_ADDRESS": "jobs.example.gov.cn/"})
    assert app.config["SITE_ADDRESS"] == SITE
    assert app.config["TRUSTED_HOSTS"] == ["jobs.example.gov.cn", "localhost", "127.0.0.1"]


# --- event streams: one address cannot hold them all ---------------------------------------

@pytest.mark.parametrize("app_config", [{"SSE_STREAMS_PER_ADDRESS": 2, "SSE_HEARTBEAT": 0.05}],
                         indirect=True)
def test_live_events_refuses_streams_past_the_cap_per_address(client, site):
    url = f"/live/{site['session_id']}/events"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert next(first.response).startswith(b": connected")
    refused = client.get(url)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] and refused.mimetype == "text/plain"
    assert_safe_headers(refused, url)
    # Another address still gets its stream; a closed stream frees its place.
    other = client.get(url, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200
    first.close()
    third = client.get(url)
    assert third.status_code == 200
    for response in (second, other, third):
        response.close()
    last = client.get(url)
    assert last.status_code == 200
    last.close()
