"""The page a booth QR code opens (/q/<token>): the employer, the booth number, each vacancy in
large type with a "我有意向" button.

It is the hottest page of a fair, so it is rendered once per version of the booth (see
fairsite.booths.service) and kept in this process; each request reads the booth's version (one
indexed row). A phone the site does not know yet (no device cookie, no session: every first
scan, the crowd at a booth) gets the same bytes as everybody, compressed once: no CSRF token,
no session cookie, no sign keys, since its "我有意向" only opens the short form, which carries
its own token and key (see intents.public.sign). A known phone, or one that was shown a form,
gets its own parts added: the CSRF token, a key per button, and "已登记 ✓" for the vacancies
it has signed (one query). fairsite/booths/front.py answers the first kind before Flask."""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass

import brotli
from flask import Blueprint, current_app, render_template, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import valid_token
from fairsite.cache import VersionedCache
from fairsite.extensions import db, limiter
from fairsite.intents.device import current_device, signed_vacancy_ids
from fairsite.sql import fetch_one
from fairsite.vacancies.models import Vacancy
from fairsite.web import fill_sign_keys, has_token, render_shared

bp = Blueprint("booths", __name__)

# Stands in for the CSRF token in the cached HTML; replaced per request.
CSRF_PLACEHOLDER = "__fs_csrf_token__"
_SLOT = re.compile(r"<!--fs-intent:(\d+)-->")
# Rendered booth pages by token, kept in this process.
booth_pages = VersionedCache()

VERSION = (
    "SELECT b.version, b.status, f.status FROM booths b JOIN fairs f ON f.id = b.fair_id "
    "WHERE b.token = :token"
)


@dataclass(frozen=True)
class SharedPage:
    """The page for a phone the site does not know yet: the same for everybody, so it is
    encoded once (brotli and gzip at their highest levels: done once per version of the booth)."""

    html: str
    body: bytes
    br: bytes
    gzip: bytes

    @classmethod
    def of(cls, html: str) -> SharedPage:
        body = html.encode()
        return cls(html, body, brotli.compress(body, quality=11), gzip.compress(body, 9, mtime=0))


@dataclass(frozen=True)
class CachedPage:
    status: int
    parts: tuple  # str (HTML) and int (a vacancy id: its intent button goes there)
    buttons: dict  # vacancy id -> (HTML unsigned, HTML signed), with placeholders
    shared: SharedPage  # the whole page for a phone without a device cookie

    @property
    def vacancy_ids(self) -> list[int]:
        return list(self.buttons)


def _build(token: str, booth_status: str, fair_status: str) -> CachedPage:
    booth = db.session.scalar(select(Booth).where(Booth.token == token))
    fair = booth.fair
    # A booth is approved only for an approved employer; this holds should that ever change.
    if booth_status != "approved" or not booth.employer.is_approved:
        html = render_shared("booths/_public_unavailable.html", CSRF_PLACEHOLDER, booth=booth, fair=fair,
                              reason="not_approved")
        return _plain(404, html)
    if not fair.is_public:
        html = render_shared("booths/_public_unavailable.html", CSRF_PLACEHOLDER, booth=booth, fair=fair,
                              reason="not_public")
        return _plain(404, html)
    if fair_status == "closed":
        html = render_shared("booths/_public_unavailable.html", CSRF_PLACEHOLDER, booth=booth, fair=fair,
                              reason="closed")
        return _plain(200, html)
    vacancies = db.session.scalars(
        select(Vacancy)
        .join(BoothVacancy, BoothVacancy.vacancy_id == Vacancy.id)
        .where(BoothVacancy.booth_id == booth.id, Vacancy.is_open.is_(True))
        .order_by(BoothVacancy.position, Vacancy.id)
    ).all()
    html = render_shared("booths/public.html", CSRF_PLACEHOLDER, booth=booth, fair=fair, employer=booth.employer,
        vacancies=vacancies, intent_slot=lambda v: Markup(f"<!--fs-intent:{v.id}-->"),
    )
    where = {"booth": booth.token}
    buttons, first_scan = {}, {}
    if fair.takes_intents:
        for v in vacancies:
            buttons[v.id] = tuple(
                render_shared("intents/_button.html", CSRF_PLACEHOLDER, sign_keys=True, vacancy=v,
                              where=where, signed=s)
                for s in (False, True)
            )
            # No token and no key: the tap opens the short form, which has both.
            first_scan[v.id] = render_shared("intents/_button.html", "", vacancy=v, where=where,
                                             signed=False)
    parts = tuple(int(p) if i % 2 else p for i, p in enumerate(_SLOT.split(html)))
    shared = "".join(first_scan.get(p, "") if isinstance(p, int) else p for p in parts)
    return CachedPage(200, parts, buttons, SharedPage.of(shared.replace(CSRF_PLACEHOLDER, "")))


def _plain(status: int, html: str) -> CachedPage:
    """A page without intent buttons (unavailable, closed): the same for everybody."""
    return CachedPage(status, (html,), {}, SharedPage.of(html.replace(CSRF_PLACEHOLDER, "")))


@limiter.request_filter
def _booth_page_has_no_request_limits() -> bool:
    # A read every QR scan makes, with no limits of its own: skip the limiter's per-request work.
    return request.endpoint == "booths.show"


def version_of(token: str) -> tuple | None:
    """What the cached page of this booth depends on, from one indexed row (None: no such booth)."""
    row = fetch_one(VERSION, {"token": token}) if valid_token(token) else None
    return tuple(row) if row is not None else None


# Every answer of the page says this: it depends on the phone's cookies (device, language,
# elder mode), its encoding and its language; a shared cache never keeps it.
HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Cookie"}


@bp.get("/q/<token>")
def show(token: str):
    key = version_of(token)
    if key is None:
        html = render_template("booths/_public_unavailable.html", booth=None, fair=None,
                               reason="unknown")
        return html, 404
    page = booth_pages.get(token, key)
    if page is None:
        page = _build(token, key[1], key[2])
        booth_pages.put(token, key, page)
    device = current_device() if page.buttons else None
    if device is None and not (page.buttons and has_token()):
        return current_app.response_class(page.shared.html, page.status, HEADERS, mimetype="text/html")
    signed = signed_vacancy_ids(page.vacancy_ids, device) if device else ()
    out = []
    for part in page.parts:
        if isinstance(part, int):
            variants = page.buttons.get(part)
            if variants:
                out.append(variants[part in signed])
        else:
            out.append(part)
    html = fill_sign_keys("".join(out).replace(CSRF_PLACEHOLDER, generate_csrf()))
    return current_app.response_class(html, page.status, HEADERS, mimetype="text/html")
