"""Organisers' management of fairs: list every fair of the deployment, create and edit one,
move it through draft -> published -> open -> closed."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from fairsite import events
from fairsite.accounts.models import ADMIN, DESK, VIEWER
from fairsite.accounts.service import organiser_roles
from fairsite.audit import service as audit
from fairsite.booths.models import Booth
from fairsite.extensions import db
from fairsite.fairs.forms import FairForm
from fairsite.fairs.models import Fair
from fairsite.fairs.service import fair_touched, get_fair
from fairsite.sql import write_transaction
from fairsite.tallies import service as tallies
from fairsite.tallies.models import Tally
from fairsite.web import after_write, render

bp = Blueprint("manage_fairs", __name__)

FIELDS = ("title", "kind", "campaign", "venue", "contact_phone", "date", "opens_at", "closes_at", "description",
          "verify_phone")


def booth_counts(fair_ids) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    if not fair_ids:
        return out
    for fair_id, status, n in db.session.execute(
        select(Booth.fair_id, Booth.status, func.count())
        .where(Booth.fair_id.in_(fair_ids)).group_by(Booth.fair_id, Booth.status)
    ):
        out.setdefault(fair_id, {})[status] = n
    return out


@bp.get("/manage/fairs")
@organiser_roles(ADMIN, DESK, VIEWER)
def index():
    fairs = db.session.scalars(select(Fair).order_by(Fair.date.desc(), Fair.id.desc())).all()
    ids = [f.id for f in fairs]
    intents = dict(db.session.execute(
        select(Tally.scope, Tally.n).where(
            Tally.scope.in_([f"fair:{i}" for i in ids]),
            Tally.dim == "intents", Tally.key == "",
        )
    ).all()) if ids else {}
    return render(
        "fairs/manage_index.html", fairs=fairs, booths=booth_counts(ids),
        intents={i: intents.get(f"fair:{i}", 0) for i in ids},
    )


@bp.route("/manage/fairs/new", methods=["GET", "POST"])
@organiser_roles(ADMIN)
def create():
    form = FairForm()
    if form.validate_on_submit():
        fair = Fair(status="draft")
        _fill(fair, form)
        db.session.add(fair)
        db.session.commit()
        flash(_("招聘会已创建（草稿）。审核展位后再发布。"), "ok")
        return after_write(url_for("manage_fairs.show", fair_id=fair.id))
    return render("fairs/manage_form.html", None, 422 if form.errors else 200,
                  form=form, fair=None)


def _fill(fair: Fair, form: FairForm) -> None:
    """Copy the form onto the fair; optional text left empty is stored as ""."""
    for name in FIELDS:
        setattr(fair, name, getattr(form, name).data)
    for name in ("campaign", "venue", "contact_phone", "description"):
        setattr(fair, name, getattr(fair, name) or "")
    fair.campaign_id = form.campaign_id.data or None


@bp.get("/manage/fairs/<int:fair_id>")
@organiser_roles(ADMIN, DESK, VIEWER)
def show(fair_id: int):
    fair = get_fair(fair_id)
    return render(
        "fairs/manage_show.html", fair=fair, booths=booth_counts([fair.id]).get(fair.id, {}),
        tally=tallies.read(f"fair:{fair.id}"),
    )


@bp.route("/manage/fairs/<int:fair_id>/edit", methods=["GET", "POST"])
@organiser_roles(ADMIN)
def edit(fair_id: int):
    fair = get_fair(fair_id)
    form = FairForm(obj=fair)
    if form.validate_on_submit():
        with write_transaction():
            fair = get_fair(fair_id)
            _fill(fair, form)
            fair_touched(fair.id)
        events.fair_changed(fair.id)
        flash(_("招聘会信息已保存。"), "ok")
        return after_write(url_for("manage_fairs.show", fair_id=fair.id))
    return render("fairs/manage_form.html", None, 422 if form.errors else 200,
                  form=form, fair=fair)


@bp.post("/manage/fairs/<int:fair_id>/status")
@organiser_roles(ADMIN)
def status(fair_id: int):
    target = request.form.get("to", "")
    with write_transaction():
        fair = get_fair(fair_id)
        if not fair.can_move_to(target):
            abort(400)
        audit.record("fair.status", "fair", fair.id, f"{fair.status} -> {target}")
        fair.status = target
        fair_touched(fair.id)
    events.fair_changed(fair.id)
    return after_write(
        url_for("manage_fairs.show", fair_id=fair.id), "fairs/_manage_status.html",
        fair=fair,
    )
