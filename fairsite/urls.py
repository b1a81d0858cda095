"""The one builder of absolute public URLs: what QR codes, posters and share links print.

SITE_ADDRESS (the bureau's public base URL) is normalised once, at start: a scheme is added
when missing (https), the trailing slash removed. Without it, the address this request came in
on is used."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, url_for


def normalise_site_address(raw: str | None) -> str:
    """'jobs.example.gov.cn/' -> 'https://jobs.example.gov.cn'; '' stays ''."""
    site = (raw or "").strip().rstrip("/")
    if not site:
        return ""
    return site if "://" in site else "https://" + site


def init_app(app: Flask) -> None:
    app.config["SITE_ADDRESS"] = normalise_site_address(app.config.get("SITE_ADDRESS"))


def public_url(endpoint: str, **values) -> str:
    """An absolute URL for `endpoint`, on SITE_ADDRESS when configured."""
    base = current_app.config["SITE_ADDRESS"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def site_host() -> str:
    """The site's address as printed under a code: host (and path) only, no scheme."""
    parts = urlsplit(public_url("fairs.index"))
    return (parts.netloc + parts.path).rstrip("/")
