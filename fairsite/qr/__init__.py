"""QR codes: SVG and PNG images of booth, fair and live-session links."""
from flask import Blueprint

bp = Blueprint("qr", __name__)

from fairsite.qr import views  # noqa: E402,F401
