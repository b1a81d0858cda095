"""Organisers approve self-registered employers. Until approved a firm is "pending": it may
fill in its profile, vacancies and booth applications, but nothing of it reaches the public
(its booths cannot be approved, its vacancies stay off fair and booth pages, its live sessions
cannot start)."""
from __future__ import annotations

from flask import Blueprint, abort, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fairsite.accounts.models import ADMIN
from fairsite.accounts.service import organiser_roles
from fairsite.audit.service import record
from fairsite.booths.service import touch_employer
from fairsite.clock import utcnow
from fairsite.employers.models import APPROVED, PENDING, Employer
from fairsite.extensions import db
from fairsite.sql import write_transaction
from fairsite.web import after_write, render

bp = Blueprint("manage_employers", __name__)

RECENT = 20


@bp.get("/manage/employers")
@organiser_roles(ADMIN)
def index():
    pending = db.session.scalars(
        select(Employer).where(Employer.status == PENDING)
        .options(selectinload(Employer.staff)).order_by(Employer.created_at, Employer.id)
    ).all()
    recent = db.session.scalars(
        select(Employer).where(Employer.status == APPROVED, Employer.approved_at.is_not(None))
        .options(selectinload(Employer.staff))
        .order_by(Employer.approved_at.desc(), Employer.id.desc()).limit(RECENT)
    ).all()
    approved = db.session.scalar(
        select(func.count()).select_from(Employer).where(Employer.status == APPROVED)
    )
    return render("employers/manage_index.html", pending=pending, recent=recent, approved=approved)


@bp.post("/manage/employers/<int:employer_id>/approve")
@organiser_roles(ADMIN)
def approve(employer_id: int):
    with write_transaction():
        employer = db.session.get(Employer, employer_id)
        if employer is None:
            abort(404)
        if employer.status != APPROVED:
            employer.status, employer.approved_at = APPROVED, utcnow()
            # Its booth pages (cached per version) may show it from now on.
            touch_employer(employer.id)
            record("employer.approve", "employer", employer.id, employer.name)
    employer = db.session.scalar(
        select(Employer).where(Employer.id == employer_id).options(selectinload(Employer.staff))
    )
    return after_write(url_for("manage_employers.index"), "employers/_manage_row.html",
                       employer=employer)
