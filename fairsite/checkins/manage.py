"""The desk's entrance counter (a tablet beside the gate): the headcount so far, a large "+1"
for each person who comes in without a phone, an undo of the last tap, and the entrance QR
that opens the check-in page. For the desk role (服务台) and admins."""
from __future__ import annotations

from flask import Blueprint, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fairsite import events
from fairsite.accounts.models import ADMIN, DESK
from fairsite.accounts.service import organiser_roles
from fairsite.checkins import service
from fairsite.fairs.service import get_fair
from fairsite.qr.service import qr_svg
from fairsite.sql import write_transaction
from fairsite.urls import public_url
from fairsite.web import after_write, render

bp = Blueprint("manage_checkins", __name__)


def _context(fair, message: str = "") -> dict:
    return {"fair": fair, "count": service.headcount(fair.id), "message": message,
            "checkin_url": public_url("checkins.checkin", fair_id=fair.id)}


@bp.get("/manage/fairs/<int:fair_id>/entrance")
@organiser_roles(ADMIN, DESK)
def counter(fair_id: int):
    fair = get_fair(fair_id)
    ctx = _context(fair)
    return render("checkins/counter.html", "checkins/_counter.html", **ctx,
                  qr=qr_svg(ctx["checkin_url"]))


@bp.get("/manage/fairs/<int:fair_id>/entrance/counts")
@organiser_roles(ADMIN, DESK)
def counts(fair_id: int):
    """The counter's numbers alone: the page fetches them again when the fair's counters move."""
    fair = get_fair(fair_id)
    return render("checkins/counter.html", "checkins/_counts.html", **_context(fair),
                  qr=qr_svg(public_url("checkins.checkin", fair_id=fair.id)))


@bp.post("/manage/fairs/<int:fair_id>/entrance/walk-in")
@organiser_roles(ADMIN, DESK)
def walk_in(fair_id: int):
    fair = get_fair(fair_id)
    if not fair.takes_intents:
        return render("checkins/counter.html", "checkins/_counter.html", 422,
                      **_context(fair, _("这场招聘会现在不在进行中，不能计数。")),
                      qr=qr_svg(public_url("checkins.checkin", fair_id=fair.id)))
    user_id = current_user.id
    with write_transaction():
        service.add_walk_in(fair.id, user_id)
    events.fair_changed(fair.id)
    return after_write(url_for("manage_checkins.counter", fair_id=fair.id), "checkins/_counter.html",
                       **_context(fair, _("已计入 1 人。")))


@bp.post("/manage/fairs/<int:fair_id>/entrance/undo")
@organiser_roles(ADMIN, DESK)
def undo(fair_id: int):
    fair = get_fair(fair_id)
    user_id = current_user.id
    with write_transaction():
        undone = service.undo_walk_in(fair.id, user_id)
    if undone:
        events.fair_changed(fair.id)
    message = _("已撤销上一次计数。") if undone else _("没有可以撤销的计数（只能撤销您本人 10 分钟内的计数）。")
    return after_write(url_for("manage_checkins.counter", fair_id=fair.id), "checkins/_counter.html",
                       **_context(fair, message))
