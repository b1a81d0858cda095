"""Public fair pages: the list of fairs, a fair's headline, vacancy search and booth list."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from fairsite.extensions import db
from fairsite.fairs.models import PUBLIC_STATUSES, Fair
from fairsite.fairs.service import (
    VacancyFilter,
    booth_list,
    get_public_fair,
    headline,
    search_vacancies,
)
from fairsite.web import render

bp = Blueprint("fairs", __name__)


@bp.get("/")
def index():
    fairs = db.session.scalars(
        select(Fair).where(Fair.status.in_(PUBLIC_STATUSES)).order_by(Fair.date.desc(), Fair.id.desc())
    ).all()
    return render("fairs/index.html", fairs=fairs, headlines={f.id: headline(f.id) for f in fairs})


@bp.get("/fairs/<int:fair_id>")
def show(fair_id: int):
    fair = get_public_fair(fair_id)
    filt = VacancyFilter.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = search_vacancies(fair.id, filt, page)
    context = dict(fair=fair, filt=filt, rows=rows, total=total, page=page)
    if page > 1:
        return render("fairs/show.html", "fairs/_vacancy_page.html", **context)
    return render(
        "fairs/show.html",
        "fairs/_vacancies.html",
        headline=headline(fair.id),
        booths=booth_list(fair.id),
        **context,
    )
