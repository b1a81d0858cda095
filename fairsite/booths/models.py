"""Booths (展位): an employer at a fair, and which vacancies it shows there."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.employers.models import Employer
    from fairsite.fairs.models import Fair
    from fairsite.vacancies.models import Vacancy


def new_token() -> str:
    # 9 random bytes -> 12 URL-safe characters: short enough for a QR code that scans in a
    # crowd, far too many to guess.
    return secrets.token_urlsafe(9)


class Booth(db.Model):
    __tablename__ = "booths"
    __table_args__ = (
        UniqueConstraint("fair_id", "employer_id"),
        UniqueConstraint("fair_id", "number"),
        CheckConstraint("status IN ('applied', 'approved', 'rejected')", name="status"),
        CheckConstraint("status != 'approved' OR number IS NOT NULL", name="approved_numbered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="applied")
    number: Mapped[str | None] = mapped_column(String(10))
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    note: Mapped[str] = mapped_column(Text, default="")
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    # Bumped whenever what the booth page shows changes; keys the page cache.
    version: Mapped[int] = mapped_column(default=1)
    # Over the open vacancies placed here: the sum of headcount, and of headcount x (pay_min +
    # pay_max). Kept by database triggers (migration b50_search), for the fair's headline.
    posts: Mapped[int] = mapped_column(default=0, server_default="0")
    pay_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    fair: Mapped[Fair] = relationship(back_populates="booths")
    employer: Mapped[Employer] = relationship(back_populates="booths")
    vacancies: Mapped[list[Vacancy]] = relationship(
        secondary="booth_vacancies", order_by="BoothVacancy.position", viewonly=True
    )


class BoothVacancy(db.Model):
    """A vacancy shown at a booth, in the order the employer chose."""

    __tablename__ = "booth_vacancies"

    booth_id: Mapped[int] = mapped_column(
        ForeignKey("booths.id", ondelete="CASCADE"), primary_key=True
    )
    vacancy_id: Mapped[int] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)
