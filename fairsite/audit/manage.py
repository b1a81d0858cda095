"""The organiser's audit page: every recorded staff action, newest first, filtered by action,
user and date range (Beijing dates), a page at a time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, request
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from fairsite.accounts.models import ADMIN, User
from fairsite.accounts.service import organiser_roles
from fairsite.audit.models import ACTIONS, OBJECT_LABELS, ROLE_LABELS, AuditEntry
from fairsite.clock import CST
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.forms import clean_text
from fairsite.numbers import parse_id, parse_page
from fairsite.web import render

bp = Blueprint("manage_audit", __name__)

PAGE_SIZE = 50
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ACTION = re.compile(r"[a-z][a-z0-9_.-]{0,39}")


def _date(raw) -> tuple[date | None, bool]:
    """(the date typed as YYYY-MM-DD, whether something unusable was typed)."""
    raw = clean_text(raw or "", 20)
    if not raw:
        return None, False
    if not _DATE.fullmatch(raw):
        return None, True
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, True
    # Year 1 or 9999 would overflow once Beijing time is taken off.
    return (day, False) if 2000 <= day.year <= 2100 else (None, True)


@dataclass
class AuditFilter:
    action: str = ""
    user: int | None = None
    since: date | None = None
    until: date | None = None
    error: str = ""

    @classmethod
    def from_args(cls, args) -> AuditFilter:
        action = clean_text(args.get("action") or "", 40)
        since, bad_since = _date(args.get("from"))
        until, bad_until = _date(args.get("to"))
        error = ""
        if bad_since or bad_until:
            error = _("日期格式应为 年-月-日，例如 2026-03-03；填错的日期未用于筛选。")
        elif since and until and since > until:
            error = _("开始日期晚于结束日期，已对调。")
            since, until = until, since
        return cls(action=action if _ACTION.fullmatch(action) else "",
                   user=parse_id(args.get("user") or ""), since=since, until=until, error=error)

    def apply(self, query: Select) -> Select:
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.user:
            query = query.where(AuditEntry.user_id == self.user)
        # Dates are Beijing days; the column holds naive UTC.
        if self.since:
            query = query.where(AuditEntry.created_at >= datetime.combine(self.since, time()) - CST)
        if self.until:
            query = query.where(
                AuditEntry.created_at < datetime.combine(self.until, time()) - CST + timedelta(days=1))
        return query

    def args(self) -> dict:
        out = {"action": self.action, "user": self.user,
               "from": self.since.isoformat() if self.since else "",
               "to": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in out.items() if v not in ("", None)}



def _users():
    """The accounts that appear in the log, for the user filter."""
    return db.session.execute(
        select(User.id, User.name, User.login, User.role)
        .where(User.id.in_(select(AuditEntry.user_id).where(AuditEntry.user_id.is_not(None)).distinct()))
        .order_by(User.role.desc(), User.name, User.login)
    ).all()


def _actions() -> list[tuple[str, str]]:
    """The known actions, then any other code the log holds (added by a newer feature)."""
    seen = set(db.session.scalars(select(AuditEntry.action).distinct()))
    known = [(code, str(label)) for code, label in ACTIONS.items()]
    return known + [(code, code) for code in sorted(seen - set(ACTIONS))]


@bp.get("/manage/audit")
@organiser_roles(ADMIN)
def index():
    filt = AuditFilter.from_args(request.args)
    total = db.session.scalar(filt.apply(select(func.count(AuditEntry.id))))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(parse_page(request.args.get("page")), pages)
    rows = db.session.execute(
        filt.apply(
            select(AuditEntry, User.name.label("user_name"), User.login.label("user_login"),
                   Employer.name.label("employer_name"))
            .outerjoin(User, User.id == AuditEntry.user_id)
            .outerjoin(Employer, Employer.id == AuditEntry.employer_id)
        ).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render("audit/index.html", "audit/_rows.html", filt=filt, rows=rows, total=total,
                  page=page, pages=pages, users=_users(), actions=_actions(),
                  action_labels=ACTIONS, role_labels=ROLE_LABELS,
                  object_labels=OBJECT_LABELS)
