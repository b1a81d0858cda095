"""Elder mode (长辈模式): a preference a phone keeps in a cookie. Pages are the same HTML for
everybody (the booth and fair pages are rendered once and shared), so the mode is not rendered
into them: the answer's <html> tag gets its class here, after the page is built, and the
stylesheet does the rest (24 px text, stronger contrast, one vacancy per screen width, the
"读给我听" buttons)."""
from __future__ import annotations

import re

from flask import Request, Response

COOKIE = "fs_elder"
MAX_AGE = 60 * 60 * 24 * 400
# The page's opening tag, whatever its language (fairsite/i18n.py: zh-CN, zh-Hant, en).
HTML_TAG = re.compile(rb'<html lang="([A-Za-z-]{1,20})">')
ELDER_TAG = rb'<html lang="\1" class="elder">'
# A page's own path to come back to: one leading slash, then no backslash or control
# character (no "//host" or "/\\host" open redirect), and not absurdly long.
MAX_NEXT = 2000


def is_on(request: Request) -> bool:
    return request.cookies.get(COOKIE) == "1"


def safe_next(raw) -> str:
    """Where to go back to after switching: a path on this site, else the home page."""
    if not isinstance(raw, str) or not raw.startswith("/") or len(raw) > MAX_NEXT:
        return "/"
    if raw.startswith("//") or any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in raw):
        return "/"
    return raw


def remember(response: Response, on: bool) -> Response:
    if on:
        response.set_cookie(COOKIE, "1", max_age=MAX_AGE, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(COOKIE, httponly=True, samesite="Lax")
    return response


def mark_page(request: Request, response: Response) -> Response:
    """Give a whole HTML page the elder class when this phone asked for it."""
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return response
    if response.headers.get("Content-Encoding"):
        return response
    # The page depends on the cookie now: a shared cache must not hand one phone's mode to
    # another (the booth page says so already).
    response.vary.add("Cookie")
    if not is_on(request):
        return response
    body = response.get_data()
    head = body[:400]
    marked, found = HTML_TAG.subn(ELDER_TAG, head, count=1)
    if found:
        response.set_data(marked + body[400:])
    return response
