"""QR code downloads (PNG) for a booth and for a fair's entrance. Codes always carry absolute
URLs from the one public-URL builder (fairsite.urls)."""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from fairsite.booths.models import Booth
from fairsite.booths.service import booth_url, valid_token
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.qr.service import qr_png
from fairsite.urls import public_url

bp = Blueprint("qr", __name__)


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
    return _png(booth_url(booth), f"booth-{booth.number}.png")


@bp.get("/qr/fair/<int:fair_id>.png")
def fair_png(fair_id: int):
    fair = db.session.get(Fair, fair_id)
    if fair is None or not fair.is_public:
        abort(404)
    # The entrance QR: check-in first (签到), then the fair page.
    return _png(public_url("checkins.checkin", fair_id=fair.id), f"fair-{fair.id}.png")
