"""A live session on phones: the viewer's card follows the host without a reload, and a
one-tap intent on the viewer's page shows up in the host's count."""
import re

from tests.e2e.conftest import PHONE, _context, login, shot

SESSION = "/live/1"  # the demo's live session
CARD = "#live-card-1"

def test_live_session_viewer_follows_host_and_intent_reaches_host(live_server, phone, browser):
    viewer = phone.new_page()
    viewer.goto(live_server + SESSION)
    assert "直播还没有开始" in viewer.locator(CARD).inner_text()
    assert viewer.locator("#live-order-1 li").count() == 10
    shot(viewer, "live-viewer-waiting-phone")
    viewer.evaluate("window.__sameDocument = true")

    host_context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    try:
        host = host_context.new_page()
        login(host, live_server, "organiser@demo.fairsite.cn", "demo-organiser")
        host.goto(live_server + SESSION + "/host")
        host.click("button:has-text('开始直播')")
        host.wait_for_selector("button:has-text('下一个')")
        viewer.wait_for_function(
            "() => document.querySelector('#live-card-1').innerText.includes('主播马上开始介绍')", timeout=3000)

        host.click("button:has-text('下一个')")
        first = host.locator(".console-now h2").inner_text()
        viewer.wait_for_function(
            "t => document.querySelector('#live-now-1 h2')?.innerText === t", arg=first, timeout=2000)
        assert viewer.evaluate("window.__sameDocument") is True  # no reload happened
        assert "正在介绍" in viewer.locator("#live-order-1 li.is-now").inner_text()

        # One tap: the first time on this phone asks for name, phone and consent, once.
        viewer.click(f"{CARD} button:has-text('我有意向')")
        viewer.fill(f"{CARD} input[name=name]", "王秀兰")
        viewer.fill(f"{CARD} input[name=phone]", "139 0013 8000")
        viewer.check(f"{CARD} input[name=consent]")
        viewer.click(f"{CARD} button:has-text('确认登记')")
        viewer.wait_for_selector(f"{CARD} .done")
        assert "已登记" in viewer.locator(f"{CARD} .done").inner_text()
        viewer.wait_for_function(
            "() => document.querySelector('#live-counts-1').innerText.includes('已有 1 人登记')", timeout=3000)
        viewer.evaluate("window.scrollTo(0, 0)")
        shot(viewer, "live-viewer-phone")

        # The host's count rises by itself (the console re-fetches on the tally event).
        host.wait_for_function(
            "() => document.querySelector('#live-now-count-1')?.innerText === '1'", timeout=3000)
        assert host.locator("#live-total-1").inner_text() == "1"
        assert int(host.locator("#live-viewers-1").inner_text()) >= 1
        host.evaluate("window.scrollTo(0, 0)")
        shot(host, "live-host-phone")

        # The host moves on: the viewer's card follows, the first one is marked as presented.
        host.click("button:has-text('下一个')")
        second = host.locator(".console-now h2").inner_text()
        viewer.wait_for_function(
            "t => document.querySelector('#live-now-1 h2')?.innerText === t", arg=second, timeout=2000)
        viewer.wait_for_function(
            "() => document.querySelectorAll('#live-order-1 li.is-done').length === 1", timeout=2000)
        assert viewer.evaluate("window.__sameDocument") is True
        # A known phone signs with one tap now.
        viewer.click(f"{CARD} button:has-text('我有意向')")
        viewer.wait_for_selector(f"{CARD} .done")
        host.wait_for_function(
            "() => document.querySelector('#live-total-1')?.innerText === '2'", timeout=3000)

        # Tap targets on the viewer page are at least 44 px high.
        heights = viewer.eval_on_selector_all(
            # Hidden ones (读给我听 where the browser has no Chinese voice) are no target.
            f"{CARD} button, {CARD} a.button",
            "els => els.filter(e => e.getClientRects().length)"
            ".map(e => e.getBoundingClientRect().height)")
        assert all(h >= 44 for h in heights)
        font = viewer.evaluate("getComputedStyle(document.body).fontSize")
        assert float(font.rstrip("px")) >= 18
        assert host_context.csp_errors == []

    finally:
        host_context.close()

def test_live_viewer_polls_with_etag_where_sse_cannot_connect(live_server, browser):
    """An in-app browser without EventSource: the board polls (ETag/304) and still follows."""
    context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    context.add_init_script("delete window.EventSource")
    statuses = []
    context.on("response", lambda r: statuses.append(r.status) if "/board" in r.url else None)
    try:
        viewer = context.new_page()
        viewer.goto(live_server + SESSION)
        host_context = _context(browser, PHONE)
        host = host_context.new_page()
        login(host, live_server, "organiser@demo.fairsite.cn", "demo-organiser")
        host.goto(live_server + SESSION + "/host")
        if host.locator("button:has-text('开始直播')").count():
            host.click("button:has-text('开始直播')")
        host.click("button:has-text('下一个')")
        title = host.locator(".console-now h2").inner_text()
        viewer.wait_for_function(
            "t => document.querySelector('#live-now-1 h2')?.innerText === t", arg=title, timeout=8000)
        viewer.wait_for_timeout(3500)
        assert statuses and all(s in (200, 304) for s in statuses)
        assert context.csp_errors == [] and host_context.csp_errors == []
        host_context.close()
    finally:
        context.close()


def test_live_viewer_polls_when_the_stream_is_refused(live_server, browser):
    """Past the per-address cap the stream answers 429 (one address holds only so many): the
    board polls instead and still follows the host."""
    context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    context.route("**/live/1/events", lambda route: route.fulfill(
        status=429, body="busy", content_type="text/plain", headers={"Retry-After": "60"}))
    try:
        viewer = context.new_page()
        viewer.goto(live_server + SESSION)
        host_context = _context(browser, PHONE)
        host = host_context.new_page()
        login(host, live_server, "organiser@demo.fairsite.cn", "demo-organiser")
        host.goto(live_server + SESSION + "/host")
        if host.locator("button:has-text('开始直播')").count():
            host.click("button:has-text('开始直播')")
        host.click("button:has-text('下一个')")
        title = host.locator(".console-now h2").inner_text()
        viewer.wait_for_function(
            "t => document.querySelector('#live-now-1 h2')?.innerText === t", arg=title, timeout=8000)
        assert context.csp_errors == [] and host_context.csp_errors == []
        host_context.close()
    finally:
        context.close()

def test_live_host_console_needs_login(live_server, phone):
    page = phone.new_page()
    page.goto(live_server + SESSION + "/host")
    assert re.search(r"/login", page.url)
