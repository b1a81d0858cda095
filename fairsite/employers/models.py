"""Employers (企业), identified by their unified social credit code."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.accounts.models import User
    from fairsite.booths.models import Booth
    from fairsite.vacancies.models import Vacancy


class Employer(db.Model):
    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(40), default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[list[User]] = relationship(back_populates="employer")
    booths: Mapped[list[Booth]] = relationship(back_populates="employer")
    vacancies: Mapped[list[Vacancy]] = relationship(
        back_populates="employer", order_by="Vacancy.id"
    )
