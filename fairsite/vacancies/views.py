"""Employers keep their vacancies: create, edit, close and reopen them inline (htmx), each
field validated as it is typed; every form also works as a plain POST. Another employer's
vacancy is a 404. Which vacancies show at which booth is chosen on the booth
(fairsite.booths.views.placements)."""
from __future__ import annotations

import re

from flask import abort, request, url_for
from sqlalchemy import select

from fairsite.accounts.access import employer_required, own_employer_id
from fairsite.booths.cache import touch_booths_of_vacancy
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.database import write_transaction
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.vacancies import bp
from fairsite.vacancies.forms import VacancyForm
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render, wants_fragment

_PREFIX = re.compile(r"new|v[0-9]{1,10}")


def own_vacancy(vacancy_id: int) -> Vacancy:
    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None or vacancy.employer_id != own_employer_id():
        abort(404)
    return vacancy


def placed_at(employer_id: int) -> dict[int, list[tuple[str, str]]]:
    """For each vacancy of the employer: (booth number or "审核中", fair title) where it shows."""
    out: dict[int, list[tuple[str, str]]] = {}
    for vacancy_id, number, status, title in db.session.execute(
        select(BoothVacancy.vacancy_id, Booth.number, Booth.status, Fair.title)
        .join(Booth, Booth.id == BoothVacancy.booth_id)
        .join(Fair, Fair.id == Booth.fair_id)
        .where(Booth.employer_id == employer_id, Booth.status != "rejected")
        .order_by(Fair.date.desc(), Booth.id)
    ):
        out.setdefault(vacancy_id, []).append((number if status == "approved" else "审核中", title))
    return out


def new_form(formdata=None) -> VacancyForm:
    return VacancyForm(formdata=formdata, prefix="new")


def edit_form(vacancy: Vacancy, formdata=None) -> VacancyForm:
    return VacancyForm(formdata=formdata, obj=vacancy, prefix=f"v{vacancy.id}")


def _index_context(employer_id: int, form: VacancyForm | None = None) -> dict:
    vacancies = db.session.scalars(
        select(Vacancy).where(Vacancy.employer_id == employer_id)
        .order_by(Vacancy.is_open.desc(), Vacancy.id.desc())
    ).all()
    return dict(vacancies=vacancies, placed=placed_at(employer_id), form=form or new_form())


def _row(vacancy: Vacancy, **extra) -> dict:
    return dict(vacancy=vacancy, placed=placed_at(vacancy.employer_id), **extra)


def _status(form: VacancyForm) -> int:
    # htmx swaps only 2xx answers; a plain form post gets the honest 422.
    return 200 if wants_fragment() or not form.errors else 422


@bp.get("/employer/vacancies")
@employer_required
def index():
    return render("vacancies/index.html", **_index_context(own_employer_id()))


@bp.post("/employer/vacancies")
@employer_required
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
        url_for("vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_created.html",
        form=new_form(), **_row(vacancy),
    )


@bp.post("/employer/vacancies/validate")
@employer_required
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
@employer_required
def show(vacancy_id: int):
    vacancy = own_vacancy(vacancy_id)
    return render("vacancies/index.html", "vacancies/_row.html",
                  **{**_index_context(vacancy.employer_id), **_row(vacancy)})


@bp.get("/employer/vacancies/<int:vacancy_id>/edit")
@employer_required
def edit(vacancy_id: int):
    vacancy = own_vacancy(vacancy_id)
    return render("vacancies/edit.html", "vacancies/_form.html", vacancy=vacancy, form=edit_form(vacancy))


@bp.post("/employer/vacancies/<int:vacancy_id>")
@employer_required
def update(vacancy_id: int):
    vacancy = own_vacancy(vacancy_id)
    form = edit_form(vacancy, request.form)
    if not form.validate():
        return render("vacancies/edit.html", "vacancies/_form.html", _status(form), vacancy=vacancy, form=form)
    with write_transaction():
        vacancy = own_vacancy(vacancy_id)
        form.populate_obj(vacancy)
        touch_booths_of_vacancy(vacancy.id)
    return after_write(url_for("vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_row.html",
                       **_row(vacancy, saved=True))


def _set_open(vacancy_id: int, is_open: bool):
    with write_transaction():
        vacancy = own_vacancy(vacancy_id)
        vacancy.is_open = is_open
        touch_booths_of_vacancy(vacancy.id)
    return after_write(url_for("vacancies.index") + f"#vacancy-row-{vacancy.id}", "vacancies/_row.html",
                       **_row(vacancy))


@bp.post("/employer/vacancies/<int:vacancy_id>/close")
@employer_required
def close(vacancy_id: int):
    return _set_open(vacancy_id, False)


@bp.post("/employer/vacancies/<int:vacancy_id>/reopen")
@employer_required
def reopen(vacancy_id: int):
    return _set_open(vacancy_id, True)
