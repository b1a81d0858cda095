"""Staff accounts: organisers of the bureau and employers' staff.

A login's sessions are named by its `session_token` (Flask-Login's alternative id: the session
cookie and the remember-me cookie carry it, never the row id). Logging out, changing the
password or switching the login off draws a new token, so every copy of an old cookie stops
working at once.

Password hashing (scrypt, tens of milliseconds of CPU) runs in gevent's thread pool under a
gevent worker, so the worker's other connections are served meanwhile; hashlib's scrypt
releases the GIL while it works."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, TypeVar

import gevent
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.group_commit import gevent_active

if TYPE_CHECKING:
    from fairsite.employers.models import Employer

ORGANISER = "organiser"
EMPLOYER = "employer"

# Staff roles within each kind of login (User.staff_role). What each may open is declared on
# the views by the decorators in fairsite.accounts.service.
ADMIN = "admin"
DESK = "desk"
VIEWER = "viewer"
BOOTH = "booth"
STAFF_ROLES = {
    ORGANISER: {ADMIN: _l("管理员"), DESK: _l("服务台"), VIEWER: _l("查看")},
    EMPLOYER: {ADMIN: _l("管理员"), BOOTH: _l("展位人员")},
}
STAFF_ROLE_HINTS = {
    ORGANISER: {
        ADMIN: _l("全部功能，包括工作人员账号"),
        DESK: _l("现场代登记、签到计数、实时看板"),
        VIEWER: _l("只看实时看板和报表"),
    },
    EMPLOYER: {
        ADMIN: _l("全部功能，包括账号、导出和查看完整手机号"),
        BOOTH: _l("查看名单（手机号隐藏）、更新跟进状态和备注"),
    },
}
T = TypeVar("T")


def _off_the_loop(fn: Callable[..., T], *args) -> T:
    """Run a CPU-heavy call in gevent's thread pool when gevent runs this worker (else here)."""
    if gevent_active():
        return gevent.get_hub().threadpool.apply(fn, args)
    return fn(*args)


def hash_password(password: str) -> str:
    # scrypt is werkzeug's default: memory-hard, no extra dependency.
    return _off_the_loop(generate_password_hash, password, "scrypt")


def password_matches(password_hash: str, password: str) -> bool:
    return _off_the_loop(check_password_hash, password_hash, password)


@cache
def _dummy_hash() -> str:
    # Made on first use (not at import) with the same method and cost as real hashes.
    return hash_password(secrets.token_urlsafe(16))


def check_unknown_login(password: str) -> bool:
    """Spend the time a wrong password takes, for a login that does not exist or is switched
    off, so the answer's timing does not tell which accounts exist. Always False."""
    password_matches(_dummy_hash(), password)
    return False


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('organiser', 'employer')", name="role"),
        CheckConstraint(
            "(role = 'employer') = (employer_id IS NOT NULL)", name="employer_staff_have_employer"
        ),
        CheckConstraint(
            "(role = 'organiser' AND staff_role IN ('admin', 'desk', 'viewer'))"
            " OR (role = 'employer' AND staff_role IN ('admin', 'booth'))",
            name="staff_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Login name: an e-mail address or a mobile number, stored lower-case.
    login: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    # What this login may do within its kind: see STAFF_ROLES.
    staff_role: Mapped[str] = mapped_column(String(20), default=ADMIN, server_default=ADMIN)
    # Set when an admin invited the login with a password they saw: the first thing the
    # person does is choose their own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # What session and remember-me cookies carry (see the module docstring).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employer: Mapped[Employer | None] = relationship(back_populates="staff")

    def set_password(self, password: str) -> None:
        """A new password ends the login's other sessions (a new session token)."""
        self.password_hash = hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def end_sessions(self) -> None:
        """Every session and remember-me cookie issued so far stops working."""
        self.session_token = new_session_token()

    def get_id(self) -> str:  # Flask-Login: what the session cookies carry
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_organiser(self) -> bool:
        return self.role == ORGANISER

    @property
    def is_employer(self) -> bool:
        return self.role == EMPLOYER

    @property
    def is_admin(self) -> bool:
        return self.staff_role == ADMIN

    @property
    def access_key(self) -> str:
        """"organiser:desk", "employer:booth"...: what views' declared roles are made of."""
        return f"{self.role}:{self.staff_role}"

    @property
    def staff_role_label(self) -> str:
        return str(STAFF_ROLES.get(self.role, {}).get(self.staff_role, self.staff_role))
