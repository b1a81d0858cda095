"""The employer's day on a laptop: log in, add a vacancy inline (checked as typed), show it at
the booth from its row, watch someone sign for it from a phone without reloading, mark them interviewed."""
import re

from tests.e2e.conftest import PHONE, login, shot

EMPLOYER = ("hr@demo.fairsite.cn", "demo-employer")
TITLE = "夜班保安（浏览器测试）"


def test_employer_adds_vacancy_sees_new_intent_live_and_marks_interviewed(live_server, laptop, phone):
    page = laptop.new_page()
    login(page, live_server, *EMPLOYER)
    assert page.url.endswith("/employer")
    assert page.locator("h1").first.inner_text()
    shot(page, "employer-dashboard-laptop")

    # Add a vacancy inline; a wrong pay range is caught as it is typed.
    page.click("nav >> text=岗位")
    page.evaluate("window.__sameDocument = true")
    page.click("summary:has-text('添加岗位')")
    page.fill("input[name=new-title]", TITLE)
    page.fill("input[name=new-headcount]", "3")
    page.fill("input[name=new-pay_min]", "4200")
    page.fill("input[name=new-pay_max]", "3000")
    page.locator("input[name=new-pay_max]").blur()
    page.wait_for_selector("#new-pay_max-error:has-text('月薪上限不能低于下限')")
    # Lowering the minimum re-checks the maximum too.
    page.fill("input[name=new-pay_min]", "2800")
    page.locator("input[name=new-pay_min]").blur()
    page.wait_for_function("() => document.querySelector('#new-pay_max-error').innerText.trim() === ''")
    page.fill("input[name=new-pay_max]", "5600")
    page.fill("input[name=new-pay_min]", "4200")
    page.locator("input[name=new-pay_min]").blur()
    page.check("input[name=new-meals_lodging]")
    page.click("#vacancy-new button[type=submit]")
    row = page.locator("#vacancy-list article", has_text=TITLE)
    row.wait_for()
    assert "4,200–5,600 元/月" in row.inner_text()
    # Show it at the booth of the demo fair, from its row.
    row.locator("button:has-text('放到 A-01')").click()
    row.locator("button:has-text('展示在 A-01')").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "employer-vacancies-laptop")
    page.click("nav >> text=展位")
    assert TITLE in page.locator(".booth-app").first.inner_text()
    booth_url = page.locator(".booth-public-link").first.get_attribute("href")

    # The list of people who signed, open and waiting.
    page.click("nav >> text=报名名单")
    page.wait_for_selector("#employer-intent-rows")
    page.evaluate("window.__sameDocument = true")
    # Count the SSE nudges, to tell them from the 10 s polling fallback.
    page.evaluate("document.addEventListener('sse:intents', () => { window.__sse = (window.__sse || 0) + 1 })")

    # Someone signs for the new vacancy from their phone, in another browser.
    attendee = phone.new_page()
    attendee.goto(booth_url)
    card = attendee.locator("article", has_text=TITLE)
    card.locator("button:has-text('我有意向')").click()
    attendee.fill("input[name=name]", "赵浏览")
    attendee.fill("input[name=phone]", "13912345678")
    attendee.check("input[name=consent]")
    attendee.click("button:has-text('确认登记')")
    attendee.wait_for_selector("text=已登记")

    # It appears in the employer's list by itself, phone masked.
    new_row = page.locator("tr.intent-row", has_text="赵浏览")
    new_row.wait_for(timeout=15000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("window.__sse || 0") >= 1  # it came by SSE
    assert "139****5678" in new_row.inner_text() and TITLE in new_row.inner_text()
    assert "13912345678" not in new_row.inner_text()
    shot(page, "employer-intents-laptop")

    # Mark them interviewed, with a note.
    new_row.locator("select[name=status]").select_option("interviewed")
    new_row.locator("input[name=note]").fill("周三上午面试")
    new_row.locator("button:has-text('保存')").click()
    saved = page.locator("tr.intent-row", has_text="赵浏览")
    saved.locator("text=已保存").wait_for()
    assert saved.locator("select[name=status]").input_value() == "interviewed"

    # Reveal the number (logged), still without a reload.
    saved.locator("button:has-text('显示号码')").click()
    page.locator("tr.intent-row a.phone", has_text="13912345678").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    page.reload()
    again = page.locator("tr.intent-row", has_text="赵浏览")
    assert again.locator("select[name=status]").input_value() == "interviewed"
    assert again.locator("input[name=note]").input_value() == "周三上午面试"


def test_employer_pages_on_a_phone(live_server, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    login(page, live_server, *EMPLOYER)
    shot(page, "employer-dashboard-phone")
    page.goto(live_server + "/employer/intents")
    page.wait_for_selector("#employer-intent-rows")
    shot(page, "employer-intents-phone")
    page.locator("#employer-intent-rows").scroll_into_view_if_needed()
    page.locator("tr.intent-row").first.scroll_into_view_if_needed()
    shot(page, "employer-intents-phone-rows")
    page.goto(live_server + "/employer/vacancies")
    shot(page, "employer-vacancies-phone")
    page.goto(live_server + "/employer/booths")
    page.click("text=打印展位海报")
    page.wait_for_selector(".poster-sheet svg")
    shot(page, "employer-poster-phone")
    context.close()


def test_booth_poster_prints_one_a4_page(live_server, laptop):
    page = laptop.new_page()
    login(page, live_server, *EMPLOYER)
    page.goto(live_server + "/employer/booths")
    page.click("text=打印展位海报")
    page.wait_for_selector(".poster-sheet svg")
    assert "微信扫一扫 · 登记求职意向" in page.inner_text(".poster-sheet")
    assert "127.0.0.1" in page.inner_text(".poster-site")
    shot(page, "employer-poster-laptop")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # the whole poster on one sheet


def test_employer_list_falls_back_to_polling_without_sse(live_server, laptop, phone):
    page = laptop.new_page()
    # A network that will not hold an event stream open: the list must still update by itself.
    page.route("**/employer/intents/stream", lambda route: route.abort())
    login(page, live_server, *EMPLOYER)
    page.goto(live_server + "/employer/booths")
    booth_url = page.locator(".booth-public-link").first.get_attribute("href")
    page.goto(live_server + "/employer/intents")
    page.evaluate("window.__sameDocument = true")

    attendee = phone.new_page()
    attendee.goto(booth_url)
    attendee.locator("button:has-text('我有意向')").first.click()
    attendee.fill("input[name=name]", "钱轮询")
    attendee.fill("input[name=phone]", "13712345678")
    attendee.check("input[name=consent]")
    attendee.click("button:has-text('确认登记')")
    attendee.wait_for_selector("text=已登记")

    page.locator("tr.intent-row", has_text="钱轮询").wait_for(timeout=25000)
    assert page.evaluate("window.__sameDocument") is True
