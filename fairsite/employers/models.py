"""Employers (企业), identified by their unified social credit code. A firm that registers
itself is "pending" until an organiser approves it; until then nothing it writes reaches the
public (its booths cannot be approved, its vacancies and live sessions are not shown)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.accounts.models import User
    from fairsite.booths.models import Booth
    from fairsite.vacancies.models import Vacancy

PENDING = "pending"
APPROVED = "approved"


class Employer(db.Model):
    __tablename__ = "employers"
    __table_args__ = (CheckConstraint("status IN ('pending', 'approved')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(40), default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # New firms wait for an organiser; rows made before approval existed were approved.
    status: Mapped[str] = mapped_column(String(20), default=PENDING, server_default=APPROVED)
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[list[User]] = relationship(back_populates="employer")
    booths: Mapped[list[Booth]] = relationship(back_populates="employer")
    vacancies: Mapped[list[Vacancy]] = relationship(
        back_populates="employer", order_by="Vacancy.id"
    )

    @property
    def is_approved(self) -> bool:
        return self.status == APPROVED
