"""QR images made with the `qrcode` package: SVG inline for pages and print, PNG to
download. Each image is computed once per process for the same text."""
from __future__ import annotations

import io
import re
from functools import lru_cache

import qrcode
import qrcode.image.svg
from flask_babel import gettext as _
from markupsafe import escape
from qrcode.constants import ERROR_CORRECT_M


def _make(data: str, **kw):
    # Medium error correction survives a creased, sun-lit poster; border 4 is the standard.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, **kw)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str) -> str:
    """An <svg> element (no XML declaration) that scales to its container, labelled in the
    reader's language."""
    head, rest = _svg(data)
    label = escape(_("二维码"))  # outside the f-string, where the extractor finds it
    return f'{head} role="img" aria-label="{label}">{rest}'


@lru_cache(maxsize=4096)
def _svg(data: str) -> tuple[str, str]:
    image = _make(data, image_factory=qrcode.image.svg.SvgPathImage).make_image()
    svg = image.to_string(encoding="unicode")
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2:].lstrip()
    # Drop the fixed millimetre size: the page's CSS decides how big the code is.
    head, rest = svg.split(">", 1)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    return head, rest


@lru_cache(maxsize=512)
def qr_png(data: str, box_size: int = 12) -> bytes:
    image = _make(data, box_size=box_size).make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
