"""What a person sees when something goes wrong, in Chromium: the 21st signing's message on the
booth page; a tap while the network is down; an HR clerk's status save after her session ended
(the login page and back, the dropdown not left on a value that was not saved); "退出" in
another tab with the tally board open; a stream that drops; and signing with the network cut,
with and without a reload while offline: kept on the phone, sent when the network returns,
exactly one intent in the employer's list and on the tally board."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import BACKENDS, SHOTS, shot, start_server, stop_server

EMPLOYER = ("hr@demo.fairsite.cn", "demo-employer")
ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")
OUT = Path("/tmp/shots")


def login(page, base: str, login: str, password: str) -> None:
    # The login form's own button (the top bar has buttons too: the elder mode switch).
    page.goto(base + "/login")
    if "/login" not in page.url:
        return  # this browser is logged in already
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("#main button[type=submit]")
    page.wait_for_load_state()


def picture(page, name: str) -> None:
    """A screenshot in tests/e2e/shots/, and a copy in /tmp/shots/ for the report."""
    shot(page, name)
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHOTS / f"{name}.png", OUT / f"{name}.png")


def new_phone() -> str:
    return f"137{random.randrange(10**8):08d}"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    """A server of our own, and what its database says: the demo employer's booths at the demo
    fair (one per offline test, so each starts unsigned), and 21 vacancies to sign."""
    proc, base, env = start_server(tmp_path_factory.mktemp("failures"), backend=request.param)
    engine = create_engine(env["FAIRSITE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        own = conn.execute(text(
            "SELECT b.token, b.fair_id FROM booths b JOIN users u ON u.employer_id = b.employer_id "
            "WHERE u.login = :login AND b.status = 'approved' ORDER BY b.id LIMIT 1"
        ), {"login": EMPLOYER[0]}).one()
        places = conn.execute(text(
            "SELECT b.token, bv.vacancy_id FROM booths b JOIN booth_vacancies bv ON bv.booth_id = b.id "
            "JOIN vacancies v ON v.id = bv.vacancy_id WHERE b.status = 'approved' AND v.is_open "
            "AND b.fair_id = :fair ORDER BY b.id, bv.position LIMIT 21"
        ), {"fair": own.fair_id}).all()
        live_id = conn.execute(text("SELECT id FROM live_sessions ORDER BY id LIMIT 1")).scalar_one()
    engine.dispose()
    yield {"base": base, "own_booth": own.token, "fair_id": own.fair_id, "places": places,
           "live_id": live_id}
    stop_server(proc, env)


@pytest.fixture(scope="module")
def someone_signed(site, browser):
    """Someone signed at the demo employer's booth, so its list has a row to follow up."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{site['base']}/q/{site['own_booth']}")
    slot = page.locator(".intent-slot").last
    slot.locator("button.intent-btn").click()
    _fill_first_form(page, "跟进测试", new_phone())
    page.click(".first-form button[type=submit]")
    slot.locator(".done").wait_for()
    context.close()
    return "跟进测试"


def _fill_first_form(page, name: str, phone: str) -> None:
    page.locator(".first-form").wait_for()
    page.fill("input[name=name]", name)
    page.fill("input[name=phone]", phone)
    page.check("input[name=consent]")


def _board_intents(page) -> int:
    return int(page.inner_text("#tally-intents").replace(",", ""))


def _rows_named(page, name: str) -> int:
    return page.locator("#employer-intent-rows tr.intent-row", has_text=name).count()


def test_sign_21st_in_an_hour_shows_why_on_the_booth_page(site, phone):
    base, places = site["base"], site["places"]
    page = phone.new_page()
    token, vacancy_id = places[0]
    page.goto(f"{base}/q/{token}")
    page.locator(f"#intent-{vacancy_id} button.intent-btn").click()
    _fill_first_form(page, "周丽", new_phone())
    page.click(".first-form button[type=submit]")
    page.locator(f"#intent-{vacancy_id} .done").wait_for()
    # Nineteen more from this phone, the way its buttons post them (with the token its pages
    # carry now that it is known).
    page.reload()
    csrf = page.get_attribute("meta[name=csrf-token]", "content")
    for token_, vacancy in places[1:20]:
        answer = page.request.post(f"{base}/intents/sign", form={
            "vacancy_id": str(vacancy), "booth": token_, "csrf_token": csrf})
        assert answer.ok
    # The 21st, tapped on a booth page: the message shows where the button was.
    last_token, last_vacancy = places[20]
    page.goto(f"{base}/q/{last_token}")
    button = page.locator(f"#intent-{last_vacancy} button.intent-btn")
    button.click()
    message = page.locator(f"#intent-{last_vacancy} [role=alert]")
    message.wait_for()
    assert "登记太频繁" in message.inner_text()
    picture(page, "failure-429-phone")


def test_every_button_says_it_is_working_until_the_answer(site, phone):
    page = phone.new_page()
    page.goto(f"{site['base']}/q/{site['own_booth']}")
    # htmx: from the tap (the request is under way) until the answer swaps the button away.
    said = page.evaluate("""() => {
        const button = document.querySelector('button.intent-btn');
        button.click();
        return [button.textContent, button.disabled];
    }""")
    assert said == ["正在提交…", True]
    page.locator(".first-form").wait_for()
    # A plain form (the elder mode switch, no htmx): the same words until the next page.
    said = page.evaluate("""() => {
        const button = document.querySelector('.elder-switch button.elder-on');
        button.click();
        return button.textContent;
    }""")
    assert said == "正在提交…"
    page.wait_for_load_state()


def test_tap_while_offline_says_so_and_keeps_the_choice_honest(site, someone_signed, laptop):
    page = laptop.new_page()
    login(page, site["base"], *EMPLOYER)
    page.goto(site["base"] + "/employer/intents")
    row = page.locator("#employer-intent-rows tr.intent-row", has_text=someone_signed)
    select = row.locator("select[name=status]")
    saved = select.input_value()
    other = "contacted" if saved != "contacted" else "interviewed"
    laptop.set_offline(True)
    select.select_option(other)
    row.locator("input[name=note]").fill("周三面试")
    row.locator("button:has-text('保存')").click()
    box = row.locator(".fs-msg")
    box.wait_for()
    assert "网络不通" in box.inner_text() and "没有保存" in box.inner_text()
    assert box.locator("button:has-text('再试一次')").is_visible()
    assert select.input_value() == saved  # not left on a value that was not saved
    assert row.locator("input[name=note]").input_value() == "周三面试"  # what she typed stays
    assert row.locator("button:has-text('保存')").is_enabled()
    laptop.set_offline(False)


def test_status_save_after_the_session_ended_goes_to_login_and_back(site, someone_signed, laptop):
    page = laptop.new_page()
    login(page, site["base"], *EMPLOYER)
    page.goto(site["base"] + "/employer/intents")
    row = page.locator("#employer-intent-rows tr.intent-row", has_text=someone_signed)
    row_id = row.get_attribute("id")
    saved = row.locator("select[name=status]").input_value()
    laptop.clear_cookies()  # the session ends while the list is on the screen
    row.locator("select[name=status]").select_option("unsuitable" if saved != "unsuitable" else "contacted")
    row.locator("button:has-text('保存')").click()
    page.wait_for_url("**/login?next=**")
    assert "登录已失效" in page.inner_text("#main")
    assert page.locator(".intent-row").count() == 0  # the login page, not a fragment of it
    picture(page, "failure-session-ended-login")
    page.fill("input[name=login]", EMPLOYER[0])
    page.fill("input[name=password]", EMPLOYER[1])
    page.click("#main button[type=submit]")
    page.wait_for_url("**/employer/intents**")
    assert page.locator(f"#{row_id} select[name=status]").input_value() == saved  # nothing was saved


def test_logout_in_another_tab_takes_the_tally_board_to_login(site, tablet):
    board = tablet.new_page()
    login(board, site["base"], *ORGANISER)
    board.goto(f"{site['base']}/manage/fairs/{site['fair_id']}/board")
    board.wait_for_selector(f"#board-link-{site['fair_id']}[data-live='1']", timeout=8000)
    other = tablet.new_page()
    other.goto(site["base"] + "/manage/fairs")
    other.click("button:has-text('退出')")
    other.wait_for_load_state()
    board.locator("#fs-page-msg:has-text('已在其他页面退出登录')").wait_for(timeout=3000)
    board.wait_for_url("**/login?next=**board", timeout=5000)
    assert board.locator(".big-stats").count() == 0


def test_board_logged_out_elsewhere_leads_to_login_at_its_next_update(site, tablet, browser):
    """Without the other tab's word (another browser window, a session ended on the server):
    the board's next update takes the page to the login page, never a login form in the board."""
    board = tablet.new_page()
    login(board, site["base"], *ORGANISER)
    board.goto(f"{site['base']}/manage/fairs/{site['fair_id']}/board")
    board.wait_for_selector(f"#board-link-{site['fair_id']}[data-live='1']", timeout=8000)
    # The same login logs out from another browser: every copy of its session ends.
    elsewhere = browser.new_context(locale="zh-CN")
    page = elsewhere.new_page()
    login(page, site["base"], *ORGANISER)
    page.click("button:has-text('退出')")
    page.wait_for_load_state()
    elsewhere.close()
    # Someone signs: the board asks for its numbers, and is led to log in.
    board.evaluate("() => window.htmx.trigger(document.querySelector('.board'), 'fs:poll')")
    board.wait_for_url("**/login?next=**board", timeout=5000)
    assert "登录已失效" in board.inner_text("#main")


def test_dropped_stream_says_so_until_it_is_back(site, tablet):
    board = tablet.new_page()
    login(board, site["base"], *ORGANISER)
    board.goto(f"{site['base']}/manage/fairs/{site['fair_id']}/board")
    badge = board.locator(f"#board-link-{site['fair_id']}")
    board.wait_for_selector(f"#board-link-{site['fair_id']}[data-live='1']", timeout=8000)
    assert badge.inner_text() == "● 实时"
    tablet.set_offline(True)
    board.wait_for_selector(f"#board-link-{site['fair_id']}[data-down='1']", timeout=5000)
    assert badge.inner_text().startswith("连接中断，正在重连…")
    tablet.set_offline(False)
    board.wait_for_selector(f"#board-link-{site['fair_id']}[data-live='1']", timeout=15000)
    assert badge.inner_text() == "● 实时"


def test_live_viewer_and_employer_list_badges_follow_their_streams(site, phone, laptop):
    viewer = phone.new_page()
    viewer.goto(f"{site['base']}/live/{site['live_id']}")
    badge = f"#live-link-{site['live_id']}"
    viewer.wait_for_selector(f"{badge}[data-live='1']", timeout=8000)
    assert viewer.inner_text(badge) == "● 实时"
    page = laptop.new_page()
    login(page, site["base"], *EMPLOYER)
    page.goto(site["base"] + "/employer/intents")
    page.wait_for_selector("#employer-intents-link[data-live='1']", timeout=8000)
    phone.set_offline(True)
    laptop.set_offline(True)
    viewer.wait_for_selector(f"{badge}[data-down='1']", timeout=5000)
    page.wait_for_selector("#employer-intents-link[data-down='1']", timeout=5000)
    assert viewer.inner_text(badge) == "连接中断，正在重连…"
    picture(viewer, "failure-live-stream-down-phone")
    phone.set_offline(False)
    laptop.set_offline(False)
    viewer.wait_for_selector(f"{badge}[data-live='1']", timeout=15000)
    page.wait_for_selector("#employer-intents-link[data-live='1']", timeout=15000)


def _signed_once(site, laptop, tablet, name: str, before: int) -> None:
    """Exactly one intent of `name` in the employer's list, and one more on the tally board."""
    page = laptop.new_page()
    login(page, site["base"], *EMPLOYER)
    page.goto(site["base"] + "/employer/intents")
    assert _rows_named(page, name) == 1
    board = tablet.new_page()
    login(board, site["base"], *ORGANISER)
    board.goto(f"{site['base']}/manage/fairs/{site['fair_id']}/board")
    assert _board_intents(board) == before + 1


def _board_count(site, tablet) -> int:
    board = tablet.new_page()
    login(board, site["base"], *ORGANISER)
    board.goto(f"{site['base']}/manage/fairs/{site['fair_id']}/board")
    count = _board_intents(board)
    board.close()
    return count


def _wait_kept_in_cache(page):
    page.wait_for_function(
        "url => caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.match(url)))))"
        ".then(hits => hits.some(Boolean))", arg=page.url, timeout=10000, polling=250)


def test_sign_with_the_network_cut_is_kept_and_sent_once(site, phone, laptop, tablet):
    before = _board_count(site, tablet)
    page = phone.new_page()
    page.goto(f"{site['base']}/q/{site['own_booth']}")
    slot = page.locator(".intent-slot").first
    slot_id = slot.get_attribute("id")
    slot.locator("button.intent-btn").click()
    name = "离线测试甲"
    _fill_first_form(page, name, new_phone())
    phone.set_offline(True)
    page.click(".first-form button[type=submit]")
    kept = page.locator(f"#{slot_id} .fs-kept")
    kept.wait_for()
    assert "已保存在手机上，联网后自动提交" in kept.inner_text()
    assert page.input_value("input[name=name]") == name  # what they typed stays
    picture(page, "failure-offline-kept-phone")
    # Tapped again while still offline: the same signing, kept once.
    page.click(".first-form button[type=submit]")
    page.wait_for_timeout(300)
    assert page.evaluate("() => JSON.parse(localStorage.getItem('fs-sign-queue')).length") == 1
    phone.set_offline(False)
    page.locator(f"#{slot_id} .done").wait_for(timeout=15000)
    assert "已登记" in page.locator(f"#{slot_id}").inner_text()
    assert page.evaluate("() => localStorage.getItem('fs-sign-queue')") is None
    picture(page, "failure-offline-sent-phone")
    _signed_once(site, laptop, tablet, name, before)


def test_sign_offline_then_reload_offline_shows_the_page_and_sends_it_later(site, phone, laptop, tablet):
    before = _board_count(site, tablet)
    page = phone.new_page()
    page.goto(f"{site['base']}/q/{site['own_booth']}")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    _wait_kept_in_cache(page)
    # The booth's second vacancy (the first was signed by the test above, on another phone).
    slot = page.locator(".intent-slot").nth(1)
    slot_id = slot.get_attribute("id")
    slot.locator("button.intent-btn").click()
    name = "离线测试乙"
    _fill_first_form(page, name, new_phone())
    phone.set_offline(True)
    page.click(".first-form button[type=submit]")
    page.locator(f"#{slot_id} .fs-kept").wait_for()
    # Reopened without a network: the vacancies, and what waits to be sent.
    page.reload()
    assert page.locator("article.vacancy").count() >= 2
    kept = page.locator(f"#{slot_id} .fs-kept")
    kept.wait_for()
    assert "已保存在手机上" in kept.inner_text()
    assert "现在没有网络" in page.inner_text("#main")
    page.locator(f"#{slot_id}").scroll_into_view_if_needed()
    picture(page, "failure-offline-reloaded-phone")
    phone.set_offline(False)
    page.locator(f"#{slot_id} .done").wait_for(timeout=20000)
    _signed_once(site, laptop, tablet, name, before)
