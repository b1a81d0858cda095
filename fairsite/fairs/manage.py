"""Organisers' management of fairs: list every fair of the deployment, create and edit one,
move it through draft -> published -> open -> closed."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from fairsite import pubsub
from fairsite.accounts.access import organiser_required
from fairsite.booths.cache import touch_fair
from fairsite.booths.models import Booth
from fairsite.database import write_transaction
from fairsite.extensions import db
from fairsite.fairs import bp
from fairsite.fairs.forms import KIND_LABELS, STATUS_LABELS, TRANSITIONS, FairForm
from fairsite.fairs.models import Fair
from fairsite.tallies import service as tallies
from fairsite.tallies.models import Tally
from fairsite.web import after_write, render

FIELDS = ("title", "kind", "campaign", "venue", "date", "opens_at", "closes_at", "description")


def get_fair(fair_id: int) -> Fair:
    """Any fair of the deployment (organisers see all of them, drafts included)."""
    fair = db.session.get(Fair, fair_id)
    if fair is None:
        abort(404)
    return fair


def fair_touched(fair_id: int) -> None:
    """Inside the write: cached booth pages and tally boards of the fair expire."""
    touch_fair(fair_id)
    tallies.touch(f"fair:{fair_id}")


def fair_changed(fair_id: int) -> None:
    """After the commit: open tally boards of the fair fetch their new state."""
    pubsub.publish(f"fair:{fair_id}", "tally")


def manage_context() -> dict:
    return dict(KIND_LABELS=KIND_LABELS, STATUS_LABELS=STATUS_LABELS, TRANSITIONS=TRANSITIONS)


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
@organiser_required
def manage_index():
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
        intents={i: intents.get(f"fair:{i}", 0) for i in ids}, **manage_context(),
    )


@bp.route("/manage/fairs/new", methods=["GET", "POST"])
@organiser_required
def manage_create():
    form = FairForm()
    if form.validate_on_submit():
        fair = Fair(status="draft")
        _fill(fair, form)
        db.session.add(fair)
        db.session.commit()
        flash(_("招聘会已创建（草稿）。审核展位后再发布。"), "ok")
        return after_write(url_for("fairs.manage_show", fair_id=fair.id))
    return render("fairs/manage_form.html", None, 422 if form.errors else 200,
                  form=form, fair=None, **manage_context())


def _fill(fair: Fair, form: FairForm) -> None:
    """Copy the form onto the fair; optional text left empty is stored as ""."""
    for name in FIELDS:
        setattr(fair, name, getattr(form, name).data)
    for name in ("campaign", "venue", "description"):
        setattr(fair, name, getattr(fair, name) or "")


@bp.get("/manage/fairs/<int:fair_id>")
@organiser_required
def manage_show(fair_id: int):
    fair = get_fair(fair_id)
    return render(
        "fairs/manage_show.html", fair=fair, booths=booth_counts([fair.id]).get(fair.id, {}),
        tally=tallies.read(f"fair:{fair.id}"), **manage_context(),
    )


@bp.route("/manage/fairs/<int:fair_id>/edit", methods=["GET", "POST"])
@organiser_required
def manage_edit(fair_id: int):
    fair = get_fair(fair_id)
    form = FairForm(obj=fair)
    if form.validate_on_submit():
        with write_transaction():
            fair = get_fair(fair_id)
            _fill(fair, form)
            fair_touched(fair.id)
        fair_changed(fair.id)
        flash(_("招聘会信息已保存。"), "ok")
        return after_write(url_for("fairs.manage_show", fair_id=fair.id))
    return render("fairs/manage_form.html", None, 422 if form.errors else 200,
                  form=form, fair=fair, **manage_context())


@bp.post("/manage/fairs/<int:fair_id>/status")
@organiser_required
def manage_status(fair_id: int):
    target = request.form.get("to", "")
    with write_transaction():
        fair = get_fair(fair_id)
        allowed = [to for to, _label in TRANSITIONS.get(fair.status, [])]
        if target not in allowed:
            abort(400)
        fair.status = target
        fair_touched(fair.id)
    fair_changed(fair.id)
    return after_write(
        url_for("fairs.manage_show", fair_id=fair.id), "fairs/_manage_status.html",
        fair=fair, **manage_context(),
    )
