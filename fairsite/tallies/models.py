"""Counters kept in the same transaction as each intent, so that a tally costs the same
whether a fair has a hundred intents or a million."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from fairsite.extensions import db


class Tally(db.Model):
    """One counter: scope ("fair:7", "live:3"), dimension ("intents", "employer", "group",
    "source", "hour", "vacancy", "attendees", "version") and key within it ("" for totals)."""

    __tablename__ = "tallies"

    scope: Mapped[str] = mapped_column(String(30), primary_key=True)
    dim: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True, default="")
    n: Mapped[int] = mapped_column(default=0)


class FairAttendee(db.Model):
    """An attendee who signed at least one intent at a fair: counts distinct people."""

    __tablename__ = "fair_attendees"

    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class FairEntry(db.Model):
    """A person counted in a fair's 进场人数: checked in at the entrance or the desk, or signed
    an intent there in person (not from a live session), each once; `signed` once they signed
    there in person (the share of those who came who signed: counter "entered_signed")."""

    __tablename__ = "fair_entries"

    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    signed: Mapped[bool] = mapped_column(default=False, server_default=false())
