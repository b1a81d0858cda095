"""The bureau's own follow-up notes about a person (回访记录): who called, when, and what came
of it. Recording one takes the person off the call list until their intents change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fairsite.clock import utcnow
from fairsite.extensions import db

OUTCOME_MAX = 200


class FollowUp(db.Model):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_attendee_created", "attendee_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"))
    # The organiser who recorded it; None once that login was deleted.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # One line (free text about a person: emptied when the person's data is purged).
    outcome: Mapped[str] = mapped_column(String(OUTCOME_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
