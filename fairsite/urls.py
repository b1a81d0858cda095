"""The one builder of absolute public URLs: what QR codes, posters and share links print.

SITE_ADDRESS (the bureau's public base URL) is normalised once, at start: a scheme is added
when missing (https), the trailing slash removed. It is required outside debug and tests, and
then no absolute URL depends on the request: a forged Host header cannot put another site into
a QR code or a share link (and is refused: TRUSTED_HOSTS). Only a developer's server without
it builds URLs on the address the request came in on."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import SecurityError


def normalise_site_address(raw: str | None) -> str:
    """'jobs.example.gov.cn/' -> 'https://jobs.example.gov.cn'; '' stays ''."""
    site = (raw or "").strip().rstrip("/")
    if not site:
        return ""
    return site if "://" in site else "https://" + site


# Names a server on this machine answers to, besides its public address (health checks, ssh
# tunnels, `make run`).
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(site: str, server_name: str | None = None) -> list[str]:
    """The Host names a request may carry: the site's, SERVER_NAME's, this machine's."""
    names = [urlsplit(site).hostname or ""]
    if server_name:
        names.append(urlsplit("//" + server_name).hostname or "")
    return list(dict.fromkeys(n.lower() for n in [*names, *LOCAL_HOSTS] if n))


def init_app(app: Flask) -> None:
    site = normalise_site_address(app.config.get("SITE_ADDRESS"))
    if not site and not app.debug and not app.testing:
        raise RuntimeError(
            "fairsite refuses to start without SITE_ADDRESS, the public address printed in "
            "QR codes and share links. Add a line to instance/config.py, e.g. "
            'SITE_ADDRESS = "https://jobs.example.gov.cn" (for `make run` on this machine: '
            'SITE_ADDRESS = "http://127.0.0.1:8000"), or set FAIRSITE_SITE_ADDRESS.'
        )
    app.config["SITE_ADDRESS"] = site
    if site and app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(site, app.config.get("SERVER_NAME"))
    app.register_error_handler(SecurityError, _untrusted_host)


def _untrusted_host(_error) -> Response:
    """A request for a host not in TRUSTED_HOSTS. Plain text: no URL can be built for a
    request whose host was refused, so the site's error page cannot be drawn."""
    return Response(_("这个网址不是本站的地址，请使用招聘会海报或工作人员给出的网址。"), 400,
                    mimetype="text/plain")


def public_url(endpoint: str, **values) -> str:
    """An absolute URL for `endpoint`, on SITE_ADDRESS when configured (always, outside a
    developer's server)."""
    base = current_app.config["SITE_ADDRESS"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def site_host() -> str:
    """The site's address as printed under a code: host (and path) only, no scheme."""
    parts = urlsplit(public_url("fairs.index"))
    return (parts.netloc + parts.path).rstrip("/")
