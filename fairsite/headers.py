"""What every response says about itself, set in one place: the Content-Security-Policy and
the other security headers, who may store it (no-store for staff and personal pages), and
cookies marked Secure whenever the request came over HTTPS (also behind a reverse proxy
that says so: TRUSTED_PROXY_HOPS)."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Blueprints are named by audience (see the README's Layout): employer staff's ("employer",
# "employer_*"), organisers' ("manage_*") and the accounts' pages (log-in, password) are never
# stored by a browser or a proxy.
STAFF_BLUEPRINTS = ("employer", "accounts")
STAFF_BLUEPRINT_PREFIXES = ("employer_", "manage_")
HSTS = "max-age=31536000"


def content_security_policy(frame_src: Iterable[str] = ()) -> str:
    """No inline script or style anywhere (behaviour lives in static/js, looks in
    static/css); frames only from the video platforms a live page embeds."""
    frames = " ".join(frame_src) or "'none'"
    return "; ".join((
        "default-src 'self'",
        "img-src 'self' data:",
        f"frame-src {frames}",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ))


def fixed_headers(frame_src: Iterable[str] = ()) -> dict[str, str]:
    """The headers every response carries, pages and static files alike (static files skip
    Flask: fairsite/assets.py adds these to them)."""
    return {
        "Content-Security-Policy": content_security_policy(frame_src),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


class SecureCookiesOverHttps:
    """WSGI middleware: over HTTPS every cookie the site sets is Secure (the session, the
    remember-me and the attendee's device cookie alike), so one configuration serves
    http://127.0.0.1 and the public https address. Flask and Flask-Login take the flag from
    a fixed setting (SESSION_COOKIE_SECURE, REMEMBER_COOKIE_SECURE); the scheme is known only
    per request, hence here."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start(status, headers, exc_info=None):
            return start_response(status, [_secured(name, value) for name, value in headers],
                                  exc_info)

        return self.wsgi_app(environ, start)


def _secured(name: str, value: str) -> tuple[str, str]:
    if name.lower() != "set-cookie":
        return name, value
    attributes = {part.strip().lower() for part in value.split(";")[1:]}
    return name, value if "secure" in attributes else value + "; Secure"


def for_staff() -> bool:
    """Whether this request is for a staff page (by its blueprint's audience)."""
    name = request.blueprint or ""
    return name in STAFF_BLUEPRINTS or name.startswith(STAFF_BLUEPRINT_PREFIXES)


def init_app(app: Flask, *, frame_src: Iterable[str] = (),
             private_endpoints: Iterable[str] = ()) -> None:
    """`frame_src`: origins a page may embed; `private_endpoints`: public endpoints that
    show one person's data (never stored, like every staff response)."""
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops > 0:
        # Outermost: the proxy's X-Forwarded-For/-Proto/-Host replace the client address,
        # the scheme and the host (still checked against TRUSTED_HOSTS), from that many
        # proxies only.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    fixed = fixed_headers(frame_src)
    private = frozenset(private_endpoints)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in fixed.items():
            headers[name] = value
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        if request.endpoint in private or for_staff():
            if response.get_etag()[0] and "no-cache" in headers.get("Cache-Control", ""):
                # A conditional polling fragment (the tally board's counts): the browser may
                # keep it to ask "changed?" every 2 s and get a 304; no proxy keeps it.
                headers["Cache-Control"] = "private, no-cache"
            else:
                headers["Cache-Control"] = "no-store"
        return response
