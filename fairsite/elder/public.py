"""The elder mode switch (长辈模式): a plain form in every attendee page's top bar posts here;
the answer sets or clears the phone's cookie and goes back to the page (303), so it works
without JavaScript. Every whole page then carries the mode on its <html> tag."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request
from flask_wtf.csrf import CSRFError

from fairsite.elder import service
from fairsite.extensions import csrf
from fairsite.web import own_request

bp = Blueprint("elder", __name__)


@bp.post("/elder")
# Checked here (web.own_request): the switch sits on pages every phone shares byte for byte
# (the booth page of a first scan has no session to hold a token).
@csrf.exempt
def toggle():
    if not own_request():
        raise CSRFError()
    on = request.form.get("on")
    if on not in ("0", "1"):
        abort(400)
    response = redirect(service.safe_next(request.form.get("next")), code=303)
    return service.remember(response, on == "1")


@bp.after_app_request
def _mark(response):
    return service.mark_page(request, response)
