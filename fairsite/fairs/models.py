"""Fairs (招聘会) and their life cycle."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, String, Text
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
    venue: Mapped[str] = mapped_column(String(200), default="")
    date: Mapped[date]
    opens_at: Mapped[time | None]
    closes_at: Mapped[time | None]
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    booths: Mapped[list[Booth]] = relationship(back_populates="fair")

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def takes_intents(self) -> bool:
        return self.status in SIGNABLE_STATUSES

    def can_move_to(self, status: str) -> bool:
        return any(to == status for to, _label in TRANSITIONS.get(self.status, []))
