"""The entrance check-in on a phone (390x844), the desk's "+1" and the campaign return on a desk
screen (1280x800), against the demo: the board's 进场人数 moves by itself when someone checks
in. Screenshots go to /tmp/shots/."""
from __future__ import annotations

import random
from pathlib import Path

from tests.e2e.conftest import PHONE, TABLET, login

ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")
DESK = ("desk@demo.fairsite.cn", "demo-desk")
SHOTS = Path("/tmp/shots")


def shot(page, name: str, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def number(page, selector: str) -> int:
    return int(page.inner_text(selector).replace(",", ""))


def test_checkin_on_a_phone_moves_the_board(live_server, tablet, phone):
    board = tablet.new_page()
    login(board, live_server, *ORGANISER)
    board.goto(live_server + "/manage/fairs/1/board")
    board.wait_for_selector("#board-link-1[data-live='1']", timeout=10000)  # the stream is open
    before = number(board, "#tally-entered")

    person = phone.new_page()
    person.goto(live_server + "/fairs/1/checkin")
    assert person.viewport_size == PHONE
    person.fill("input[name=name]", "黄桂英")
    person.fill("input[name=phone]", f"138{random.randrange(10**8):08d}")
    person.check("input[name=consent]")
    shot(person, "checkin-phone-form", full=True)
    person.click(".checkin-card button[type=submit]")
    person.wait_for_selector(".checkin-card >> text=已签到")
    shot(person, "checkin-phone-done")
    # No horizontal scrolling on the phone.
    assert person.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    board.wait_for_function(
        "before => parseInt(document.querySelector('#tally-entered').innerText.replace(/,/g, '')) > before",
        arg=before, timeout=3000,
    )
    assert number(board, "#tally-entered") == before + 1

    # Scanning again: one tap, nothing to type, still one person.
    person.goto(live_server + "/fairs/1/checkin")
    assert person.locator("text=已签到").count() == 1
    assert person.locator("input[name=phone]").count() == 0
    board.wait_for_timeout(500)
    assert number(board, "#tally-entered") == before + 1


def test_desk_plus_one_and_undo_on_a_tablet(live_server, tablet):
    page = tablet.new_page()
    login(page, live_server, *DESK)
    page.goto(live_server + "/manage/fairs/1/entrance")
    before = number(page, "#entrance-total")
    page.click("button.plus-one")
    page.wait_for_function(
        "before => parseInt(document.querySelector('#entrance-total').innerText.replace(/,/g, '')) > before",
        arg=before, timeout=3000,
    )
    page.click("button.plus-one")
    page.wait_for_selector(f"#entrance-total >> text={before + 2:,}")
    page.click("button.undo")
    page.wait_for_selector("text=已撤销上一次计数")
    assert number(page, "#entrance-total") == before + 1
    shot(page, "entrance-counter-tablet")


def test_campaign_return_on_a_desk_screen(live_server, tablet):
    page = tablet.new_page()
    login(page, live_server, *ORGANISER)
    page.click("nav >> text=招聘活动")
    page.click("#main table a >> text=2026 春风行动")
    page.wait_for_selector(".report-headline")
    assert page.viewport_size == TABLET
    headline = page.inner_text(".report-headline")
    for label in ("场次", "参会企业（家）", "提供岗位（个）", "平均月薪（元）", "进场人数（人次）",
                  "达成意向（人）", "达成意向（条）", "现场签约（人）", "录用（人）", "到岗（人）"):
        assert label in headline
    body = page.inner_text("#main")
    assert "高新区人才夜市" in body and "直播带岗 走进车间" in body and "现场代登记" in body
    # Readable across a desk: the big numbers are large.
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.report-headline .num')).fontSize)")
    assert size >= 28
    shot(page, "campaign-report-tablet")
    shot(page, "campaign-report-tablet-full", full=True)
    with page.expect_download() as info:
        page.click("text=导出 Excel 统计表")
    assert info.value.suggested_filename.endswith(".xlsx")
