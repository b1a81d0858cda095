"""Desk registration (代登记): an organiser signs intents for a person without a smartphone.
The same rules as the attendee's own form (fairsite.intents.forms.AttendeeForm), with the
consent given verbally and recorded as such; then a printable slip for the person."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from fairsite import events
from fairsite.accounts.models import ADMIN, DESK
from fairsite.accounts.service import organiser_roles
from fairsite.audit import service as audit
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.checkins.service import check_in
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.service import get_fair
from fairsite.forms import clean_text
from fairsite.intents.forms import DeskForm
from fairsite.intents.models import Attendee, Intent
from fairsite.intents.service import find_or_create_attendee, record_intent
from fairsite.numbers import parse_ids
from fairsite.sms import service as sms
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render

bp = Blueprint("manage_intents", __name__)

RESULTS = 20
MAX_PICKED = 20


def _placed(fair_id: int):
    """Open vacancies at the fair's approved booths, with booth and employer."""
    return (
        select(Vacancy, Booth.id.label("booth_id"), Booth.number, Employer.name.label("employer_name"))
        .join(BoothVacancy, BoothVacancy.vacancy_id == Vacancy.id)
        .join(Booth, Booth.id == BoothVacancy.booth_id)
        .join(Employer, Employer.id == Booth.employer_id)
        .where(Booth.fair_id == fair_id, Booth.status == "approved", Vacancy.is_open.is_(True))
    )


def picked_ids() -> list[int]:
    return parse_ids(request.values.getlist("vacancy"), MAX_PICKED)


def search(fair_id: int, q: str, picked: list[int]):
    """(picked rows, matching rows): what is ticked stays, whatever the search."""
    chosen = db.session.execute(
        _placed(fair_id).where(Vacancy.id.in_(picked)).order_by(Booth.number, Vacancy.id)
    ).all() if picked else []
    query = _placed(fair_id)
    if picked:
        query = query.where(Vacancy.id.not_in(picked))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Vacancy.title.ilike(like), Employer.name.ilike(like), Booth.number.ilike(like)))
    matches = db.session.execute(query.order_by(Booth.number, Vacancy.id).limit(RESULTS)).all()
    return chosen, matches


def _page(fair, form, q: str, picked: list[int], error: str = "", status: int = 200):
    chosen, matches = search(fair.id, q, picked)
    return render("intents/desk_new.html", None, status, fair=fair, form=form, q=q,
                  chosen=chosen, matches=matches, pick_error=error)


@bp.route("/manage/fairs/<int:fair_id>/desk", methods=["GET", "POST"])
@organiser_roles(ADMIN, DESK)
def desk(fair_id: int):
    fair = get_fair(fair_id)
    form = DeskForm()
    q = clean_text(request.values.get("q") or "", 40)
    picked = picked_ids()
    if request.method == "GET" or request.form.get("action") == "search":
        # Searching without JavaScript posts the form back: keep what was typed, show no errors.
        return _page(fair, form, q, picked)
    if not fair.takes_intents:
        return _page(fair, form, q, picked, _("这场招聘会现在不接受登记（未发布或已结束）。"), 422)
    valid = form.validate()
    rows = db.session.execute(_placed(fair.id).where(Vacancy.id.in_(picked))).all() if picked else []
    if not rows:
        return _page(fair, form, q, picked, _("请至少选择一个岗位。"), 422)
    if not valid:
        return _page(fair, form, q, picked, "", 422)
    employers: set[int] = set()
    new = 0
    with write_transaction():
        attendee, created = find_or_create_attendee(
            form.name.data, form.normalised_phone, form.groups.data or [],
            current_app.config["CONSENT_VERSION"], consent_method="verbal",
        )
        # Registered at the desk: the person is at the fair (进场人数).
        check_in(fair.id, attendee.id, "desk")
        for row in rows:
            signed = record_intent(
                attendee, row.Vacancy, "desk", fair_id=fair.id, booth_id=row.booth_id,
                registered_by_id=current_user.id,
            )
            if signed.created:
                new += 1
                employers.add(row.Vacancy.employer_id)
        audit.record("desk.register", "attendee", attendee.id,
                     f"fair={fair.id} vacancies={len(rows)} new={new}"
                     + ("" if created else " existing"))
        # The slip's content by text (booths, employers), sent by the queue after the commit.
        receipt = sms.desk_receipt(fair.id, attendee.id) if new else []
    sms.dispatch(receipt)
    for employer_id in sorted(employers) or [None]:
        events.intent_changed(fair.id, None, employer_id)
    if not created and attendee.name != form.name.data:
        flash(_("这个手机号以前登记过，姓名按原登记的“%(name)s”。", name=attendee.name), "ok")
    flash(_("已登记 %(n)s 个职位。请打印或抄写下面的回执交给本人。", n=new) if new
          else _("所选岗位这个人都已登记过。"), "ok")
    return after_write(url_for("manage_intents.desk_slip", fair_id=fair.id, attendee_id=attendee.id))


@bp.get("/manage/fairs/<int:fair_id>/desk/vacancies")
@organiser_roles(ADMIN, DESK)
def desk_vacancies(fair_id: int):
    """Active search: the ticked vacancies, then those matching title, employer or booth."""
    fair = get_fair(fair_id)
    q = clean_text(request.args.get("q") or "", 40)
    chosen, matches = search(fair.id, q, picked_ids())
    return render("intents/desk_new.html", "intents/_desk_vacancies.html", fair=fair, q=q,
                  chosen=chosen, matches=matches, form=DeskForm(formdata=None), pick_error="")


@bp.get("/manage/fairs/<int:fair_id>/desk/slip/<int:attendee_id>")
@organiser_roles(ADMIN, DESK)
def desk_slip(fair_id: int, attendee_id: int):
    """The person's slip: the jobs signed at this fair, booths and employers' phones. Only for
    someone registered at this fair's desk (anyone else's record is not the desk's to open),
    and every opening is in the audit log."""
    fair = get_fair(fair_id)
    attendee = db.session.get(Attendee, attendee_id)
    if attendee is None or attendee.purged_at is not None or db.session.scalar(
        select(Intent.id).where(Intent.attendee_id == attendee.id, Intent.fair_id == fair.id,
                                Intent.source == "desk").limit(1)
    ) is None:
        abort(404)
    rows = db.session.execute(
        select(Vacancy, Employer, Booth.number, Intent.source)
        .select_from(Intent)
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .join(Employer, Employer.id == Intent.employer_id)
        .outerjoin(Booth, (Booth.employer_id == Intent.employer_id) & (Booth.fair_id == Intent.fair_id))
        .where(Intent.attendee_id == attendee.id, Intent.fair_id == fair.id, Intent.withdrawn_at.is_(None))
        .order_by(Booth.number, Vacancy.id)
    ).all()
    if not rows:
        abort(404)
    # Rendered first: the commit would expire every object the page shows.
    page = render("intents/desk_slip.html", fair=fair, attendee=attendee, rows=rows)
    with write_transaction():
        audit.record("desk.slip", "attendee", attendee.id, f"fair={fair.id}")
    return page
