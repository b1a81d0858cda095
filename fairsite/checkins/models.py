"""Who came through the gate (签到): a check-in per person and fair, and the desk's count of
walk-ins without a phone. What the boards show is kept in counters (fairsite.tallies); these
rows are what the counters count, and what the reports and the person's file read."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fairsite.clock import utcnow
from fairsite.extensions import db

# How a check-in was made: scanned at the entrance on the person's phone, or at the desk
# (desk registration).
METHODS = ("self", "desk")


class CheckIn(db.Model):
    """One person checked in at one fair: the primary key counts them once, however many
    times they scan."""

    __tablename__ = "checkins"
    __table_args__ = (CheckConstraint("method IN ('self', 'desk')", name="method"),)

    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    method: Mapped[str] = mapped_column(String(10), default="self")
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WalkIn(db.Model):
    """One tap of the desk's "+1": a person who came in without a phone to check in with."""

    __tablename__ = "walk_ins"
    __table_args__ = (Index("ix_walk_ins_fair_user_created", "fair_id", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
