"""Simplified Chinese, Traditional Chinese and English: the switcher (a plain link remembered by
cookie), Accept-Language, <html lang>, shared pages cached per language, and every key page
rendered in the three languages with no untranslated text left."""
from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from openpyxl import load_workbook

from fairsite import i18n
from fairsite.accounts.models import EMPLOYER, ORGANISER
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
FULL_WIDTH = re.compile(r"[\u3001\u3002\uff08\uff09\uff0c\uff1a\uff1b\u300c\u300d]")
# The switcher shows each language in its own script (简 / 繁) on every page.
SWITCH_FACES = re.compile(r'<(a|strong) lang="zh-[A-Za-z]+"[^>]*>[^<]*</\1>')
# A character s2tw changes is Simplified (s2t alone would also "convert" 吃 and 群, which
# Traditional readers write so); 台 is written in both.
S2TW = opencc.OpenCC("s2tw")
BOTH = {"台"}


def simplified_in(text: str) -> set[str]:
    return {c for c in set(CJK.findall(text)) if c not in BOTH and S2TW.convert(c) != c}


@pytest.fixture
def app_config():
    # The site's name is the bureau's own (config), like the data below: not UI text.
    return {"SITE_NAME": "Test Bureau"}


def html_lang(body: str) -> str:
    return re.search(r"<html lang=\"([^\"]+)\"", body).group(1)


class Browser:
    """A test client whose every request runs in an app context of its own, as in production
    (the test's app context would otherwise share `g`, and with it the logged-in user and the
    chosen locale, between the several browsers of one test)."""

    def __init__(self, app):
        self.app, self.client = app, app.test_client()

    def _open(self, method, *args, **kwargs):
        with self.app.app_context():
            return getattr(self.client, method)(*args, **kwargs)

    def get(self, *args, **kwargs):
        return self._open("get", *args, **kwargs)

    def post(self, *args, **kwargs):
        return self._open("post", *args, **kwargs)

    def set_cookie(self, *args, **kwargs):
        self.client.set_cookie(*args, **kwargs)


def client_in(app, code: str) -> Browser:
    """A phone or desk browser that chose `code` with the switcher."""
    client = Browser(app)
    response = client.get(f"/lang/{code}?next=/")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    return client


def log_in(client, user):
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)


# --- choosing the language -------------------------------------------------------------------

def test_default_is_simplified_and_accept_language_is_followed(client):
    assert html_lang(client.get("/").get_data(as_text=True)) == "zh-CN"
    for header, lang in [("en-US,en;q=0.9", "en"), ("zh-TW,zh;q=0.8", "zh-Hant"),
                         ("zh-HK", "zh-Hant"), ("zh-Hant-MO", "zh-Hant"), ("zh-Hans-TW", "zh-CN"),
                         ("zh-CN,en;q=0.5", "zh-CN"), ("fr-FR,de;q=0.8", "zh-CN"),
                         ("fr,en;q=0.3", "en"), ("en;q=0, zh-TW;q=0.2", "zh-Hant"), ("*", "zh-CN")]:
        response = client.get("/", headers={"Accept-Language": header})
        assert html_lang(response.get_data(as_text=True)) == lang, header
        assert {"Cookie", "Accept-Language"} <= set(response.vary), header


def test_switch_is_remembered_by_cookie_and_outranks_the_browser(app):
    client = Browser(app)
    page = client.get("/fairs/1").get_data(as_text=True)
    # A plain link per language, back to this page, works without JavaScript.
    assert 'href="/lang/en?next=%2Ffairs%2F1"' in page or 'href="/lang/en?next=/fairs/1"' in page
    response = client.get("/lang/en?next=/fairs/1")
    assert response.status_code == 303 and response.headers["Location"] == "/fairs/1"
    cookie = response.headers["Set-Cookie"]
    assert "fs_lang=en" in cookie and "Max-Age" in cookie and "HttpOnly" in cookie
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert html_lang(page) == "en" and "Job fairs" in page
    # And back to Simplified, which then also outranks an English browser.
    client.get("/lang/zh-CN?next=/")
    assert html_lang(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)) == "zh-CN"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1", "", "a" * 3000])
def test_switch_never_leaves_the_site(client, target):
    response = client.get("/lang/zh-Hant", query_string={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("code", ["fr", "EN", "zh_Hant", "zh-TW", "..%2F", "中文", "x" * 300])
def test_switch_to_an_unknown_language_is_a_chinese_404(client, code):
    response = client.get(f"/lang/{code}?next=/")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
    assert "fs_lang" not in response.headers.get("Set-Cookie", "")


def test_a_bad_cookie_falls_back_to_the_browser(app):
    client = Browser(app)
    client.set_cookie("fs_lang", "xx<script>", domain="fair.test")
    assert html_lang(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)) == "en"


def test_elder_mode_marks_every_language(app):
    for code, lang in (("zh-CN", "zh-CN"), ("zh-Hant", "zh-Hant"), ("en", "en")):
        client = client_in(app, code)
        client.post("/elder", data={"on": "1", "next": "/"})
        assert f'<html lang="{lang}" class="elder">' in client.get("/").get_data(as_text=True)


def test_shared_booth_and_fair_pages_are_cached_per_language(app, make_fair, make_booth, make_vacancy,
                                                              make_employer):
    employer = make_employer(name="Acme Works", industry="Electronics", contact_name="Mr Wang")
    fair = make_fair(title="Spring Fair", venue="People's Park", campaign="Spring")
    booth = make_booth(fair=fair, employer=employer,
                       vacancies=[make_vacancy(employer, title="Assembler", location="Zone 1", shifts="Day")])
    for path in (f"/q/{booth.token}", f"/fairs/{booth.fair_id}"):
        # The Simplified copy is rendered first and cached...
        zh = Browser(app).get(path).get_data(as_text=True)
        assert "我有意向" in zh
        # ...an English and a Traditional reader each get their own.
        en = client_in(app, "en").get(path)
        assert "I'm interested" in en.get_data(as_text=True) and "我有意向" not in en.get_data(as_text=True)
        assert {"Cookie", "Accept-Language"} <= set(en.vary)
        hant = Browser(app).get(path, headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
        assert html_lang(hant) == "zh-Hant" and "職位" in hant and not simplified_in(visible(hant))
        # And the Simplified copy is still Simplified.
        assert "岗位" in Browser(app).get(path).get_data(as_text=True)


def test_etag_of_polled_pages_differs_per_language(app, make_fair, make_user):
    fair = make_fair(title="Spring Fair")
    organiser = make_user(ORGANISER)
    zh, en = Browser(app), client_in(app, "en")
    for c in (zh, en):
        log_in(c, organiser)
    url = f"/manage/fairs/{fair.id}/board/tally"
    tag_zh, tag_en = zh.get(url).headers["ETag"], en.get(url).headers["ETag"]
    assert tag_zh != tag_en
    # The Chinese copy's tag is no 304 for the English reader.
    assert en.get(url, headers={"If-None-Match": tag_zh}).status_code == 200
    assert en.get(url, headers={"If-None-Match": tag_en}).status_code == 304


# --- every key page in the three languages ---------------------------------------------------

@pytest.fixture
def ascii_world(app, make_fair, make_employer, make_vacancy, make_booth, make_intent, make_user):
    """A fair whose every name is ASCII, so any CJK on an English page is untranslated UI."""
    fair = make_fair(title="Spring Fair", venue="People's Park", campaign="Spring")
    employer = make_employer(name="Acme Works", industry="Electronics", contact_name="Mr Wang")
    vacancies = [make_vacancy(employer, title=title, location="Zone 1", shifts="Day shift")
                 for title in ("Assembler", "Welder")]
    booth = make_booth(fair=fair, employer=employer, vacancies=vacancies)
    make_intent(booth, name="Li Lei", phone="13900139000", groups=("graduate",))
    session = LiveSession(title="Live Hiring", host_name="Ms Li", fair_id=fair.id, status="live")
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancies[0].id, position=0))
    session.current_vacancy_id = vacancies[0].id
    db.session.commit()
    organiser = make_user(ORGANISER, name="Desk Admin")
    staff = make_user(EMPLOYER, employer=employer, name="Acme HR")
    return dict(fair=fair, booth=booth, vacancy=vacancies[1], session=session,
                organiser=organiser, staff=staff)


def key_pages(world) -> dict[str, list[str]]:
    fair, booth, v = world["fair"], world["booth"], world["vacancy"]
    return {
        "public": ["/", f"/fairs/{fair.id}", f"/q/{booth.token}",
                   f"/intents/sign?vacancy_id={v.id}&booth={booth.token}",
                   f"/live/{world['session'].id}", "/login"],
        "attendee": ["/me"],
        "employer": ["/employer", "/employer/intents"],
        "organiser": ["/manage/fairs", f"/manage/fairs/{fair.id}/board",
                      f"/manage/fairs/{fair.id}/report", f"/manage/fairs/{fair.id}/desk",
                      f"/manage/fairs/{fair.id}/posters"],
    }


def rendered_pages(app, world, code: str) -> dict[str, str]:
    pages = {}
    public = client_in(app, code)
    for path in key_pages(world)["public"]:
        pages[path] = public.get(path)
    # Someone signs through the form, then looks at /me.
    signed = public.post("/intents/sign", data={"vacancy_id": world["vacancy"].id,
                                                 "booth": world["booth"].token, "name": "Han Mei",
                                                 "phone": "13700137000", "consent": "y", "step": "form"})
    assert signed.status_code == 303
    pages["/me"] = public.get("/me")
    for role in ("employer", "organiser"):
        staff = client_in(app, code)
        log_in(staff, world["staff" if role == "employer" else "organiser"])
        for path in key_pages(world)[role]:
            pages[path] = staff.get(path)
    for path, response in pages.items():
        assert response.status_code == 200, (code, path)
    return {path: response.get_data(as_text=True) for path, response in pages.items()}


def visible(html: str) -> str:
    """The page as a reader meets it: text and attributes; the switcher's own faces aside."""
    return SWITCH_FACES.sub("", html)


def test_every_key_page_in_english_has_no_chinese_left(app, ascii_world):
    for path, html in rendered_pages(app, ascii_world, "en").items():
        assert html_lang(html) == "en", path
        left = sorted({m.group(0) for m in CJK.finditer(visible(html))})
        context = [visible(html)[max(0, m.start() - 40):m.end() + 40] for m in CJK.finditer(visible(html))][:3]
        assert not left, f"{path}: untranslated {''.join(left)}: {context}"
        # Nor Chinese punctuation around English words ("Place：", "（3 in all）"), nor in
        # the words "读给我听" reads to an English voice.
        marks = FULL_WIDTH.findall(visible(html))
        assert not marks, f"{path}: Chinese punctuation {''.join(sorted(set(marks)))}"


def test_every_key_page_in_traditional_has_no_simplified_left(app, ascii_world):
    for path, html in rendered_pages(app, ascii_world, "zh-Hant").items():
        assert html_lang(html) == "zh-Hant", path
        text = visible(html)
        simplified = sorted(simplified_in(text))
        assert not simplified, f"{path}: Simplified characters left: {''.join(simplified)}"
        assert "登記" in text or "登入" in text, path


def test_every_key_page_in_simplified_is_unchanged(app, ascii_world):
    pages = rendered_pages(app, ascii_world, "zh-CN")
    assert all(html_lang(html) == "zh-CN" for html in pages.values())
    assert "我有意向" in pages[f"/q/{ascii_world['booth'].token}"]
    assert "实时看板" in pages["/manage/fairs"] or "看板" in pages["/manage/fairs"]


def test_numbers_and_dates_through_babel(app, ascii_world):
    fair = ascii_world["fair"]
    en = client_in(app, "en").get(f"/fairs/{fair.id}").get_data(as_text=True)
    zh = Browser(app).get(f"/fairs/{fair.id}").get_data(as_text=True)
    assert "Mar 3, 2026" in en and "2026年3月3日" in zh
    assert "3,800–5,200 yuan/month" in en or "3,800" in en


def test_report_spreadsheet_follows_the_language(app, ascii_world):
    fair = ascii_world["fair"]
    for code in ("en", "zh-Hant"):
        client = client_in(app, code)
        log_in(client, ascii_world["organiser"])
        response = client.get(f"/manage/fairs/{fair.id}/report.xlsx")
        assert response.status_code == 200
        from io import BytesIO

        book = load_workbook(BytesIO(response.data), read_only=True)
        cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                 for c in row if c is not None] + book.sheetnames
        text = " ".join(cells)
        if code == "en":
            assert not CJK.search(text), CJK.findall(text)[:20]
        else:
            assert not simplified_in(text)


# --- the catalogues ---------------------------------------------------------------------------

def source_messages() -> set[str]:
    """Every msgid in the code and templates now (what `make messages` extracts)."""
    method_map = [("fairsite/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}  # as make messages
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=keywords, options_map={}):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def catalogues():
    out = {}
    for lang in ("zh_Hant", "en"):
        with (i18n.TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
            out[lang] = read_po(f, locale=lang)
    return out


def test_every_ui_string_is_translated_in_both_catalogues(catalogues):
    wanted = source_messages()
    assert len(wanted) > 500
    for lang, catalog in catalogues.items():
        translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        missing = sorted(wanted - translated)
        assert not missing, f"{lang}: {len(missing)} untranslated (make messages): {missing[:10]}"
        errors = [(m.id, e) for m in catalog if m.id for e in m.check(catalog)]
        assert not errors, errors[:5]


def test_the_catalogues_are_compiled_and_not_in_git():
    for lang in ("zh_Hant", "en"):
        mo = i18n.TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
        assert mo.exists()
    ignored = (ROOT / ".gitignore").read_text()
    assert "fairsite/translations/*/LC_MESSAGES/*.mo" in ignored


def test_compile_writes_missing_catalogues(tmp_path, monkeypatch):
    po_dir = tmp_path / "en" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    po_dir.joinpath("messages.po").write_bytes(
        (i18n.TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").read_bytes())
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    assert i18n.compile_catalogues() == [po_dir / "messages.mo"]
    assert i18n.compile_catalogues() == []  # up to date: nothing written
    assert (po_dir / "messages.mo").stat().st_size > 10_000


def test_live_fragments_are_rendered_and_sent_per_language(app, ascii_world):
    from fairsite import events, pubsub
    from fairsite.live import service as live

    session = ascii_world["session"]
    with app.test_request_context("/"):
        events.live_changed(session.id)
    zh = "".join(pubsub.retained(live.channel(session.id, "zh_Hans_CN")) or [])
    en = "".join(pubsub.retained(live.channel(session.id, "en")) or [])
    hant = "".join(pubsub.retained(live.channel(session.id, "zh_Hant")) or [])
    assert "我有意向" in zh and "Assembler" in zh
    assert "I'm interested" in en and not CJK.search(en)
    assert hant and not simplified_in(hant)
    # A viewer's stream is the channel of their language.
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.preprocess_request()
        assert live.channel(session.id) == live.channel(session.id, "en")


def test_text_messages_stay_in_the_approved_simplified_template(app):
    from fairsite.sms.service import render_text

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.preprocess_request()
        text = render_text("invite", {"name": "Li Lei", "employer": "Acme", "when": "3/3 09:00",
                                      "place": "Gate 1", "contact": "Mr Wang"})
    assert "邀请您面试" in text and "Li Lei" in text
