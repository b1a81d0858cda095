"""Checking in at a fair's entrance, the desk's walk-in counter, and the fair's headcount.
Writes run inside the caller's write transaction and keep the counters of fairsite.tallies
with the rows ("entered": people counted once, "walkins": taps of the desk's +1); the caller
publishes after the commit (fairsite.events)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from fairsite.checkins.models import WalkIn
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.intents.service import AttendeeRef, add_device, find_or_create_attendee
from fairsite.sql import fetch_one
from fairsite.tallies import service as tallies

# How long after a tap the desk may take it back with "撤销".
UNDO_WINDOW = timedelta(minutes=10)


def check_in(fair_id: int, attendee_id: int, method: str = "self", device_id: int | None = None,
             now: datetime | None = None) -> bool:
    """Record that the person came in; whether this is their first check-in at the fair. One
    insert the primary key decides, so a second scan (or two at once) changes nothing."""
    row = fetch_one(
        "INSERT INTO checkins (fair_id, attendee_id, method, device_id, created_at) "
        "VALUES (:f, :a, :m, :d, :now) ON CONFLICT DO NOTHING RETURNING fair_id",
        {"f": fair_id, "a": attendee_id, "m": method, "d": device_id, "now": now or utcnow()},
    )
    tallies.count_entry(fair_id, attendee_id)
    return row is not None


@dataclass(frozen=True)
class NewCheckIn:
    attendee: AttendeeRef
    created: bool  # a new attendee
    device_token: str
    first: bool  # their first check-in at this fair


def check_in_new_phone(fair_id: int, name: str, phone: str, groups: list[str],
                       consent_version: str) -> NewCheckIn:
    """A phone the site does not know: the person (found by number, or new), a device for this
    phone, and the check-in. The same rules as signing: a device that typed a number that
    existed already sees only what is done from it."""
    attendee, created = find_or_create_attendee(name, phone, groups, consent_version)
    device_id, token = add_device(attendee.id, full_access=created)
    first = check_in(fair_id, attendee.id, "self", device_id)
    return NewCheckIn(attendee, created, token, first)


def is_checked_in(fair_id: int, attendee_id: int) -> bool:
    return fetch_one("SELECT 1 FROM checkins WHERE fair_id = :f AND attendee_id = :a",
                     {"f": fair_id, "a": attendee_id}) is not None


def add_walk_in(fair_id: int, user_id: int | None) -> None:
    db.session.add(WalkIn(fair_id=fair_id, user_id=user_id, created_at=utcnow()))
    tallies.bump(f"fair:{fair_id}", [("walkins", "")])


def undo_walk_in(fair_id: int, user_id: int | None, now: datetime | None = None) -> bool:
    """Take back this staff member's last tap at this fair, if it is recent; whether one was."""
    now = now or utcnow()
    last = db.session.scalar(
        select(WalkIn.id).where(
            WalkIn.fair_id == fair_id, WalkIn.user_id == user_id,
            WalkIn.created_at >= now - UNDO_WINDOW,
        ).order_by(WalkIn.created_at.desc(), WalkIn.id.desc()).limit(1)
    )
    if last is None:
        return False
    # Two undos at once: only the one that deleted the row moves the counter.
    if db.session.execute(delete(WalkIn).where(WalkIn.id == last)).rowcount != 1:
        return False
    tallies.bump(f"fair:{fair_id}", [("walkins", "")], delta=-1)
    return True


@dataclass(frozen=True)
class Headcount:
    """进场人数 of a fair from its counters: people counted once (checked in, or signed there
    in person) plus the desk's walk-ins; and how many of those who came signed anything there."""

    entered: int
    walkins: int
    signed: int  # of `entered`, those who signed an intent there in person

    @property
    def total(self) -> int:
        return self.entered + self.walkins

    @property
    def signed_share(self) -> int | None:
        """Percentage of those who came who signed, or None before anyone came."""
        return round(100 * min(self.signed, self.total) / self.total) if self.total else None


def headcount_of(counts: dict[str, dict[str, int]]) -> Headcount:
    """From a fair scope's counters (tallies.read)."""
    return Headcount(counts.get("entered", {}).get("", 0), counts.get("walkins", {}).get("", 0),
                     counts.get("entered_signed", {}).get("", 0))


def headcount(fair_id: int) -> Headcount:
    return headcount_of(tallies.read(f"fair:{fair_id}"))
