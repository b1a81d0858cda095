"""Kind to older eyes, found and reached (issue 11), in Chromium on a phone (390x844, zh-CN):
axe-core finds no serious or critical violation on the attendee pages, in the standard and
the elder mode; every text is at least 18 px (24 px in elder mode) and every link and button a
44x44 px target; elder mode is one tap and stays; "读给我听" reads the vacancy in Mandarin;
without JavaScript the fair page's next page, the elder switch and the tally board's refresh
work; the booth poster with eight vacancies prints on one A4 sheet."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.e2e.conftest import BACKENDS, PHONE, TABLET, login, shot, start_server, stop_server

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SHOTS = Path("/tmp/shots")
ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")
EMPLOYER = ("hr@demo.fairsite.cn", "demo-employer")

# Text smaller than `min` px that a person can see: [element, text, size].
SMALL_TEXT = """(min) => {
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('script, style, noscript, template, svg')) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;  // .sr-only: read out, not seen
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < min - 0.01) bad.push([el.tagName + '.' + el.className, node.textContent.trim().slice(0, 30), size]);
  }
  return bad;
}"""

# Links, buttons and fields smaller than 44x44 px: [element, text, width, height].
SMALL_TARGETS = """() => {
  const bad = [];
  const targets = 'a[href], button, select, textarea, summary, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), label:has(input[type=checkbox]), label:has(input[type=radio])';
  for (const el of document.querySelectorAll(targets)) {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 43.5 || box.height < 43.5)
      bad.push([el.tagName + '.' + el.className, (el.innerText || el.name || '').trim().slice(0, 30),
                Math.round(box.width), Math.round(box.height)]);
  }
  return bad;
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document);
  // The rules that passed: proof the check ran over a real page.
  if (result.passes.length < 10) return ['axe checked almost nothing', result.passes.length];
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => [v.id, v.impact, v.nodes.length, v.nodes.slice(0, 3).map(n => n.target.join(' '))]);
}"""

# A Mandarin voice, and what it was asked to say: headless Chromium has no voices of its own.
FAKE_VOICE = """(() => {
  const voices = %s;
  window.__spoken = [];
  const fake = {
    getVoices: () => voices, cancel: () => {}, addEventListener: () => {}, speaking: false,
    speak: (u) => window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.name}),
  };
  Object.defineProperty(window, 'speechSynthesis', {value: fake, configurable: true});
  // (The real one takes only a real SpeechSynthesisVoice.)
  window.SpeechSynthesisUtterance = function (t) { this.text = t; };
})();"""
MANDARIN = FAKE_VOICE % "[{lang: 'zh-CN', name: '普通话（测试）', voiceURI: 'test-zh', localService: true, default: true}]"
NO_VOICE = FAKE_VOICE % "[{lang: 'en-US', name: 'English (test)', voiceURI: 'test-en', localService: true, default: true}]"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    """A demo server of our own: its live session is on air, and the demo employer's booth
    shows eight vacancies (the most its poster lists)."""
    proc, base, env = start_server(tmp_path_factory.mktemp("older-eyes"), backend=request.param)
    engine = create_engine(env["FAIRSITE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        token, booth_vacancy = conn.execute(text(
            "SELECT b.token, MIN(bv.vacancy_id) FROM booths b JOIN booth_vacancies bv ON bv.booth_id = b.id "
            "WHERE b.status = 'approved' GROUP BY b.id, b.token HAVING COUNT(*) >= 2 ORDER BY b.id LIMIT 1"
        )).one()
        fair_id = conn.execute(text("SELECT fair_id FROM booths WHERE token = :t"), {"t": token}).scalar_one()
        session_id, first = conn.execute(text(
            "SELECT s.id, MIN(i.vacancy_id) FROM live_sessions s JOIN live_items i ON i.session_id = s.id "
            "GROUP BY s.id ORDER BY s.id LIMIT 1")).one()
        conn.execute(text("UPDATE live_sessions SET status = 'live', current_vacancy_id = :v, version = version + 1 "
                          "WHERE id = :s"), {"v": first, "s": session_id})
        booth_id, employer_id = conn.execute(text(
            "SELECT b.id, b.employer_id FROM booths b JOIN users u ON u.employer_id = b.employer_id "
            "WHERE u.login = :login AND b.status = 'approved' ORDER BY b.id LIMIT 1"), {"login": EMPLOYER[0]}).one()
        placed = conn.execute(text("SELECT COUNT(*) FROM booth_vacancies WHERE booth_id = :b"), {"b": booth_id}).scalar_one()
        columns = [c["name"] for c in inspect(conn).get_columns("vacancies") if c["name"] not in ("id", "title")]
        model = conn.execute(text("SELECT MIN(vacancy_id) FROM booth_vacancies WHERE booth_id = :b"),
                             {"b": booth_id}).scalar_one()
        for n in range(placed, 8):
            new_id = conn.execute(text(
                f"INSERT INTO vacancies (title, {', '.join(columns)}) "
                f"SELECT :title, {', '.join(columns)} FROM vacancies WHERE id = :id RETURNING id"),
                {"title": f"数控车床操作工（夜班{n}）", "id": model}).scalar_one()
            conn.execute(text("INSERT INTO booth_vacancies (booth_id, vacancy_id, position) VALUES (:b, :v, :p)"),
                         {"b": booth_id, "v": new_id, "p": n})
    engine.dispose()
    yield {"base": base, "token": token, "fair": fair_id, "vacancy": booth_vacancy, "live": session_id,
           "booth_id": booth_id}
    stop_server(proc, env)


def attendee_pages(site) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("fair", f"/fairs/{site['fair']}"),
        ("booth", f"/q/{site['token']}"),
        ("sign", f"/intents/sign?vacancy_id={site['vacancy']}&booth={site['token']}"),
        ("me", "/me"),
        ("live", f"/live/{site['live']}"),
    ]


def check_page(page, name: str, min_text: float) -> None:
    """axe-core (put in each page by an init script: the page's policy refuses inline scripts),
    text sizes and tap targets."""
    assert page.evaluate(AXE_RUN) == [], name
    assert page.evaluate(SMALL_TEXT, min_text) == [], name
    assert page.evaluate(SMALL_TARGETS) == [], name


def sign_once(page, site) -> None:
    """Sign one intent from the sign form, so that /me has something to show."""
    page.goto(site["base"] + f"/intents/sign?vacancy_id={site['vacancy']}&booth={site['token']}")
    page.fill("input[name=name]", "王建国")
    page.fill("input[name=phone]", "13800138000")
    page.check("input[name=consent]")
    page.click("button:has-text('确认登记')")
    page.locator(".intent-slot .done").first.wait_for()


def test_attendee_pages_pass_axe_and_read_large_in_both_modes(site, phone):
    phone.add_init_script(path=str(AXE))
    phone.add_init_script(script=MANDARIN)
    page = phone.new_page()
    for elder in (False, True):
        if elder:
            page.goto(site["base"] + "/")
            page.click("button:has-text('长辈模式')")  # one tap
            page.wait_for_load_state()
            assert page.evaluate("() => document.documentElement.className").split() == ["elder", "can-speak"]
        for name, path in attendee_pages(site):
            if name == "me" and not elder:
                page.goto(site["base"] + path)
                check_page(page, "me (nothing signed yet)", 18)
                sign_once(page, site)
            page.goto(site["base"] + path)
            page.wait_for_load_state("load")
            assert ("elder" in page.evaluate("() => document.documentElement.className")) is elder, name
            check_page(page, f"{name}{' (elder)' if elder else ''}", 24 if elder else 18)
            if elder:
                size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
                assert size >= 24, name
    # Remembered on the phone: a new page (a QR scanned tomorrow) opens in elder mode.
    again = phone.new_page()
    again.goto(site["base"] + f"/q/{site['token']}")
    assert "elder" in again.evaluate("() => document.documentElement.className")
    # And one tap back to the standard size.
    again.click("button:has-text('标准字号')")
    again.wait_for_load_state()
    assert "elder" not in again.evaluate("() => document.documentElement.className")


def test_elder_mode_one_vacancy_per_screen_width_and_reads_aloud(site, phone):
    phone.add_init_script(script=MANDARIN)
    page = phone.new_page()
    page.goto(site["base"] + f"/q/{site['token']}")
    # Standard mode: no "读给我听".
    assert page.locator("button.speak").first.is_hidden()
    page.click("button:has-text('长辈模式')")
    page.wait_for_load_state()
    cards = page.locator("article.vacancy")
    assert cards.count() >= 2
    width = page.evaluate("() => document.documentElement.clientWidth")
    boxes = [cards.nth(i).bounding_box() for i in range(2)]
    # One vacancy per row, filling the screen's width (less the page's margins).
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] and boxes[0]["width"] >= width - 40
    speak = cards.first.locator("button.speak")
    assert speak.is_visible() and speak.inner_text().endswith("读给我听")
    title = cards.first.locator("h3").inner_text()
    speak.click()
    spoken = page.evaluate("() => window.__spoken")
    assert len(spoken) == 1 and spoken[0]["voice"] == "普通话（测试）" and spoken[0]["lang"] == "zh-CN"
    said = spoken[0]["text"]
    assert said.startswith(title + "。") and re.search(r"月薪\d+(到\d+)?元", said), said
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "elder-booth-390x844.png"))
    shot(page, "elder-booth-phone")
    page.goto(site["base"] + "/")
    page.screenshot(path=str(SHOTS / "elder-home-390x844.png"))
    shot(page, "elder-home-phone")


def test_read_aloud_hidden_without_a_mandarin_voice(site, browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.add_init_script(script=NO_VOICE)
    page = context.new_page()
    page.goto(site["base"] + f"/q/{site['token']}")
    page.click("button:has-text('长辈模式')")
    page.wait_for_load_state()
    assert "elder" in page.evaluate("() => document.documentElement.className")
    assert page.locator("button.speak").count() >= 2
    assert all(page.locator("button.speak").nth(i).is_hidden() for i in range(page.locator("button.speak").count()))
    context.close()


def test_found_and_reached_on_a_phone(site, phone):
    page = phone.new_page()
    page.goto(site["base"] + "/")
    # Home: the live session anyone can open, and "我的登记".
    page.click("#home-live a.live-title")
    page.wait_for_url(f"**/live/{site['live']}")
    page.click("text=← 返回首页")
    page.wait_for_url(site["base"] + "/")
    page.click("text=查看我的登记")
    page.wait_for_url("**/me")
    page.click("text=← 返回首页")
    page.wait_for_url(site["base"] + "/")
    # The fair page's booth list opens the booth's own page, the one its QR opens.
    page.goto(site["base"] + f"/fairs/{site['fair']}")
    row = page.locator(f"a.booth-link[href='/q/{site['token']}']")
    number = row.locator(".booth-no").inner_text()
    row.click()
    page.wait_for_url(f"**/q/{site['token']}")
    assert page.locator(".big-no").inner_text().strip() == number
    assert page.title().endswith(" · 就业服务招聘平台")


def test_without_javascript_next_page_elder_switch_and_board_refresh(site, browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(site["base"] + f"/fairs/{site['fair']}")
    first_ids = page.locator("article.vacancy").evaluate_all("cards => cards.map(c => c.id)")
    assert len(first_ids) >= 10
    page.click("a:has-text('下一页')")
    page.wait_for_load_state()
    assert "after=" in page.url
    second = page.locator("article.vacancy").evaluate_all("cards => cards.map(c => c.id)")
    assert second and not set(second) & set(first_ids)
    # The elder switch is a plain form.
    page.click("button:has-text('长辈模式')")
    page.wait_for_load_state()
    assert "after=" not in page.url and f"/fairs/{site['fair']}" in page.url
    assert page.locator("html.elder").count() == 1
    context.close()

    board = browser.new_context(viewport=TABLET, locale="zh-CN", java_script_enabled=False)
    page = board.new_page()
    login(page, site["base"], *ORGANISER)
    page.goto(site["base"] + f"/manage/fairs/{site['fair']}/board")
    page.wait_for_event("load", timeout=15_000)  # the board comes again by itself
    assert page.locator(".tile .num").count() >= 5
    board.close()


def test_booth_poster_with_eight_vacancies_prints_on_one_sheet(site, laptop):
    page = laptop.new_page()
    login(page, site["base"], *EMPLOYER)
    page.goto(site["base"] + f"/employer/booths/{site['booth_id']}/poster")
    page.wait_for_selector(".poster-sheet svg")
    assert page.locator(".poster-jobs li").count() == 8
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    # Nothing cut off: on paper the last vacancy and the foot lie inside the sheet.
    page.emulate_media(media="print")
    sheet = page.locator(".poster-sheet").bounding_box()
    last = page.locator(".poster-jobs li").last.bounding_box()
    foot = page.locator(".poster-foot").bounding_box()
    assert last["y"] + last["height"] <= foot["y"] + 1
    assert foot["y"] + foot["height"] <= sheet["y"] + sheet["height"] + 1
    page.emulate_media(media="screen")
    shot(page, "poster-eight-laptop")


def test_every_booth_poster_of_the_fair_fits_its_sheet(site, laptop):
    """The organiser's print of all posters: on paper, no sheet's last vacancy or foot is cut."""
    page = laptop.new_page()
    login(page, site["base"], *ORGANISER)
    page.goto(site["base"] + f"/manage/fairs/{site['fair']}/posters")
    page.wait_for_selector(".poster-sheet svg")
    page.emulate_media(media="print")
    cut = page.evaluate("""() => [...document.querySelectorAll('.poster-sheet')].filter(sheet => {
      const box = sheet.getBoundingClientRect(), foot = sheet.querySelector('.poster-foot');
      const jobs = sheet.querySelectorAll('.poster-jobs li'), last = jobs[jobs.length - 1];
      const end = foot.getBoundingClientRect();
      return end.bottom > box.bottom + 1 || (last && last.getBoundingClientRect().bottom > end.top + 1);
    }).map(sheet => sheet.id)""")
    assert page.locator(".poster-sheet").count() >= 100
    assert cut == []
