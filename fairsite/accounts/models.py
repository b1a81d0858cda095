"""Staff accounts: organisers of the bureau and employers' staff."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.employers.models import Employer

ORGANISER = "organiser"
EMPLOYER = "employer"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('organiser', 'employer')", name="role"),
        CheckConstraint(
            "(role = 'employer') = (employer_id IS NOT NULL)", name="employer_staff_have_employer"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Login name: an e-mail address or a mobile number, stored lower-case.
    login: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employer: Mapped[Employer | None] = relationship(back_populates="staff")

    def set_password(self, password: str) -> None:
        # scrypt is werkzeug's default: memory-hard, no extra dependency.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_organiser(self) -> bool:
        return self.role == ORGANISER

    @property
    def is_employer(self) -> bool:
        return self.role == EMPLOYER
