"""The booth page's front door: a QR scan from a phone that sends no cookie at all (its first
scan, which is what the crowd at a booth is) is answered here, before Flask, from the page
fairsite/booths/public.py keeps for that version of the booth.

That answer is the same bytes for everybody (no token, no key, no session, see
booths.public.SharedPage), compressed once, so all a scan costs here is the version check (one
indexed row) and a dictionary lookup: 0.17 ms of CPU, against 0.76 for the page through Flask
before (request context, session, extensions' hooks, compression per response; see
bench/booth_page.py). Everything else goes on to Flask unchanged: a phone with any cookie
(device, language, elder mode), another method, a booth whose page is not cached yet in the
reader's language, an untrusted Host, a failing database. tests/test_booth_front.py checks that both ways give the same answer.
"""
from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

from flask import Flask
from gevent import sleep
from werkzeug.datastructures import Accept
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_host

from fairsite import i18n
from fairsite.booths.public import HEADERS, VERSION, booth_pages
from fairsite.booths.service import valid_token
from fairsite.extensions import db
from fairsite.group_commit import gevent_active
from fairsite.sql import fetch_one_on

PREFIX = "/q/"


@lru_cache(maxsize=256)
def encoding_for(header: str) -> str:
    """"br", "gzip" or "" for this Accept-Encoding, as Flask-Compress chooses (brotli first)."""
    accept = parse_accept_header(header, Accept)
    br, gz = accept.quality("br"), accept.quality("gzip")
    if br > 0 and br >= gz:
        return "br"
    return "gzip" if gz > 0 else ""


class FrontDoor:
    """WSGI middleware in front of the Flask app (create_app puts it there)."""

    def __init__(self, app: Flask, wsgi_app, *, fixed_headers: dict[str, str], hsts: str) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.engine = None
        self.headers = [("Cache-Control", HEADERS["Cache-Control"]),
                        ("Content-Type", "text/html; charset=utf-8"), *fixed_headers.items()]
        self.hsts = hsts
        self.vary = HEADERS["Vary"] + ", Accept-Encoding, Accept-Language"
        # Under gevent, let the other connections run first, as every Flask request does
        # (fairsite/app.py: _share_the_worker).
        self.share = gevent_active()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") != "GET"
                or "HTTP_COOKIE" in environ):
            return self.wsgi_app(environ, start_response)
        answer = self._answer(environ, path[len(PREFIX):])
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def _answer(self, environ, token: str):
        if not valid_token(token) or not self._trusted(environ):
            return None
        if self.share:
            sleep(0)
        try:
            row = fetch_one_on(self._engine(), VERSION, {"token": token})
        except Exception:
            return None  # Flask answers, with its error page and its log
        if row is None:
            return None
        language = i18n.for_accept_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        page = booth_pages.get(token, tuple(row), locale=language.locale)
        if page is None:
            return None
        shared = page.shared
        encoding = encoding_for(environ.get("HTTP_ACCEPT_ENCODING", ""))
        body = shared.br if encoding == "br" else shared.gzip if encoding == "gzip" else shared.body
        headers = [*self.headers, ("Vary", self.vary), ("Content-Length", str(len(body)))]
        if encoding:
            headers.append(("Content-Encoding", encoding))
        if self.hsts and environ.get("wsgi.url_scheme") == "https":
            headers.append(("Strict-Transport-Security", self.hsts))
        status = HTTPStatus(page.status)
        return f"{status.value} {status.phrase}", headers, body

    def _trusted(self, environ) -> bool:
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if trusted is None:
            return True
        try:
            get_host(environ, trusted)
        except SecurityError:
            return False  # Flask refuses it, in its words
        return True

    def _engine(self):
        if self.engine is None:
            with self.app.app_context():
                self.engine = db.engine
        return self.engine
