"""Fairs (招聘会) and their life cycle."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.booths.models import Booth

KINDS = ("park", "special", "night", "online")
STATUSES = ("draft", "published", "open", "closed")
# Statuses in which the public can see a fair.
PUBLIC_STATUSES = ("published", "open", "closed")
# Statuses in which a fair takes intents.
SIGNABLE_STATUSES = ("published", "open")

KIND_LABELS = {
    "park": _l("公园招聘会"),
    "special": _l("专场招聘会"),
    "night": _l("人才夜市"),
    "online": _l("线上招聘会"),
}
STATUS_LABELS = {
    "draft": _l("草稿"),
    "published": _l("已发布"),
    "open": _l("进行中"),
    "closed": _l("已结束"),
}
# Where a fair may go from each status, and the button that takes it there.
TRANSITIONS = {
    "draft": [("published", _l("发布"))],
    "published": [("open", _l("开始招聘会")), ("draft", _l("撤回为草稿"))],
    "open": [("closed", _l("结束招聘会"))],
    "closed": [("open", _l("重新开放"))],
}


class Fair(db.Model):
    __tablename__ = "fairs"
    __table_args__ = (
        CheckConstraint("kind IN ('park', 'special', 'night', 'online')", name="kind"),
        CheckConstraint("status IN ('draft', 'published', 'open', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="park")
    campaign: Mapped[str] = mapped_column(String(60), default="")
    # The campaign (fairsite.campaigns) whose returns count this fair.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    venue: Mapped[str] = mapped_column(String(200), default="")
    # The organisers' phone for attendees' questions, printed on the desk slip (b66_fair_contact).
    contact_phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # A new phone confirms a code by text before its first signing here (fairsite/sms/codes.py).
    verify_phone: Mapped[bool] = mapped_column(default=False, server_default=false())
    date: Mapped[date]
    opens_at: Mapped[time | None]
    closes_at: Mapped[time | None]
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved on by a database trigger whenever the row changes (migration b50_search): with the
    # fair page's counter in tallies, what the public fair page's cache is keyed by.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    booths: Mapped[list[Booth]] = relationship(back_populates="fair")

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def takes_intents(self) -> bool:
        return self.status in SIGNABLE_STATUSES

    def can_move_to(self, status: str) -> bool:
        return any(to == status for to, _label in TRANSITIONS.get(self.status, []))


class SearchTerm(db.Model):
    """The fair page's search index: one row per vacancy a fair lists and term, in the order the
    page lists them. Written only by database triggers (migration b50_search); read by
    fairsite.fairs.search."""

    __tablename__ = "search_terms"
    __table_args__ = (
        Index("ix_search_terms_vacancy_booth", "vacancy_id", "booth_id"),
        {"sqlite_with_rowid": False},
    )

    fair_id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(30), primary_key=True)
    booth_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(primary_key=True)
    booth_id: Mapped[int]
    category: Mapped[str] = mapped_column(String(20))
    pay_max: Mapped[int]
    meals: Mapped[bool]
    insurance: Mapped[bool]
    txt: Mapped[str | None] = mapped_column(String(262))
