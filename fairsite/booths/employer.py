"""Employers' side of booths: apply for a booth at a published fair, follow each application,
choose which vacancies show at a booth, print an approved booth's poster. Another employer's
booth is a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from fairsite.accounts.models import ADMIN, BOOTH
from fairsite.accounts.service import employer_roles, own_employer_id
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import touch_booth
from fairsite.extensions import db
from fairsite.fairs.models import SIGNABLE_STATUSES, Fair
from fairsite.forms import clean_text
from fairsite.numbers import parse_ids
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render

bp = Blueprint("employer_booths", __name__)
# More vacancies than any booth shows; a longer list is cut here, before the query.
MAX_PLACED = 200


# ---- applications -----------------------------------------------------------------------------

def own_booth(booth_id: int) -> Booth:
    booth = db.session.get(Booth, booth_id)
    if booth is None or booth.employer_id != own_employer_id():
        abort(404)
    return booth


def _open_fairs(employer_id: int):
    """Published or open fairs, each with this employer's booth there (or None)."""
    fairs = db.session.scalars(
        select(Fair).where(Fair.status.in_(SIGNABLE_STATUSES)).order_by(Fair.date, Fair.id)
    ).all()
    mine = {
        b.fair_id: b
        for b in db.session.scalars(select(Booth).where(Booth.employer_id == employer_id))
    }
    return [(fair, mine.get(fair.id)) for fair in fairs]


def _mine_context(employer_id: int, errors: dict | None = None, notes: dict | None = None) -> dict:
    booths = db.session.scalars(
        select(Booth).join(Fair, Fair.id == Booth.fair_id).where(Booth.employer_id == employer_id)
        .options(selectinload(Booth.fair), selectinload(Booth.vacancies))
        # The coming or running fair first, the ones long past last.
        .order_by(Fair.date.desc(), Booth.id.desc())
    ).all()
    return dict(booths=booths, fairs=_open_fairs(employer_id), errors=errors or {}, notes=notes or {})


@bp.get("/employer/booths")
@employer_roles(ADMIN, BOOTH)
def index():
    return render("booths/mine.html", **_mine_context(own_employer_id()))


@bp.route("/employer/booths/apply/<int:fair_id>", methods=["GET", "POST"])
@employer_roles(ADMIN)
def apply(fair_id: int):
    employer_id = own_employer_id()
    fair = db.session.get(Fair, fair_id)
    if fair is None or fair.status not in SIGNABLE_STATUSES:
        abort(404)
    note = clean_text(request.form.get("note") or "", 1000)
    if request.method == "GET":
        return render("booths/apply.html", fair=fair, note="", error="")
    error = ""
    with write_transaction():
        booth = db.session.scalar(
            select(Booth).where(Booth.fair_id == fair.id, Booth.employer_id == employer_id)
        )
        if booth is None:
            db.session.add(Booth(fair_id=fair.id, employer_id=employer_id, note=note))
        elif booth.status == "rejected":
            # Apply again after a rejection: the same booth record goes back to the organiser.
            booth.status, booth.note, booth.reject_reason, booth.decided_at = "applied", note, "", None
        else:
            error = _("已经申请过这场招聘会的展位")
    if error:
        return render("booths/apply.html", None, 409, fair=fair, note=note, error=error)
    flash(_("已提交展位申请，等待主办方审核"), "ok")
    return after_write(url_for("employer_booths.index"))


# ---- which vacancies show at a booth ----------------------------------------------------------

def _placements_context(booth: Booth, saved: bool = False) -> dict:
    vacancies = db.session.scalars(
        select(Vacancy).where(Vacancy.employer_id == booth.employer_id)
        .order_by(Vacancy.is_open.desc(), Vacancy.id)
    ).all()
    placed = {v.id for v in booth.vacancies}
    return dict(booth=booth, vacancies=vacancies, placed=placed, saved=saved)


@bp.route("/employer/booths/<int:booth_id>/vacancies", methods=["GET", "POST"])
@employer_roles(ADMIN)
def placements(booth_id: int):
    booth = own_booth(booth_id)
    if request.method == "GET":
        return render("booths/placements.html", "booths/_placements.html", **_placements_context(booth))
    wanted = parse_ids(request.form.getlist("vacancy"), MAX_PLACED)
    with write_transaction():
        booth = own_booth(booth_id)
        own = set(db.session.scalars(
            select(Vacancy.id).where(Vacancy.employer_id == booth.employer_id, Vacancy.id.in_(wanted))
        ))
        if len(own) != len(wanted):
            abort(404)
        db.session.execute(delete(BoothVacancy).where(BoothVacancy.booth_id == booth.id))
        for position, vacancy_id in enumerate(wanted):
            db.session.add(BoothVacancy(booth_id=booth.id, vacancy_id=vacancy_id, position=position))
        touch_booth(booth.id)
    db.session.expire_all()
    booth = own_booth(booth_id)
    return after_write(
        url_for("employer_booths.index"), "booths/_placements.html", **_placements_context(booth, saved=True)
    )


# ---- poster -----------------------------------------------------------------------------------

@bp.get("/employer/booths/<int:booth_id>/poster")
@employer_roles(ADMIN, BOOTH)
def poster(booth_id: int):
    booth = own_booth(booth_id)
    if booth.status != "approved":
        abort(404)
    return render("booths/poster.html", booth=booth)
