"""The service worker (/sw.js): a booth page opened once reopens without a network, with its
vacancies, and with what the phone keeps to send (static/js/fairsite.js keeps it).

It is served from the site root so that its scope covers /q/ pages. The files it keeps
beforehand are listed by the server, from url_for("static", ...), so that they follow
whatever names the static files are served under; the list is part of the script, so a new
list (a new version of a file) is a new worker, which drops the old files."""
from __future__ import annotations

import hashlib

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _

bp = Blueprint("offline", __name__)

# What a page that works offline needs besides itself.
# (js/site.js is htmx, fairsite.js and failsafe.js in one file: fairsite/assets.py BUNDLES.)
STATIC_FILES = ("css/site.css", "js/site.js")
# Pages the worker keeps a copy of each time they load (network first, the copy when there is
# none): the booth pages a QR code opens. Staff pages are never kept.
PAGE_PREFIXES = ("/q/",)


def precache_urls() -> list[str]:
    return [url_for("static", filename=name) for name in STATIC_FILES]


@bp.get("/sw.js")
def service_worker():
    urls = precache_urls()
    pages = [url_for("booths.show", token="x")[: -len("x")]]
    version = hashlib.sha256("\n".join(urls + pages).encode()).hexdigest()[:12]
    body = render_template(
        "offline/sw.js", version=version, precache=urls, pages=pages,
        offline_title=_("现在没有网络"),
        offline_message=_("这个页面还没有在这台手机上打开过，联网后再试。"),
    )
    return body, 200, {
        "Content-Type": "text/javascript; charset=utf-8",
        # Browsers check for a new worker on each visit; no-cache makes that check reach us.
        "Cache-Control": "no-cache",
    }
