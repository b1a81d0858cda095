"""The fair page on a phone: headline in Chinese, active search without a page load."""
from tests.e2e.conftest import shot


def test_fair_page_shows_headline_in_chinese_on_a_phone(live_server, phone):
    page = phone.new_page()
    page.goto(live_server + "/")
    page.click("text=春风行动 · 把老乡留在老家")
    page.wait_for_selector("#jobs")
    page.wait_for_load_state("load")
    assert page.locator(".summary").first.inner_text() == "120 家企业 · 5,271 个岗位 · 平均月薪 4,000 元"
    font = page.evaluate("getComputedStyle(document.body).fontSize")
    assert float(font.rstrip("px")) >= 18
    shot(page, "fair-phone")


def test_fair_search_narrows_list_without_page_load(live_server, phone):
    page = phone.new_page()
    page.goto(live_server + "/")
    page.click("text=春风行动 · 把老乡留在老家")
    page.wait_for_selector("#jobs")
    page.wait_for_load_state("load")
    total_before = page.locator("#jobs ~ section p.muted").first.inner_text()
    page.evaluate("window.__sameDocument = true")
    page.fill("input[name=q]", "焊工")
    page.wait_for_function(
        "before => document.querySelector('[id^=fair-vacancies] p.muted').innerText !== before",
        arg=total_before,
    )
    titles = page.locator("[id^=fair-vacancies] article h3").all_inner_texts()
    assert titles and all("焊工" in t for t in titles)
    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    assert "q=" in page.url  # the search is in the address, so back and share work


def test_fair_page_tap_targets_are_at_least_44px(live_server, phone):
    page = phone.new_page()
    page.goto(live_server + "/")
    page.click("text=春风行动 · 把老乡留在老家")
    page.wait_for_selector("#jobs")
    page.wait_for_load_state("load")
    small = page.evaluate("""() => [...document.querySelectorAll(
        'main button, main input:not([type=checkbox]):not([type=hidden]), main select, .checks label, .topnav a')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height])
        .filter(([, h]) => h < 44)""")
    assert small == []


def test_fair_page_loads_more_vacancies_when_scrolled_to_the_end(live_server, phone):
    page = phone.new_page()
    page.goto(live_server + "/")
    page.click("text=春风行动 · 把老乡留在老家")
    page.wait_for_selector("#jobs")
    page.wait_for_load_state("load")
    cards = "[id^=fair-vacancies] article.vacancy"
    assert page.locator(cards).count() == 30
    page.evaluate("window.__sameDocument = true")
    page.locator("[id^=fair-vacancies] p.more").scroll_into_view_if_needed()
    page.wait_for_function("sel => document.querySelectorAll(sel).length >= 60", arg=cards)
    ids = page.eval_on_selector_all(cards, "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids))  # no vacancy twice
    assert page.evaluate("window.__sameDocument") is True  # loaded in place, no page load
