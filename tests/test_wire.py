"""Light on the wire: pages compressed (brotli, gzip) by the app itself when the browser asks,
static files under content-hashed names with a year's immutable cache and precompressed
copies, the plain names still served, event streams never compressed, Vary right, and the
site's headers on every static answer too."""
from __future__ import annotations

import gzip
import re

import brotli
import pytest

from fairsite import assets
from fairsite.accounts.models import ORGANISER
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession

ROOT_STATIC = assets.source_folder()
HASHED_CSS = re.compile(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"')
HASHED_JS = re.compile(r'src="(/static/js/site\.[0-9a-f]{12}\.js)"')
BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The static build, as `make run` makes it, in a folder of this module's own."""
    out = tmp_path_factory.mktemp("static-build")
    assets.build(ROOT_STATIC, out, say=lambda _line: None)
    return out


@pytest.fixture
def app_config(built):
    return {"STATIC_BUILD_FOLDER": str(built)}


def served(relative: str) -> bytes:
    """What the site serves for a static file once built: its source packed (minified)."""
    return assets.packed(relative, (ROOT_STATIC / relative).read_bytes())


def decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def assert_site_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


# --- pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("accept, encoding", [(BROWSER, "br"), ("gzip, deflate", "gzip"),
                                              ("br;q=0.5, gzip;q=1.0", "gzip"), ("", None),
                                              ("identity", None), ("compress, bogus;q=x", None)])
def test_booth_page_comes_encoded_as_the_browser_asks(client, make_booth, accept, encoding):
    booth = make_booth(vacancies=3)
    plain = client.get(f"/q/{booth.token}")
    response = client.get(f"/q/{booth.token}", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    # The same page, whatever its encoding (the button each vacancy has, in Chinese).
    assert "我有意向" in decoded(response).decode()
    assert decoded(response).count(b"intent-btn") == plain.get_data().count(b"intent-btn") == 3
    assert "accept-encoding" in vary(response)
    assert_site_headers(response)
    if encoding:
        assert int(response.headers["Content-Length"]) == len(response.get_data())
        assert len(response.get_data()) < len(plain.get_data()) / 2


def test_fragment_keeps_vary_hx_request_beside_accept_encoding(hx, make_booth):
    booth = make_booth(vacancies=2)
    page = hx.client.get(f"/fairs/{booth.fair_id}", headers={"Accept-Encoding": BROWSER})
    fragment = hx.get(f"/fairs/{booth.fair_id}", headers={"Accept-Encoding": BROWSER})
    for response in (page, fragment):
        assert response.status_code == 200
        assert {"hx-request", "accept-encoding"} <= vary(response), response.headers.get("Vary")
    assert b"<html" not in decoded(fragment) and b"<html" in decoded(page)


# --- polling with ETags still gets its 304 from the version check -----------------------------

@pytest.fixture
def live_session(make_booth):
    booth = make_booth(vacancies=2)
    session = LiveSession(title="直播带岗 · 测试专场", host_name="小李", fair_id=booth.fair_id)
    db.session.add(session)
    db.session.flush()
    for pos, vacancy in enumerate(booth.vacancies):
        db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancy.id, position=pos))
    db.session.commit()
    return session


def test_live_board_polling_answers_304_to_a_compressed_answers_etag(client, live_session):
    url = f"/live/{live_session.id}/board"
    first = client.get(url, headers={"Accept-Encoding": BROWSER})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')  # one tag for the content in any encoding
    again = client.get(url, headers={"Accept-Encoding": BROWSER, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_tally_polling_answers_304_to_a_compressed_answers_etag(client, hx, login_as, make_booth):
    login_as(ORGANISER)
    booth = make_booth()
    url = f"/manage/fairs/{booth.fair_id}/board/tally"
    first = hx.get(url, headers={"Accept-Encoding": BROWSER})
    assert first.status_code == 200
    again = hx.get(url, headers={"Accept-Encoding": BROWSER, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# --- event streams -------------------------------------------------------------------------

def test_event_stream_is_never_compressed_and_its_first_bytes_come_at_once(client, live_session):
    response = client.get(f"/live/{live_session.id}/events", headers={"Accept-Encoding": BROWSER},
                          buffered=False)
    try:
        assert response.mimetype == "text/event-stream"
        assert "Content-Encoding" not in response.headers
        # The first chunk is there without waiting for more: nothing holds bytes back.
        first = next(iter(response.response))
        assert (first if isinstance(first, bytes) else first.encode()).startswith(b": connected")
    finally:
        response.close()


def test_tally_stream_is_never_compressed(client, login_as, make_booth):
    login_as(ORGANISER)
    booth = make_booth()
    response = client.get(f"/manage/fairs/{booth.fair_id}/board/stream",
                          headers={"Accept-Encoding": BROWSER}, buffered=False)
    try:
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        assert "Content-Encoding" not in response.headers
        first = next(iter(response.response))
        assert (first if isinstance(first, bytes) else first.encode()).startswith(b":")
    finally:
        response.close()


# --- static files ----------------------------------------------------------------------------

def test_pages_name_static_files_by_their_content(client, make_booth):
    html = client.get(f"/q/{make_booth().token}").get_data(as_text=True)
    assert HASHED_CSS.search(html) and HASHED_JS.search(html)
    assert 'href="/static/css/site.css"' not in html


def test_hashed_static_file_is_precompressed_and_cached_a_year(client, make_booth):
    html = client.get(f"/q/{make_booth().token}").get_data(as_text=True)
    css_url, js_url = HASHED_CSS.search(html).group(1), HASHED_JS.search(html).group(1)
    source = served("css/site.css")
    for accept, encoding in ((BROWSER, "br"), ("gzip", "gzip"), ("", None)):
        response = client.get(css_url, headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == encoding
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "accept-encoding" in vary(response)
        assert response.mimetype == "text/css"
        assert decoded(response) == source
        assert_site_headers(response)
    js = client.get(js_url, headers={"Accept-Encoding": BROWSER})
    assert js.headers["Content-Encoding"] == "br" and js.mimetype == "text/javascript"
    assert len(js.get_data()) < 0.4 * len(decoded(js))
    assert "Access-Control-Allow-Origin" not in js.headers


def test_unhashed_static_name_still_served_with_a_short_cache(client):
    response = client.get("/static/css/site.css", headers={"Accept-Encoding": BROWSER})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=60, public"
    assert decoded(response) == served("css/site.css")
    assert_site_headers(response)


def test_static_revalidation_answers_304_with_the_site_headers(client):
    first = client.get("/static/js/fairsite.js")
    again = client.get("/static/js/fairsite.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert_site_headers(again)


def test_static_over_https_carries_hsts(client):
    response = client.get("/static/css/site.css", base_url="https://fair.test")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/static/css/site.css").headers


@pytest.mark.parametrize("path", [
    "/static/css/site.000000000000.css",           # a hash that is not this file's
    "/static/css/../../fairsite/app.py",           # out of the folder
    "/static/%2e%2e/fairsite/config.py",
    "/static/css/site.css.br",                     # a compressed variant by its own name
    "/static/css/site.css%00.js",
    "/static/" + "a" * 3000 + ".css",
])
def test_hostile_static_paths_are_a_chinese_404(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404), path
    assert "SECRET_KEY" not in response.get_data(as_text=True)
    if response.status_code == 404:
        assert "页面不存在" in response.get_data(as_text=True)


def test_static_range_and_post_on_a_hashed_name_get_the_sites_answers(client, make_booth):
    html = client.get(f"/q/{make_booth().token}").get_data(as_text=True)
    css_url = HASHED_CSS.search(html).group(1)
    part = client.get(css_url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.get_data() == served("css/site.css")[:10]
    past = client.get(css_url, headers={"Range": "bytes=99999999-"})
    assert past.status_code == 416 and "请求有误" in past.get_data(as_text=True)
    posted = client.post(css_url)
    assert posted.status_code == 405 and "不能这样打开" in posted.get_data(as_text=True)


def test_without_the_build_static_files_are_served_plain_and_right(tmp_path, database_url):
    from fairsite.app import create_app
    from tests.conftest import base_config

    app = create_app({**base_config(database_url), "STATIC_BUILD_FOLDER": str(tmp_path / "none")})
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="css/site.css")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url)
    response = app.test_client().get(url, headers={"Accept-Encoding": BROWSER})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert response.get_data() == (ROOT_STATIC / "css" / "site.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_build_names_each_copy_by_its_content_and_keeps_other_versions(tmp_path):
    static, out = tmp_path / "static", tmp_path / "out"
    (static / "css").mkdir(parents=True)
    (static / "css" / "a.css").write_text("body { color: #123456 }\n" * 200)
    (static / "tiny.txt").write_text("x")
    first = assets.build(static, out, say=lambda _line: None)
    names = assets.manifest(static)
    copy = out / names["css/a.css"]
    assert copy.read_bytes() == b"body{color:#123456}" * 200  # minified
    assert brotli.decompress(copy.with_name(copy.name + ".br").read_bytes()) == copy.read_bytes()
    assert gzip.decompress(copy.with_name(copy.name + ".gz").read_bytes()) == copy.read_bytes()
    # Not worth compressing: the copy alone.
    assert (out / names["tiny.txt"]).exists() and not (out / (names["tiny.txt"] + ".br")).exists()
    assert assets.build(static, out, say=lambda _line: None) == []  # up to date: nothing written
    (static / "css" / "a.css").write_text("body { color: #654321 }\n" * 200)
    assets.build(static, out, say=lambda _line: None)
    new = assets.manifest(static)["css/a.css"]
    assert new != names["css/a.css"] and (out / new).exists()
    assert copy.exists()  # a server started before the change still serves its copy
    assert len(first) == 4


# --- one script, minified ------------------------------------------------------------------

def test_pages_load_htmx_and_the_sites_scripts_as_one_minified_file(client, make_booth):
    html = client.get(f"/q/{make_booth().token}").get_data(as_text=True)
    assert html.count("<script src=") == 1  # one round trip for the scripts every page runs
    js = client.get(HASHED_JS.search(html).group(1), headers={"Accept-Encoding": BROWSER})
    assert js.status_code == 200 and js.headers["Content-Encoding"] == "br"
    assert js.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    body = decoded(js)
    parts = [served(part) for part in assets.BUNDLES["js/site.js"]]
    assert body == b";\n".join(parts)
    assert body.startswith((ROOT_STATIC / "js" / "htmx-2.0.11.min.js").read_bytes())  # vendored, as is
    # The site's own scripts without their comments.
    assert b"/* fairsite" not in body and len(parts[2]) < 0.8 * len((ROOT_STATIC / "js" / "failsafe.js").read_bytes())


def test_without_the_build_the_bundle_is_made_at_start(tmp_path, database_url):
    from fairsite.app import create_app
    from tests.conftest import base_config

    app = create_app({**base_config(database_url), "STATIC_BUILD_FOLDER": str(tmp_path / "out")})
    with app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="js/site.js")
    assert re.fullmatch(r"/static/js/site\.[0-9a-f]{12}\.js", url)
    response = app.test_client().get(url)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.get_data() == b";\n".join(served(p) for p in assets.BUNDLES["js/site.js"])
    # The build then compresses the copy the start-up wrote.
    assets.build(ROOT_STATIC, tmp_path / "out", say=lambda _line: None)
    assert (tmp_path / "out" / (url.removeprefix("/static/") + ".br")).is_file()


def test_range_on_a_bundle_is_a_slice_of_the_bytes_served(client, make_booth):
    html = client.get(f"/q/{make_booth().token}").get_data(as_text=True)
    js_url = HASHED_JS.search(html).group(1)
    whole = client.get(js_url).get_data()
    part = client.get(js_url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.get_data() == whole[100:200]
