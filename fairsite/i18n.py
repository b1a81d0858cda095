"""The page's language: Simplified Chinese (the source text), Traditional Chinese or English.

Chosen by the switcher's cookie, else the browser's Accept-Language, else Simplified Chinese.
Every page depends on that choice, so every answer says Vary: Cookie, Accept-Language, and
whatever is rendered once and shared (fairsite/cache.py, live fragments) is kept per language.
The catalogues (fairsite/translations/*/LC_MESSAGES/messages.po) are in git, their compiled
.mo files are not: `python -m fairsite.i18n` (make translations) compiles them, and
create_app() compiles any that are missing or older than their .po (a fresh checkout, a test
run), written to a temporary file and renamed so that parallel starts never read half a file.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Request, has_request_context, request
from flask_babel import get_locale, refresh
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from fairsite.extensions import babel

TRANSLATIONS = Path(__file__).parent / "translations"
COOKIE = "fs_lang"
MAX_AGE = 60 * 60 * 24 * 400


@dataclass(frozen=True)
class Language:
    code: str     # in the cookie and the switcher's URL
    locale: str   # Babel's name (the catalogue's folder)
    html: str     # <html lang>
    label: str    # the switcher's face, in its own script


LANGUAGES = (
    Language("zh-CN", "zh_Hans_CN", "zh-CN", "简"),
    Language("zh-Hant", "zh_Hant", "zh-Hant", "繁"),
    Language("en", "en", "en", "EN"),
)
DEFAULT = LANGUAGES[0]
BY_CODE = {lang.code: lang for lang in LANGUAGES}
BY_LOCALE = {lang.locale: lang for lang in LANGUAGES}
LOCALES = tuple(lang.locale for lang in LANGUAGES)


def _from_accept_language(req: Request) -> Language | None:
    return _from_accept(req.accept_languages)


@lru_cache(maxsize=256)
def for_accept_language(header: str) -> Language:
    """The language for a request with this Accept-Language and no cookie (a first scan,
    answered before Flask by fairsite/booths/front.py): what chosen() would pick."""
    return _from_accept(parse_accept_header(header, LanguageAccept)) or DEFAULT


def _from_accept(accept: LanguageAccept) -> Language | None:
    """The first language the browser asks for that we have (by quality, then order): any
    English; Chinese as Traditional for zh-Hant, Taiwan, Hong Kong and Macau, else Simplified."""
    for value, quality in accept:
        if quality <= 0:
            continue
        tag = value.lower().replace("_", "-")
        if tag == "en" or tag.startswith("en-"):
            return BY_CODE["en"]
        if tag == "zh" or tag.startswith("zh-"):
            parts = tag.split("-")[1:]
            if "hant" in parts or ("hans" not in parts and any(p in ("tw", "hk", "mo") for p in parts)):
                return BY_CODE["zh-Hant"]
            return DEFAULT
    return None


def chosen(req: Request) -> Language:
    return BY_CODE.get(req.cookies.get(COOKIE, "")) or _from_accept_language(req) or DEFAULT


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context():
        return DEFAULT.locale
    return chosen(request).locale


def current() -> Language:
    """The language of what is being rendered now (force_locale included)."""
    return BY_LOCALE.get(str(get_locale()), DEFAULT) if has_request_context() else DEFAULT


def current_locale() -> str:
    """The key part every per-language cache entry carries."""
    return current().locale


def remember(response, code: str):
    """Keep the choice on this phone (a choice of Simplified too: it outranks the browser's)."""
    response.set_cookie(COOKIE, BY_CODE[code].code, max_age=MAX_AGE, httponly=True, samesite="Lax")
    return response


# --- the catalogues -------------------------------------------------------------------------

def catalogues() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def compile_catalogues(force: bool = False) -> list[Path]:
    """Compile each .po whose .mo is missing or older; returns the .mo files written."""
    written = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po.parent, prefix=".messages-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a server of another user
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(mo)
    return written


def _vary(response):
    # Every page speaks the chosen language: a shared cache keeps one copy per cookie and
    # Accept-Language, never hands an English page to a Chinese reader.
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    try:
        compile_catalogues()
    except OSError:
        # A read-only install: the build (make translations) compiled them, or the pages
        # fall back to the Simplified source text; either way the site starts.
        app.logger.warning("Could not compile the translation catalogues", exc_info=True)
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the chosen locale on `g`, and a request inside an app context already
    # pushed (a CLI command, a test) shares that `g`: each request chooses afresh.
    app.before_request(refresh)
    app.after_request(_vary)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current)


# --- the zh-Hant catalogue from the Simplified source (make messages) -------------------------
#
# OpenCC's s2tw gives Traditional characters in the forms Taiwan, Hong Kong and Macau all read
# (為, 裡, 眾, 群). Its phrase table (s2twp) was tried and refused: it is made for software
# and turns 信用代码 into 信用程式碼, 审核 into 稽核, 发布 into 釋出, 类型 into 型別. Instead
# these words, reviewed, are replaced after the conversion: the ones Hong Kong and Taiwan
# share (登入, 帳號, 聯絡, 列印, 匯出, 連結, 搜尋...), and the conversion's own slips.
REVIEWED = {
    "登錄": "登入",
    "賬號": "帳號",
    "臺賬": "臺帳",
    "審覈": "審核",
    "覈對": "核對",
    "包喫住": "包吃住",
    "發麪試": "發面試",
    "發麵試": "發面試",
    "籤到": "簽到",
    "自注冊": "自註冊",
    "二維碼": "QR Code",     # what Hong Kong, Macau and Taiwan call it
    "崗位": "職位",          # mainland jargon; 職位 is read the same everywhere
    "鏈接": "連結",
    "打印": "列印",
    "導出": "匯出",
    "導入": "匯入",
    "默認": "預設",
    "設置": "設定",
    "文件": "檔案",
    "數據": "資料",
    "服務器": "伺服器",
    "搜索": "搜尋",
    "添加": "新增",
    "創建": "建立",
    "信息": "資料",
    "聯繫": "聯絡",
    "實時": "即時",
    "查找": "查詢",
    "發佈": "發布",
}


def to_traditional(text: str, converter=None) -> str:
    if converter is None:
        import opencc  # a test dependency: only `make messages` converts

        converter = opencc.OpenCC("s2tw")
    out = converter.convert(text)
    for wrong, right in REVIEWED.items():
        out = out.replace(wrong, right)
    return out


def convert_missing(again: bool = False) -> int:
    """Fill every zh-Hant entry that has no translation yet (`again`: every entry); returns
    how many."""
    import opencc
    from babel.messages.pofile import write_po

    converter = opencc.OpenCC("s2tw")
    po = TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="zh_Hant")
    filled = 0
    for message in catalog:
        if message.id and (again or not message.string):
            message.string = to_traditional(message.id, converter)
            filled += 1
    with po.open("wb") as f:
        write_po(f, catalog, omit_header=False, sort_output=True, no_location=True, width=100)
    return filled


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["convert"]:
        n = convert_missing(again=sys.argv[2:] == ["--again"])
        print(f"zh-Hant: {n} entries converted (review them)")
    else:
        for path in compile_catalogues(force=True):
            print(f"compiled {path}")
