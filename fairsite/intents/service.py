"""Signing and withdrawing intents: each write touches the intent, the attendee and the
counters in one transaction; events go out only after it commits."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text, update

from fairsite.database import utcnow, write_transaction
from fairsite.extensions import db
from fairsite.intents.models import Attendee, Device, Intent
from fairsite.tallies import service as tallies
from fairsite.tallies.models import FairAttendee
from fairsite.vacancies.models import Vacancy
from fairsite.web import local_hour


@dataclass(frozen=True)
class Signed:
    intent_id: int
    created: bool  # False when the same intent existed already (double tap, retry)


def counter_keys(intent: Intent | dict, groups: list[str], created_at: datetime) -> list[tuple[str, str]]:
    get = intent.get if isinstance(intent, dict) else lambda k: getattr(intent, k)
    keys = [
        ("intents", ""),
        ("employer", str(get("employer_id"))),
        ("source", get("source")),
        ("hour", f"{local_hour(created_at):02d}"),
        ("vacancy", str(get("vacancy_id"))),
    ]
    keys += [("group", g) for g in groups]
    return keys


def scopes_of(fair_id: int | None, live_session_id: int | None) -> list[str]:
    scopes = ["all"]
    if fair_id:
        scopes.append(f"fair:{fair_id}")
    if live_session_id:
        scopes.append(f"live:{live_session_id}")
    return scopes


_NAMED = re.compile(r"(?<!:):(\w+)")


def raw_one(sql: str, params: dict):
    """Run one statement by plain DB-API on the session's connection, inside its transaction,
    and return the first row: the signing hot path's inserts skip the ORM's per-statement cost."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":  # sqlite3 takes :name, psycopg %(name)s
        sql = _NAMED.sub(r"%(\1)s", sql)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone()
    finally:
        cursor.close()


def _insert_intent(values: dict) -> int | None:
    """Insert unless the attendee already signed this vacancy; the id if inserted.

    One statement that cannot race: the unique constraint decides, not a prior read."""
    row = raw_one(
        "INSERT INTO intents (attendee_id, vacancy_id, employer_id, fair_id, booth_id, "
        "live_session_id, device_id, registered_by_id, source, status, note, created_at, "
        "updated_at) VALUES (:attendee_id, :vacancy_id, :employer_id, :fair_id, :booth_id, "
        ":live_session_id, :device_id, :registered_by_id, :source, 'new', '', :created_at, "
        ":created_at) ON CONFLICT (attendee_id, vacancy_id) DO NOTHING RETURNING id",
        values,
    )
    return row[0] if row else None


def _count_new_fair_attendee(fair_id: int, attendee_id: int) -> bool:
    row = raw_one(
        "INSERT INTO fair_attendees (fair_id, attendee_id) VALUES (:f, :a) "
        "ON CONFLICT DO NOTHING RETURNING fair_id",
        {"f": fair_id, "a": attendee_id},
    )
    return row is not None


def record_intent(
    attendee: Attendee,
    vacancy: Vacancy,
    source: str,
    *,
    fair_id: int | None = None,
    booth_id: int | None = None,
    live_session_id: int | None = None,
    device_id: int | None = None,
    registered_by_id: int | None = None,
    now: datetime | None = None,
) -> Signed:
    """Record that `attendee` wants `vacancy`, within the caller's write transaction.

    Signing again after withdrawing reinstates the intent."""
    now = now or utcnow()
    values = dict(
        attendee_id=attendee.id, vacancy_id=vacancy.id, employer_id=vacancy.employer_id,
        fair_id=fair_id, booth_id=booth_id, live_session_id=live_session_id,
        device_id=device_id, registered_by_id=registered_by_id, source=source, created_at=now,
    )
    intent_id = _insert_intent(values)
    created = intent_id is not None
    if not created:
        existing = db.session.execute(
            select(Intent.id, Intent.withdrawn_at, Intent.fair_id, Intent.live_session_id,
                   Intent.source, Intent.created_at)
            .where(Intent.attendee_id == attendee.id, Intent.vacancy_id == vacancy.id)
        ).one()
        intent_id = existing.id
        if existing.withdrawn_at is None:
            return Signed(intent_id, False)
        db.session.execute(
            update(Intent).where(Intent.id == intent_id).values(withdrawn_at=None, updated_at=now)
        )
        fair_id, live_session_id = existing.fair_id, existing.live_session_id
        values.update(source=existing.source, fair_id=fair_id, live_session_id=live_session_id)
        now = existing.created_at
    groups = attendee.group_codes
    for scope in scopes_of(fair_id, live_session_id):
        tallies.bump(scope, counter_keys(values, groups, now))
    if fair_id and _count_new_fair_attendee(fair_id, attendee.id):
        tallies.bump(f"fair:{fair_id}", [("attendees", "")])
    return Signed(intent_id, True)


def _uncount(intent: Intent, groups: list[str]) -> None:
    for scope in scopes_of(intent.fair_id, intent.live_session_id):
        tallies.bump(scope, counter_keys(intent, groups, intent.created_at), delta=-1)


def withdraw(intent_id: int, attendee_id: int) -> Intent | None:
    """Mark the attendee's intent withdrawn (kept on record); None if it is not theirs."""
    with write_transaction():
        intent = db.session.get(Intent, intent_id)
        if intent is None or intent.attendee_id != attendee_id:
            return None
        if intent.withdrawn_at is None:
            intent.withdrawn_at = utcnow()
            _uncount(intent, intent.attendee.group_codes)
    return intent


def erase_attendee(attendee_id: int) -> list[tuple[int | None, int | None]]:
    """Delete the attendee, their devices and intents; counters drop accordingly.
    Returns the (fair, live session) pairs whose tallies changed, for publishing."""
    touched: set[tuple[int | None, int | None]] = set()
    with write_transaction():
        attendee = db.session.get(Attendee, attendee_id)
        if attendee is None:
            return []
        groups = attendee.group_codes
        for intent in attendee.intents:
            touched.add((intent.fair_id, intent.live_session_id))
            if intent.withdrawn_at is None:
                _uncount(intent, groups)
        fair_ids = db.session.scalars(
            select(FairAttendee.fair_id).where(FairAttendee.attendee_id == attendee_id)
        ).all()
        for fair_id in fair_ids:
            tallies.bump(f"fair:{fair_id}", [("attendees", "")], delta=-1)
        db.session.execute(delete(FairAttendee).where(FairAttendee.attendee_id == attendee_id))
        db.session.execute(delete(Intent).where(Intent.attendee_id == attendee_id))
        db.session.execute(delete(Device).where(Device.attendee_id == attendee_id))
        # Rows are gone already: drop the loaded objects rather than let the ORM delete them again.
        for intent in list(attendee.intents):
            db.session.expunge(intent)
        db.session.expunge(attendee)
        db.session.execute(delete(Attendee).where(Attendee.id == attendee_id))
    return sorted(touched, key=lambda t: (t[0] or 0, t[1] or 0))


@dataclass(frozen=True)
class AttendeeRef:
    """What signing needs of an attendee, without loading the ORM object."""

    id: int
    phone: str
    group_codes: list[str]


_INSERT_ATTENDEE = (
    "INSERT INTO attendees (name, phone, groups, hometown, consent_version, consent_at, "
    "consent_method, created_at) VALUES (:name, :phone, :groups, '', :cv, :now, :cm, :now) "
    "ON CONFLICT (phone) DO NOTHING RETURNING id"
)


def attendee_ref(attendee_id: int) -> AttendeeRef | None:
    from fairsite.booths.cache import fetch_one  # a plain read that holds no connection

    row = fetch_one("SELECT id, phone, groups FROM attendees WHERE id = :id", {"id": attendee_id})
    return AttendeeRef(row[0], row[1], [g for g in row[2].split(",") if g]) if row else None


def find_or_create_attendee_ref(
    name: str, phone: str, groups: list[str], consent_version: str, consent_method: str = "self",
) -> tuple[AttendeeRef, bool]:
    """As find_or_create_attendee, for the signing hot path: a single insert that cannot race,
    and a read only when the number existed already."""
    row = raw_one(
        _INSERT_ATTENDEE,
        {"name": name, "phone": phone, "groups": ",".join(groups), "cv": consent_version,
         "cm": consent_method, "now": utcnow()},
    )
    if row is not None:
        return AttendeeRef(row[0], phone, list(groups)), True
    existing = raw_one("SELECT id, phone, groups FROM attendees WHERE phone = :phone", {"phone": phone})
    return AttendeeRef(existing[0], existing[1], [g for g in existing[2].split(",") if g]), False


def find_or_create_attendee(
    name: str, phone: str, groups: list[str], consent_version: str, consent_method: str = "self",
) -> tuple[Attendee, bool]:
    """Within the caller's write transaction: the attendee with this phone, or a new one.
    An existing attendee's details are not changed by someone typing their number."""
    row = db.session.execute(
        text(
            "INSERT INTO attendees (name, phone, groups, hometown, consent_version, consent_at, "
            "consent_method, created_at) VALUES (:name, :phone, :groups, '', :cv, :now, :cm, :now) "
            "ON CONFLICT (phone) DO NOTHING RETURNING id"
        ),
        {"name": name, "phone": phone, "groups": ",".join(groups), "cv": consent_version,
         "cm": consent_method, "now": utcnow()},
    ).first()
    created = row is not None
    attendee = db.session.scalar(select(Attendee).where(Attendee.phone == phone))
    return attendee, created


def erase_device(device_id: int) -> list[tuple[int | None, int | None]]:
    """Delete the intents signed from a device that does not own the attendee (it signed with a
    number that existed already), and the device. The attendee and their other intents stay.
    Returns the (fair, live session) pairs whose tallies changed, for publishing."""
    touched: set[tuple[int | None, int | None]] = set()
    with write_transaction():
        device = db.session.get(Device, device_id)
        if device is None:
            return []
        attendee = db.session.get(Attendee, device.attendee_id)
        groups = attendee.group_codes
        intents = db.session.scalars(select(Intent).where(Intent.device_id == device_id)).all()
        fair_ids = set()
        for intent in intents:
            touched.add((intent.fair_id, intent.live_session_id))
            if intent.fair_id:
                fair_ids.add(intent.fair_id)
            if intent.withdrawn_at is None:
                _uncount(intent, groups)
        db.session.execute(delete(Intent).where(Intent.device_id == device_id))
        for fair_id in fair_ids:
            left = db.session.scalar(
                select(Intent.id).where(Intent.attendee_id == attendee.id, Intent.fair_id == fair_id)
                .limit(1)
            )
            if left is None:
                gone = db.session.execute(
                    delete(FairAttendee).where(
                        FairAttendee.fair_id == fair_id, FairAttendee.attendee_id == attendee.id
                    )
                ).rowcount
                if gone:
                    tallies.bump(f"fair:{fair_id}", [("attendees", "")], delta=-1)
        db.session.execute(delete(Device).where(Device.id == device_id))
    return sorted(touched, key=lambda t: (t[0] or 0, t[1] or 0))
