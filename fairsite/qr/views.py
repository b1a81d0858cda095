"""QR code downloads (PNG) for a booth and for a fair's entrance, and the template helpers that
give the public address a code points to. Codes always carry absolute URLs: SITE_ADDRESS (the
bureau's public base URL) when set, else the address this request came in on."""
from __future__ import annotations

import hashlib

from flask import Response, abort, current_app, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from fairsite.booths.cache import valid_token
from fairsite.booths.models import Booth
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.qr import bp
from fairsite.qr.service import qr_png, qr_svg


def public_url(endpoint: str, **values) -> str:
    """An absolute URL for `endpoint`, on SITE_ADDRESS when configured."""
    base = (current_app.config.get("SITE_ADDRESS") or "").strip().rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


@bp.app_template_global()
def booth_public_url(token: str) -> str:
    """What a booth's QR code opens."""
    return public_url("booths.public", token=token)


@bp.app_template_global()
def fair_public_url(fair_id: int) -> str:
    """What the fair's entrance QR code opens: the fair page."""
    return public_url("fairs.show", fair_id=fair_id)


@bp.app_template_global()
def qr_code_svg(url: str) -> Markup:
    """Inline SVG of a QR code for `url` (computed once per process for the same URL)."""
    return Markup(qr_svg(url))


def _png(url: str, filename: str) -> Response:
    data = qr_png(url)
    response = Response(data, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=86400"
    # The image follows from the URL alone.
    response.set_etag(hashlib.sha1(url.encode()).hexdigest())
    return response.make_conditional(request)


@bp.get("/qr/booth/<token>.png")
def booth_png(token: str):
    if not valid_token(token):
        abort(404)
    booth = db.session.scalar(select(Booth).where(Booth.token == token))
    if booth is None or booth.status != "approved":
        abort(404)
    return _png(booth_public_url(booth.token), f"booth-{booth.number}.png")


@bp.get("/qr/fair/<int:fair_id>.png")
def fair_png(fair_id: int):
    fair = db.session.get(Fair, fair_id)
    if fair is None or not fair.is_public:
        abort(404)
    return _png(fair_public_url(fair.id), f"fair-{fair.id}.png")
