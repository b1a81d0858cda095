"""The page a booth QR code opens (/q/<token>): the employer, the booth number, each vacancy in
large type with a "我有意向" button.

It is the hottest page of a fair, so the shared part is rendered once per version of the booth
(see fairsite.booths.service) and kept in this process; each request reads the booth's version (one
indexed row), then adds the per-user parts: the CSRF token, and "已登记 ✓" for the vacancies
this device has signed (one query, only when the device cookie is present)."""
from __future__ import annotations

import re
from dataclasses import dataclass

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
from fairsite.web import fill_sign_keys, render_shared

bp = Blueprint("booths", __name__)

# Stands in for the CSRF token in the cached HTML; replaced per request.
CSRF_PLACEHOLDER = "__fs_csrf_token__"
_SLOT = re.compile(r"<!--fs-intent:(\d+)-->")
# Rendered booth pages by token, kept in this process.
booth_pages = VersionedCache()

_VERSION = (
    "SELECT b.version, b.status, f.status FROM booths b JOIN fairs f ON f.id = b.fair_id "
    "WHERE b.token = :token"
)


@dataclass(frozen=True)
class CachedPage:
    status: int
    parts: tuple  # str (HTML) and int (a vacancy id: its intent button goes there)
    buttons: dict  # vacancy id -> (HTML unsigned, HTML signed)

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
        return CachedPage(404, (html,), {})
    if not fair.is_public:
        html = render_shared("booths/_public_unavailable.html", CSRF_PLACEHOLDER, booth=booth, fair=fair,
                              reason="not_public")
        return CachedPage(404, (html,), {})
    if fair_status == "closed":
        html = render_shared("booths/_public_unavailable.html", CSRF_PLACEHOLDER, booth=booth, fair=fair,
                              reason="closed")
        return CachedPage(200, (html,), {})
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
    buttons = {}
    if fair.takes_intents:
        for v in vacancies:
            buttons[v.id] = tuple(
                render_shared("intents/_button.html", CSRF_PLACEHOLDER, sign_keys=True, vacancy=v,
                              where=where, signed=s)
                for s in (False, True)
            )
    parts = tuple(int(p) if i % 2 else p for i, p in enumerate(_SLOT.split(html)))
    return CachedPage(200, parts, buttons)


@limiter.request_filter
def _booth_page_has_no_request_limits() -> bool:
    # A read every QR scan makes, with no limits of its own: skip the limiter's per-request work.
    return request.endpoint == "booths.show"


@bp.get("/q/<token>")
def show(token: str):
    row = fetch_one(_VERSION, {"token": token}) if valid_token(token) else None
    if row is None:
        html = render_template("booths/_public_unavailable.html", booth=None, fair=None,
                               reason="unknown")
        return html, 404
    version, booth_status, fair_status = row
    key = (version, booth_status, fair_status)
    page = booth_pages.get(token, key)
    if page is None:
        page = _build(token, booth_status, fair_status)
        booth_pages.put(token, key, page)
    device = current_device() if page.buttons else None
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
    # Per-user parts inside: never stored by a shared cache.
    return current_app.response_class(
        html, page.status, {"Cache-Control": "private, no-cache", "Vary": "Cookie"},
        mimetype="text/html",
    )
