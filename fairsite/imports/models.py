"""Logins made by a spreadsheet import: each imported employer gets one employer login, switched
off until an organiser hands it over (sends the login). This table says which logins those are
and whether, when and by whom they were sent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.accounts.models import User
from fairsite.clock import utcnow
from fairsite.employers.models import Employer
from fairsite.extensions import db


class ImportedLogin(db.Model):
    __tablename__ = "imported_logins"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None until an organiser switched the login on and saw its initial password.
    sent_at: Mapped[datetime | None]
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    employer: Mapped[Employer] = relationship()
