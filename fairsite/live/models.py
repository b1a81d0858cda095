"""Livestream recruiting sessions (直播带岗), their running order, and the video platforms
stream links may go to."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.employers.models import Employer
    from fairsite.vacancies.models import Vacancy

STATUSES = ("scheduled", "live", "ended")


class LiveSession(db.Model):
    __tablename__ = "live_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'live', 'ended')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    host_name: Mapped[str] = mapped_column(String(60), default="")
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("fairs.id"), index=True)
    # The campaign its intents count in when it belongs to no fair (fairsite.campaigns).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # Set when an employer runs the session for its own vacancies.
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scheduled_at: Mapped[datetime | None]
    stream_url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    current_vacancy_id: Mapped[int | None] = mapped_column(ForeignKey("vacancies.id"))
    # Bumped on every change viewers see; keys the rendered fragments and ETags.
    version: Mapped[int] = mapped_column(default=1)
    # Taken down by an organiser (下线): hidden from the public until brought back.
    taken_down: Mapped[bool] = mapped_column(default=False, server_default=false())
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[LiveItem]] = relationship(
        order_by="LiveItem.position", cascade="all, delete-orphan", back_populates="session"
    )
    current_vacancy: Mapped[Vacancy | None] = relationship()
    employer: Mapped[Employer | None] = relationship()

    @property
    def is_public(self) -> bool:
        """Whether the public may see it: not taken down, and run by an organiser or by an
        employer the organisers approved."""
        return not self.taken_down and (self.employer is None or self.employer.is_approved)


class LiveItem(db.Model):
    """One vacancy in a session's running order."""

    __tablename__ = "live_items"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancies.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    presented_at: Mapped[datetime | None]

    session: Mapped[LiveSession] = relationship(back_populates="items")
    vacancy: Mapped[Vacancy] = relationship()


class StreamHost(db.Model):
    """A host name stream links may point to (e.g. live.douyin.com), kept by the organisers;
    the migration seeds the platforms bureaus stream on."""

    __tablename__ = "stream_hosts"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
