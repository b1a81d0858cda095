"""Campaigns (e.g. 2026 春风行动): the season a bureau reports on. Fairs and live sessions
belong to one (fairs.campaign_id, live_sessions.campaign_id)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fairsite.clock import utcnow
from fairsite.extensions import db


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    year: Mapped[int]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def period(self) -> str:
        if self.starts_on and self.ends_on:
            return f"{self.starts_on:%Y-%m-%d} – {self.ends_on:%Y-%m-%d}"
        if self.starts_on:
            return f"{self.starts_on:%Y-%m-%d} –"
        return str(self.year)
