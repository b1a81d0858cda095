"""Employers keep their vacancies: create, edit, close and reopen them inline (htmx), each
field validated as it is typed; every form also works as a plain POST. Another employer's
vacancy is a 404. Which vacancies show at which booth is chosen on the booth
(fairsite.booths.employer.placements)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, abort, request, url_for
from sqlalchemy import delete, func, select

from fairsite.accounts.models import ADMIN, BOOTH
from fairsite.accounts.service import employer_roles, own_employer_id
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import touch_booth, touch_booths_of_vacancy
from fairsite.extensions import db
from fairsite.fairs.models import SIGNABLE_STATUSES, Fair
from fairsite.sql import write_transaction
from fairsite.vacancies.forms import VacancyForm
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render, wants_fragment

bp = Blueprint("employer_vacancies", __name__)
_PREFIX = re.compile(r"new|v[0-9]{1,10}")


def own_vacancy(vacancy_id: int) -> Vacancy:
    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None or vacancy.employer_id != own_employer_id():
        abort(404)
    return vacancy


@dataclass(frozen=True)
class Placements:
    """The employer's booths (not rejected) and which vacancies show at each."""

    booths: list  # rows of (id, number, status, fair title), newest fair first
    pairs: set[tuple[int, int]]  # (vacancy id, booth id)

    def booths_of(self, vacancy_id: int) -> list:
        return [b for b in self.booths if (vacancy_id, b.id) in self.pairs]


def placements_of(employer_id: int) -> Placements:
    booths = db.session.execute(
        select(Booth.id, Booth.number, Booth.status, Fair.title.label("fair_title"))
        .join(Fair, Fair.id == Booth.fair_id)
        .where(Booth.employer_id == employer_id, Booth.status != "rejected",
               Fair.status.in_(SIGNABLE_STATUSES))
        .order_by(Fair.date.desc(), Booth.id)
    ).all()
    pairs = set(db.session.execute(
        select(BoothVacancy.vacancy_id, BoothVacancy.booth_id)
        .where(BoothVacancy.booth_id.in_([b.id for b in booths]))
    ).all()) if booths else set()
    return Placements(booths, {(v, b) for v, b in pairs})


def new_form(formdata=None) -> VacancyForm:
    return VacancyForm(formdata=formdata, prefix="new")


def edit_form(vacancy: Vacancy, formdata=None) -> VacancyForm:
    return VacancyForm(formdata=formdata, obj=vacancy, prefix=f"v{vacancy.id}")


def _index_context(employer_id: int, form: VacancyForm | None = None) -> dict:
    vacancies = db.session.scalars(
        select(Vacancy).where(Vacancy.employer_id == employer_id)
        .order_by(Vacancy.is_open.desc(), Vacancy.id.desc())
    ).all()
    return dict(vacancies=vacancies, placed=placements_of(employer_id), form=form or new_form())


def _row(vacancy: Vacancy, **extra) -> dict:
    return dict(vacancy=vacancy, placed=placements_of(vacancy.employer_id), **extra)


def _status(form: VacancyForm) -> int:
    # htmx swaps only 2xx answers; a plain form post gets the honest 422.
    return 200 if wants_fragment() or not form.errors else 422


@bp.get("/employer/vacancies")
@employer_roles(ADMIN, BOOTH)
def index():
    return render("vacancies/index.html", **_index_context(own_employer_id()))


@bp.post("/employer/vacancies")
@employer_roles(ADMIN)
def create():
    employer_id = own_employer_id()
    form = new_form(request.form)
    if not form.validate():
        return render("vacancies/index.html", "vacancies/_new.html", _status(form),
                      **_index_context(employer_id, form))
    vacancy = Vacancy(employer_id=employer_id)
    form.populate_obj(vacancy)
    db.session.add(vacancy)
    db.session.commit()
    return after_write(
        url_for("employer_vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_created.html",
        form=new_form(), **_row(vacancy),
    )


@bp.post("/employer/vacancies/validate")
@employer_roles(ADMIN)
def validate():
    """Inline validation: the whole form is posted, the errors of one field come back as the
    text of its `.error` element."""
    prefix = request.args.get("prefix", "new")
    name = request.args.get("field", "")
    if not _PREFIX.fullmatch(prefix):
        abort(400)
    form = VacancyForm(formdata=request.form, prefix=prefix, meta={"csrf": False})
    return render("vacancies/_error.html", None, 200, errors=form.field_errors(name))


@bp.get("/employer/vacancies/<int:vacancy_id>")
@employer_roles(ADMIN, BOOTH)
def show(vacancy_id: int):
    vacancy = own_vacancy(vacancy_id)
    return render("vacancies/index.html", "vacancies/_row.html",
                  **{**_index_context(vacancy.employer_id), **_row(vacancy)})


@bp.get("/employer/vacancies/<int:vacancy_id>/edit")
@employer_roles(ADMIN)
def edit(vacancy_id: int):
    vacancy = own_vacancy(vacancy_id)
    return render("vacancies/edit.html", "vacancies/_form.html", vacancy=vacancy, form=edit_form(vacancy))


@bp.post("/employer/vacancies/<int:vacancy_id>")
@employer_roles(ADMIN)
def update(vacancy_id: int):
    vacancy = own_vacancy(vacancy_id)
    form = edit_form(vacancy, request.form)
    if not form.validate():
        return render("vacancies/edit.html", "vacancies/_form.html", _status(form), vacancy=vacancy, form=form)
    with write_transaction():
        vacancy = own_vacancy(vacancy_id)
        form.populate_obj(vacancy)
        touch_booths_of_vacancy(vacancy.id)
    return after_write(url_for("employer_vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_row.html",
                       **_row(vacancy, saved=True))


def _set_open(vacancy_id: int, is_open: bool):
    with write_transaction():
        vacancy = own_vacancy(vacancy_id)
        vacancy.is_open = is_open
        touch_booths_of_vacancy(vacancy.id)
    return after_write(url_for("employer_vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_row.html",
                       **_row(vacancy))


@bp.post("/employer/vacancies/<int:vacancy_id>/close")
@employer_roles(ADMIN)
def close(vacancy_id: int):
    return _set_open(vacancy_id, False)


@bp.post("/employer/vacancies/<int:vacancy_id>/reopen")
@employer_roles(ADMIN)
def reopen(vacancy_id: int):
    return _set_open(vacancy_id, True)


@bp.post("/employer/vacancies/<int:vacancy_id>/booths/<int:booth_id>")
@employer_roles(ADMIN)
def place(vacancy_id: int, booth_id: int):
    """Show the vacancy at one of the employer's booths, or take it off (show=0): the quick
    way from the vacancy's row; the booth's own page sets all its vacancies at once."""
    show = request.form.get("show", "1") != "0"
    with write_transaction():
        vacancy = own_vacancy(vacancy_id)
        booth = db.session.get(Booth, booth_id)
        if booth is None or booth.employer_id != vacancy.employer_id:
            abort(404)
        db.session.execute(delete(BoothVacancy).where(
            BoothVacancy.booth_id == booth.id, BoothVacancy.vacancy_id == vacancy.id))
        if show:
            last = db.session.scalar(
                select(func.max(BoothVacancy.position)).where(BoothVacancy.booth_id == booth.id))
            db.session.add(BoothVacancy(booth_id=booth.id, vacancy_id=vacancy.id,
                                        position=(last if last is not None else -1) + 1))
        touch_booth(booth.id)
    return after_write(url_for("employer_vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_row.html",
                       **_row(vacancy))
