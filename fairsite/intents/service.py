"""Intents: the one way to sign (every channel: booth QR, fair page, live session, desk
registration, the demo and the tests), withdrawing and erasing, and the employer's list of
people who signed. Each write touches the intent, the attendee and the counters in one
transaction; the caller publishes events after it commits (fairsite.events)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, delete, func, literal, or_, select, update

from fairsite import clock
from fairsite.booths.models import Booth
from fairsite.checkins.models import CheckIn
from fairsite.clock import local_hour, utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.followups.models import FollowUp
from fairsite.forms import clean_text
from fairsite.intents.models import (
    KEY_GROUPS,
    STATUSES,
    Attendee,
    Device,
    Intent,
    SignKey,
    new_device_token,
)
from fairsite.live.models import LiveSession
from fairsite.numbers import parse_id
from fairsite.sql import fetch_one, write_transaction
from fairsite.tallies import service as tallies
from fairsite.tallies.models import FairAttendee
from fairsite.vacancies.models import Vacancy


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


def _insert_intent(values: dict) -> int | None:
    """Insert unless the attendee already signed this vacancy; the id if inserted.

    One statement that cannot race: the unique constraint decides, not a prior read."""
    row = fetch_one(
        "INSERT INTO intents (attendee_id, vacancy_id, employer_id, fair_id, booth_id, "
        "live_session_id, device_id, registered_by_id, source, status, note, created_at, "
        "updated_at) VALUES (:attendee_id, :vacancy_id, :employer_id, :fair_id, :booth_id, "
        ":live_session_id, :device_id, :registered_by_id, :source, 'new', '', :created_at, "
        ":created_at) ON CONFLICT (attendee_id, vacancy_id) DO NOTHING RETURNING id",
        values,
    )
    return row[0] if row else None


def _count_new_fair_attendee(fair_id: int, attendee_id: int) -> bool:
    row = fetch_one(
        "INSERT INTO fair_attendees (fair_id, attendee_id) VALUES (:f, :a) "
        "ON CONFLICT DO NOTHING RETURNING fair_id",
        {"f": fair_id, "a": attendee_id},
    )
    return row is not None


def record_intent(
    attendee: AttendeeRef | Attendee,
    vacancy: Vacancy | VacancyRef,
    source: str,
    *,
    fair_id: int | None = None,
    booth_id: int | None = None,
    live_session_id: int | None = None,
    device_id: int | None = None,
    registered_by_id: int | None = None,
    now: datetime | None = None,
) -> Signed:
    """Record that `attendee` wants `vacancy`, within the caller's write transaction: the one
    function every channel signs through. `vacancy` needs only its id and employer_id.

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
    # Signing at the fair in person counts the person in its 进场人数 (a live viewer is not there).
    if fair_id and values["source"] != "live":
        tallies.count_entry(fair_id, attendee.id, signed=True)
    return Signed(intent_id, True)


def _recount_entries(attendee_id: int, fair_ids: set[int]) -> None:
    """Drop the person from the 进场人数 of those fairs where nothing shows they came."""
    gone = [
        fair_id for fair_id in fair_ids
        if db.session.scalar(select(CheckIn.fair_id).where(
            CheckIn.fair_id == fair_id, CheckIn.attendee_id == attendee_id)) is None
        and db.session.scalar(select(Intent.id).where(
            Intent.attendee_id == attendee_id, Intent.fair_id == fair_id, Intent.source != "live",
        ).limit(1)) is None
    ]
    if gone:
        tallies.drop_entries(attendee_id, gone)


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
        touched.update((fair_id, None) for fair_id in tallies.drop_entries(attendee_id))
        db.session.execute(delete(CheckIn).where(CheckIn.attendee_id == attendee_id))
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
    name: str
    phone: str
    group_codes: list[str]


@dataclass(frozen=True)
class VacancyRef:
    """What signing needs of a vacancy."""

    id: int
    employer_id: int


def _ref(row) -> AttendeeRef:
    return AttendeeRef(row[0], row[1], row[2], [g for g in row[3].split(",") if g])


def attendee_ref(attendee_id: int) -> AttendeeRef | None:
    row = fetch_one("SELECT id, name, phone, groups FROM attendees WHERE id = :id", {"id": attendee_id})
    return _ref(row) if row else None


def find_or_create_attendee(
    name: str, phone: str, groups: list[str], consent_version: str, consent_method: str = "self",
    *, now: datetime | None = None,
) -> tuple[AttendeeRef, bool]:
    """Within the caller's write transaction: the attendee with this phone, or a new one, and
    whether it is new. A single insert that cannot race, and a read only when the number
    existed already. An existing attendee's details are not changed by someone typing their
    number."""
    row = fetch_one(
        "INSERT INTO attendees (name, phone, groups, hometown, consent_version, consent_at, "
        "consent_method, created_at) VALUES (:name, :phone, :groups, '', :cv, :now, :cm, :now) "
        "ON CONFLICT (phone) DO NOTHING RETURNING id",
        {"name": name, "phone": phone, "groups": ",".join(groups), "cv": consent_version,
         "cm": consent_method, "now": now or utcnow()},
    )
    if row is not None:
        return AttendeeRef(row[0], name, phone, list(groups)), True
    existing = fetch_one("SELECT id, name, phone, groups FROM attendees WHERE phone = :phone",
                         {"phone": phone})
    return _ref(existing), False


def add_device(attendee_id: int, full_access: bool) -> tuple[int, str]:
    """Within the caller's write transaction: a new device for the attendee, (id, token). A
    device that created the attendee sees everything of theirs (full_access); one that typed a
    number that existed already sees only what is signed from it."""
    device_id, token = fetch_one(
        "INSERT INTO devices (token, attendee_id, full_access, created_at) "
        "VALUES (:t, :a, :f, :now) RETURNING id, token",
        {"t": new_device_token(), "a": attendee_id, "f": full_access, "now": utcnow()},
    )
    return device_id, token


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
        # Check-ins made from the device go with it; the person stays counted at a fair only
        # while a check-in or an intent in person there remains.
        checked_at = set(db.session.scalars(
            delete(CheckIn).where(CheckIn.device_id == device_id).returning(CheckIn.fair_id)
        ))
        touched.update((fair_id, None) for fair_id in checked_at)
        _recount_entries(attendee.id, fair_ids | checked_at)
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


# --- signing limits counted in the database ------------------------------------------------

def lock_attendee(attendee_id: int) -> None:
    """Within a write transaction: hold other signings of this attendee until it ends, so that
    a count of their recent intents stays true until this one is inserted. On SQLite the
    transaction's BEGIN IMMEDIATE already holds every other writer."""
    if db.engine.dialect.name == "postgresql":
        fetch_one("SELECT id FROM attendees WHERE id = :a FOR UPDATE", {"a": attendee_id})


def has_active_intent(attendee_id: int, vacancy_id: int) -> bool:
    return fetch_one(
        "SELECT id FROM intents WHERE attendee_id = :a AND vacancy_id = :v AND withdrawn_at IS NULL",
        {"a": attendee_id, "v": vacancy_id},
    ) is not None


@dataclass(frozen=True)
class RecentLimits:
    """Per-phone and per-device limits counted from the intents themselves (indexed by
    attendee or device and time): they hold across restarts, and inside the signing's write
    transaction (after lock_attendee) no two signings can both pass the last free place.
    Each is (how many, per how many seconds), or None for no such limit."""

    phone: tuple[int, int] | None = None
    device: tuple[int, int] | None = None

    def exceeded(self, attendee_id: int, device_id: int | None, now: datetime | None = None) -> bool:
        now = now or utcnow()
        # Desk registrations are the organiser's doing, not the phone's.
        if self.phone and fetch_one(
            "SELECT count(*) FROM intents WHERE attendee_id = :a AND created_at >= :since "
            "AND source <> 'desk'",
            {"a": attendee_id, "since": now - timedelta(seconds=self.phone[1])},
        )[0] >= self.phone[0]:
            return True
        return bool(device_id and self.device and fetch_one(
            "SELECT count(*) FROM intents WHERE device_id = :d AND created_at >= :since",
            {"d": device_id, "since": now - timedelta(seconds=self.device[1])},
        )[0] >= self.device[0])


# --- retention: erasing personal data once it is no longer needed --------------------------

PURGE_BATCH = 500


def purged_phone(attendee_id: int) -> str:
    """What an erased attendee's phone column holds: unique, as the column must be, and no
    number anyone can type (normalised numbers are all digits)."""
    return f"x{attendee_id:010d}"


def expired_attendees(cutoff: datetime, limit: int = PURGE_BATCH) -> list[int]:
    """Attendees (not yet purged) with nothing since `cutoff`: no intent signed or withdrawn,
    and no fair they signed at held, on or after it."""
    recent = select(Intent.id).where(
        Intent.attendee_id == Attendee.id,
        (Intent.created_at >= cutoff) | (Intent.withdrawn_at >= cutoff),
    )
    recent_fair = select(Intent.id).join(Fair, Fair.id == Intent.fair_id).where(
        Intent.attendee_id == Attendee.id, Fair.date >= cutoff.date(),
    )
    return list(db.session.scalars(
        select(Attendee.id).where(
            Attendee.purged_at.is_(None), Attendee.created_at < cutoff,
            ~recent.exists(), ~recent_fair.exists(),
        ).order_by(Attendee.id).limit(limit)
    ))


def purge_attendees(ids: list[int], now: datetime | None = None) -> int:
    """Within the caller's write transaction: erase the attendees' personal data and keep
    what the reports count. Name, number and hometown are blanked, their devices (the cookies'
    tokens) deleted, the employers' notes about them emptied; the attendee row (its id, key
    groups and consent record) and the intents (vacancy, fair, source, time, status) stay,
    anonymous, so every total and breakdown still adds up and the tallies need no change."""
    if not ids:
        return 0
    now = now or utcnow()
    db.session.execute(delete(Device).where(Device.attendee_id.in_(ids)))
    db.session.execute(update(Intent).where(Intent.attendee_id.in_(ids)).values(note="", device_id=None))
    # The bureau's follow-up notes are free text about the person too: the rows (who called,
    # when) stay, their words go.
    db.session.execute(update(FollowUp).where(FollowUp.attendee_id.in_(ids)).values(outcome=""))
    # One UPDATE by primary key, many parameter sets.
    db.session.execute(update(Attendee), [
        {"id": i, "name": "", "phone": purged_phone(i), "hometown": "", "purged_at": now} for i in ids
    ])
    return len(ids)


def drop_sign_keys(cutoff: datetime, limit: int = PURGE_BATCH) -> int:
    """Within the caller's write transaction: forget up to `limit` idempotency keys made
    before `cutoff` (oldest first, by the created_at index); how many."""
    old = select(SignKey.key).where(SignKey.created_at < cutoff).order_by(SignKey.created_at).limit(limit)
    return db.session.execute(delete(SignKey).where(SignKey.key.in_(old))).rowcount


# --- follow-up: statuses and who has waited too long -----------------------------------------

def set_status(intent: Intent, status: str, note: str | None = None, now: datetime | None = None) -> None:
    """Within the caller's write transaction: move the intent to `status` (a STATUSES code),
    and keep when it was first moved past 待联系 (contacted_at: how long the person waited)."""
    now = now or clock.utcnow()
    intent.status = status
    if note is not None:
        intent.note = note
    if status != "new" and intent.contacted_at is None:
        intent.contacted_at = now
    intent.updated_at = now


def follow_up_hours() -> float:
    return float(current_app.config.get("FOLLOW_UP_HOURS", 48))


def follow_up_cutoff(now: datetime | None = None) -> datetime:
    """Intents signed before this and still 待联系 have waited more than FOLLOW_UP_HOURS."""
    return (now or clock.utcnow()) - timedelta(hours=follow_up_hours())


def waiting_people(employer_id: int, now: datetime | None = None) -> int:
    """How many people have an intent with the employer still 待联系 after FOLLOW_UP_HOURS
    (read from the employer/status/created index)."""
    return db.session.scalar(
        select(func.count(func.distinct(Intent.attendee_id))).where(
            Intent.employer_id == employer_id, Intent.status == "new",
            Intent.created_at < follow_up_cutoff(now), Intent.withdrawn_at.is_(None),
        )
    ) or 0


# --- the employer's list of people who signed ----------------------------------------------

PAGE_SIZE = 100
# A count stops here ("1,000+"): counting 200,000 rows on every refresh is what made the list
# slow at a big employer's size.
COUNT_LIMIT = 1000
# One filter is served by its index; the others (and the key group, which is the attendee's)
# are checked on a walk of at most this many rows of that index: a page that stops there links
# on from where the walk stopped, a count says "N+".
WALK = 2000
WITHDRAWN = "withdrawn"
# Still 待联系 after FOLLOW_UP_HOURS: the dashboard's "waited too long" links here.
OVERDUE = "overdue"


@dataclass
class IntentFilter:
    fair: int | None = None
    vacancy: int | None = None
    status: str = ""
    group: str = ""

    @classmethod
    def from_args(cls, args) -> IntentFilter:
        status = clean_text(args.get("status") or "", 20)
        group = clean_text(args.get("group") or "", 20)
        return cls(
            fair=parse_id(args.get("fair")),
            vacancy=parse_id(args.get("vacancy")),
            status=status if status in STATUSES or status in (WITHDRAWN, OVERDUE) else "",
            group=group if group in KEY_GROUPS else "",
        )

    def apply(self, query: Select, groups=None) -> Select:
        """The filters as conditions on `query`, which selects from intents (joined with
        attendees when filtering by key group; `groups`: the column to check instead)."""
        if self.fair:
            query = query.where(Intent.fair_id == self.fair)
        if self.vacancy:
            query = query.where(Intent.vacancy_id == self.vacancy)
        if self.status == WITHDRAWN:
            # Served by the partial index of withdrawn intents (the literal IS NOT NULL).
            query = query.where(Intent.withdrawn_at.is_not(None))
        elif self.status == OVERDUE:
            query = query.where(Intent.status == "new", Intent.withdrawn_at.is_(None),
                                Intent.created_at < follow_up_cutoff())
        elif self.status:
            query = query.where(Intent.status == self.status, Intent.withdrawn_at.is_(None))
        if self.group:
            # groups is a comma-separated list of codes; none is part of another.
            query = query.where(
                (literal(",") + (groups if groups is not None else Attendee.groups) + literal(",")).like(f"%,{self.group},%")
            )
        return query

    def split(self) -> tuple[IntentFilter, IntentFilter]:
        """(lead, rest): the one filter whose index the list walks (the narrowest: vacancy,
        then status, then fair), and the others, checked on a bounded walk (the key group
        always among them: no index of intents has it)."""
        for name in ("vacancy", "status", "fair"):
            if getattr(self, name):
                return (IntentFilter(**{name: getattr(self, name)}),
                        replace(self, **{name: IntentFilter.__dataclass_fields__[name].default}))
        return IntentFilter(), self

    @property
    def is_empty(self) -> bool:
        return not (self.fair or self.vacancy or self.status or self.group)

    def args(self) -> dict:
        out = {"fair": self.fair, "vacancy": self.vacancy, "status": self.status, "group": self.group}
        return {k: v for k, v in out.items() if v not in ("", None)}


def row_query(employer_id: int) -> Select:
    return (
        select(
            Intent.id, Intent.status, Intent.note, Intent.source, Intent.created_at,
            Intent.withdrawn_at, Intent.fair_id, Intent.vacancy_id, Intent.contacted_at,
            Attendee.name, Attendee.phone, Attendee.groups, Attendee.hometown, Attendee.purged_at,
            Vacancy.title.label("vacancy_title"),
            Fair.title.label("fair_title"),
            Booth.number.label("booth_number"),
            LiveSession.title.label("live_title"),
        )
        .join(Attendee, Attendee.id == Intent.attendee_id)
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .outerjoin(Fair, Fair.id == Intent.fair_id)
        .outerjoin(Booth, Booth.id == Intent.booth_id)
        .outerjoin(LiveSession, LiveSession.id == Intent.live_session_id)
        .where(Intent.employer_id == employer_id)
    )


_NEWEST_FIRST = (Intent.created_at.desc(), Intent.id.desc())


def _older_than(employer_id: int, after: int):
    """Rows after the intent `after` in the list's order (newest first, ties by id): its
    created_at and id are read in the statement itself, so the comparison is between stored
    values, and the index walk starts right there. No rows when `after` is not the employer's."""
    cursor = Intent.__table__.alias("cursor")  # a Core alias: an ORM one costs a millisecond to make
    at = select(cursor.c.created_at).where(cursor.c.id == after, cursor.c.employer_id == employer_id).scalar_subquery()
    # created_at <= at is the index range; the rest breaks ties.
    return and_(Intent.created_at <= at, or_(Intent.created_at < at, Intent.id < after))


def newer_than(employer_id: int, before: int):
    """Rows after the intent `before` in the export's order (oldest first, ties by id), as
    _older_than reads its key."""
    cursor = Intent.__table__.alias("cursor")
    at = select(cursor.c.created_at).where(cursor.c.id == before, cursor.c.employer_id == employer_id).scalar_subquery()
    return and_(Intent.created_at >= at, or_(Intent.created_at > at, Intent.id > before))


def _walked(walk: Select):
    """The walk, WALK rows at most, with each row's key groups read on the way: the check
    outside cannot be planned before the walk (PostgreSQL would otherwise scan attendees)."""
    return (walk.add_columns(Attendee.groups).join(Attendee, Attendee.id == Intent.attendee_id)
            .limit(WALK).subquery())


@dataclass(frozen=True)
class IntentPage:
    rows: list  # the page's rows (row_query's columns), newest first
    after: int | None  # the intent the next page starts after; None: there is no next page
    count: int | None  # how many match, at most COUNT_LIMIT (None: not counted)
    more: bool  # there are more than `count` (or, with a key group, may be)

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


def intent_rows(employer_id: int, filt: IntentFilter, *, after: int | None = None,
                limit: int | None = None, with_count: bool = True) -> IntentPage:
    """One page of the employer's intents, newest first, after the intent `after` (None: from
    the newest), and how many match, counted up to COUNT_LIMIT. The same cost whatever the
    employer's size: one index range walk in the list's order (by employer and created_at, or
    by the lead filter's index: vacancy, status, withdrawn, fair) that stops after a page; the
    other filters are checked on a walk of at most WALK rows, and a page that ends there links
    on from where the walk stopped."""
    limit = limit or PAGE_SIZE
    lead, rest = filt.split()
    older = _older_than(employer_id, after) if after is not None else None
    next_after = None
    if rest.is_empty:
        query = lead.apply(row_query(employer_id))
        if older is not None:
            query = query.where(older)
    else:
        walk = lead.apply(select(Intent.id).where(Intent.employer_id == employer_id))
        if older is not None:
            walk = walk.where(older)
        walk = walk.order_by(*_NEWEST_FIRST)
        walked = _walked(walk)
        query = rest.apply(row_query(employer_id).join(walked, walked.c.id == Intent.id), walked.c.groups)
    rows = db.session.execute(query.order_by(*_NEWEST_FIRST).limit(limit + 1)).all()
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = rows[-1].id
    elif not rest.is_empty:
        # Less than a page on the walk: if it went its whole length, the next page starts
        # where it stopped.
        next_after = db.session.scalar(walk.offset(WALK - 1).limit(1))
    count, more = count_rows(employer_id, filt, limit=COUNT_LIMIT) if with_count else (None, False)
    return IntentPage(rows, next_after, count, more)


def count_rows(employer_id: int, filt: IntentFilter, *, limit: int | None = None) -> tuple[int, bool]:
    """How many rows match, and whether there are more: counted up to `limit` (None: all, as
    an export's record needs). With a limit, filters beyond the lead one are checked on the
    newest WALK rows of its walk (more: the walk went its whole length). Joins the attendee
    only for the key group (attendee and vacancy always exist: the joins cannot change it)."""
    lead, rest = filt.split()
    if limit is None:
        query = filt.apply(select(Intent.id).where(Intent.employer_id == employer_id))
        if filt.group:
            query = query.join(Attendee, Attendee.id == Intent.attendee_id)
        return db.session.scalar(select(func.count()).select_from(query.subquery())), False
    walk = lead.apply(select(Intent.id).where(Intent.employer_id == employer_id))
    if rest.is_empty:
        n = db.session.scalar(select(func.count()).select_from(walk.limit(limit + 1).subquery()))
        return min(n, limit), n > limit
    walked = _walked(walk.order_by(*_NEWEST_FIRST))
    checked = select(Intent.id).join(walked, walked.c.id == Intent.id)
    walked_n, n = db.session.execute(select(
        select(func.count()).select_from(walked).scalar_subquery(),
        select(func.count()).select_from(rest.apply(checked, walked.c.groups).subquery()).scalar_subquery(),
    )).one()
    return min(n, limit), n > limit or walked_n >= WALK
