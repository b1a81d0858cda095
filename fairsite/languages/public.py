"""The language switcher (简 / 繁 / EN): a plain link in every page's top bar. The answer keeps
the choice in a cookie and goes back to the page the link was on (303), so it works without
JavaScript; fairsite/i18n.py then picks the catalogue for every page."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request

from fairsite import i18n
from fairsite.elder.service import safe_next

bp = Blueprint("languages", __name__)


@bp.get("/lang/<code>")
def switch(code: str):
    if code not in i18n.BY_CODE:
        abort(404)
    response = redirect(safe_next(request.args.get("next")), code=303)
    response.headers["Cache-Control"] = "no-store"
    return i18n.remember(response, code)
