"""The bureau's follow-up to hire: one file per person (一人一档), the call list of people in key
groups nobody has called or everybody turned down, its real-name register (实名制台账), and
the ranking of employers who have not called the people who signed for them.

Every list starts from an index: the call list from intents by (status, created_at), a person's
file from intents by (attendee_id, created_at), the search from attendees by phone (unique) or
by name (a prefix on the name index); nothing scans a table per row."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, case, func, literal, or_, select

from fairsite import clock
from fairsite.accounts.models import User
from fairsite.booths.models import Booth
from fairsite.checkins.models import CheckIn
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.followups.models import OUTCOME_MAX, FollowUp
from fairsite.forms import clean_line, clean_text
from fairsite.intents.models import KEY_GROUPS, TURNED_DOWN_STATUSES, Attendee, Intent
from fairsite.intents.service import follow_up_cutoff
from fairsite.live.models import LiveSession
from fairsite.phones import normalise_phone
from fairsite.vacancies.models import Vacancy

SEARCH_LIMIT = 50
QUEUE_PAGE = 50
EXPORT_BATCH = 500
RANKING_LIMIT = 200
NAME_MAX = 40


# ---- search ---------------------------------------------------------------------------------

@dataclass
class Search:
    q: str = ""
    kind: str = ""  # "phone", "name", or "" when nothing usable was typed
    error: str = ""
    rows: list = None  # type: ignore[assignment]

    def detail(self) -> str:
        """What the audit log keeps of the search: never a whole number."""
        if self.kind == "phone":
            return f"phone=****{self.q[-4:]} results={len(self.rows)}"
        return f"name={self.q} results={len(self.rows or [])}"


def _name_prefix(name: str):
    """A prefix match that the name index serves on both backends: GLOB is case-sensitive
    and uses SQLite's binary index; LIKE uses PostgreSQL's text_pattern_ops index."""
    if db.engine.dialect.name == "sqlite":
        # GLOB's wildcards cannot be escaped, but a name holds none of them (search_people
        # refuses them), so the pattern is the name and one star.
        return Attendee.name.op("GLOB")(name + "*")
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Attendee.name.like(escaped + "%", escape="\\")


def search_people(raw: str | None, *, message) -> Search:
    """People whose phone is what was typed (any way a mobile number is written), or whose
    name starts with it. `message(text)` translates the error texts (the view's gettext)."""
    q = clean_line(clean_text(raw or "", 60)) or ""
    if not q:
        return Search(rows=[])
    phone = normalise_phone(q)
    query = select(Attendee.id, Attendee.name, Attendee.phone, Attendee.groups, Attendee.hometown,
                   Attendee.created_at).where(Attendee.purged_at.is_(None))
    if phone:
        rows = db.session.execute(query.where(Attendee.phone == phone)).all()
        return Search(q=phone, kind="phone", rows=rows)
    digits = sum(c.isdigit() for c in q)
    if digits >= 3:
        return Search(q=q, error=message("手机号不完整：请输入完整的 11 位手机号，或输入姓名。"), rows=[])
    if len(q) > NAME_MAX or any(c in q for c in "*?[]%_\\"):
        return Search(q=q[:NAME_MAX], error=message("请输入姓名（最多 40 个字）或完整的 11 位手机号。"), rows=[])
    rows = db.session.execute(
        query.where(_name_prefix(q)).order_by(Attendee.name, Attendee.id).limit(SEARCH_LIMIT)
    ).all()
    return Search(q=q, kind="name", rows=rows)


def intent_counts(attendee_ids: list[int]) -> dict[int, int]:
    if not attendee_ids:
        return {}
    return dict(db.session.execute(
        select(Intent.attendee_id, func.count()).where(Intent.attendee_id.in_(attendee_ids))
        .group_by(Intent.attendee_id)
    ).all())


# ---- one file per person --------------------------------------------------------------------

def _intent_query():
    return (
        select(
            Intent.id, Intent.attendee_id, Intent.status, Intent.note, Intent.source,
            Intent.created_at, Intent.contacted_at, Intent.withdrawn_at,
            Vacancy.title.label("vacancy_title"), Employer.name.label("employer_name"),
            Fair.title.label("fair_title"), Fair.date.label("fair_date"),
            LiveSession.title.label("live_title"), Booth.number.label("booth_number"),
        )
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .join(Employer, Employer.id == Intent.employer_id)
        .outerjoin(Fair, Fair.id == Intent.fair_id)
        .outerjoin(LiveSession, LiveSession.id == Intent.live_session_id)
        .outerjoin(Booth, Booth.id == Intent.booth_id)
    )


def intents_of(attendee_ids: list[int]) -> dict[int, list]:
    """Every intent of these people (withdrawn ones too), newest first, by person."""
    out: dict[int, list] = {i: [] for i in attendee_ids}
    if attendee_ids:
        for row in db.session.execute(
            _intent_query().where(Intent.attendee_id.in_(attendee_ids))
            .order_by(Intent.created_at.desc(), Intent.id.desc())
        ):
            out[row.attendee_id].append(row)
    return out


def checkins_of(attendee_id: int) -> list:
    """The fairs the person checked in at (fairsite.checkins), newest first."""
    return db.session.execute(
        select(CheckIn.created_at, CheckIn.method, Fair.title, Fair.date)
        .join(Fair, Fair.id == CheckIn.fair_id)
        .where(CheckIn.attendee_id == attendee_id)
        .order_by(CheckIn.created_at.desc())
    ).all()


def followups_of(attendee_ids: list[int]) -> dict[int, list]:
    """The bureau's notes about these people, newest first, with who wrote them."""
    out: dict[int, list] = {i: [] for i in attendee_ids}
    if attendee_ids:
        for row in db.session.execute(
            select(FollowUp.id, FollowUp.attendee_id, FollowUp.outcome, FollowUp.created_at,
                   User.name.label("user_name"))
            .outerjoin(User, User.id == FollowUp.user_id)
            .where(FollowUp.attendee_id.in_(attendee_ids))
            .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
        ):
            out[row.attendee_id].append(row)
    return out


def add_followup(attendee_id: int, outcome: str, user_id: int | None,
                 now: datetime | None = None) -> FollowUp:
    """Within the caller's write transaction: the bureau's note of a call or visit."""
    note = FollowUp(attendee_id=attendee_id, user_id=user_id, outcome=outcome[:OUTCOME_MAX],
                    created_at=now or clock.utcnow())
    db.session.add(note)
    db.session.flush()
    return note


# ---- the call list --------------------------------------------------------------------------

def call_list_groups() -> list[str]:
    """CALL_LIST_GROUPS, the codes KEY_GROUPS knows, each once, in the order configured."""
    configured = current_app.config.get("CALL_LIST_GROUPS") or ()
    if isinstance(configured, str):
        configured = configured.split(",")
    out: list[str] = []
    for code in configured:
        code = str(code).strip()
        if code in KEY_GROUPS and code not in out:
            out.append(code)
    return out


def _in_groups(codes: list[str]):
    if not codes:
        return literal(False)
    padded = literal(",") + Attendee.groups + literal(",")
    return or_(*(padded.like(f"%,{code},%") for code in codes))


def _queue_query(now: datetime | None, *, register: bool = False):
    """People on the call list, one row each with their counts, or (register) also those
    the bureau has called already, and anyone it holds a note about.

    On the list: in a CALL_LIST_GROUPS group, not erased, with intents that are not withdrawn
    and either all still 待联系, the newest signed more than FOLLOW_UP_HOURS ago, or all turned
    down (不合适 / 未到岗). A note recorded after the last change to their intents takes them off
    until one of their intents changes again (a new one, a status, a withdrawal)."""
    cutoff = follow_up_cutoff(now)
    active = Intent.withdrawn_at.is_(None)
    n_active = func.coalesce(func.sum(case((active, 1), else_=0)), 0)
    n_new = func.coalesce(func.sum(case((and_(active, Intent.status == "new"), 1), else_=0)), 0)
    n_down = func.coalesce(
        func.sum(case((and_(active, Intent.status.in_(TURNED_DOWN_STATUSES)), 1), else_=0)), 0)
    newest = func.max(case((active, Intent.created_at)))
    first = func.min(case((active, Intent.created_at)))
    changed = func.max(Intent.updated_at)
    last_note = (select(func.max(FollowUp.created_at)).where(FollowUp.attendee_id == Attendee.id)
                 .correlate(Attendee).scalar_subquery())
    # Only people with an intent that can put them on the list are looked at (the status index).
    candidates = select(Intent.attendee_id).where(
        active, or_(and_(Intent.status == "new", Intent.created_at < cutoff),
                    Intent.status.in_(TURNED_DOWN_STATUSES)))
    in_groups = _in_groups(call_list_groups())
    qualifies = and_(n_active > 0, or_(and_(n_new == n_active, newest < cutoff), n_down == n_active))
    query = (
        select(Attendee.id, Attendee.name, Attendee.phone, Attendee.groups, Attendee.hometown,
               n_active.label("n_active"), n_new.label("n_new"), n_down.label("n_down"),
               first.label("first_at"), changed.label("changed_at"), last_note.label("last_note_at"))
        .outerjoin(Intent, Intent.attendee_id == Attendee.id)
        .where(Attendee.purged_at.is_(None))
        .group_by(Attendee.id, Attendee.name, Attendee.phone, Attendee.groups, Attendee.hometown)
    )
    if register:
        noted = select(FollowUp.attendee_id)
        return (query.where(or_(Attendee.id.in_(candidates), Attendee.id.in_(noted)))
                .having(or_(and_(in_groups, qualifies), last_note.is_not(None))))
    return (query.where(Attendee.id.in_(candidates), in_groups)
            .having(qualifies, or_(last_note.is_(None), last_note < changed)))


def reason(row) -> str:
    """Why the person is on the list: "waiting" (nobody called) or "turned_down"."""
    if row.n_active and row.n_new == row.n_active:
        return "waiting"
    if row.n_active and row.n_down == row.n_active:
        return "turned_down"
    return ""


def call_list_total(now: datetime | None = None) -> int:
    return db.session.scalar(select(func.count()).select_from(_queue_query(now).subquery())) or 0


def call_list(page: int = 1, now: datetime | None = None) -> tuple[list, int]:
    """One page of the call list, those waiting longest first, and how many are on it."""
    query = _queue_query(now)
    total = call_list_total(now)
    rows = db.session.execute(
        query.order_by(func.min(case((Intent.withdrawn_at.is_(None), Intent.created_at))), Attendee.id)
        .limit(QUEUE_PAGE).offset((page - 1) * QUEUE_PAGE)
    ).all()
    return rows, total


def call_list_rows(attendee_ids: list[int], now: datetime | None = None) -> list:
    """The call-list rows of these people (those of them on the list)."""
    if not attendee_ids:
        return []
    return db.session.execute(_queue_query(now).where(Attendee.id.in_(attendee_ids))).all()


def on_call_list(attendee_id: int, now: datetime | None = None) -> bool:
    return bool(call_list_rows([attendee_id], now))


def register_batches(scope: str, now: datetime | None = None) -> Iterator[list]:
    """The register's people (scope "queue": the call list; "all": also those called back),
    by id, EXPORT_BATCH at a time (keyset), each batch with its intents and notes:
    [(person row, [intents], [notes])]."""
    query = _queue_query(now, register=scope == "all").order_by(Attendee.id).limit(EXPORT_BATCH)
    last = 0
    while True:
        people = db.session.execute(query.where(Attendee.id > last)).all()
        if not people:
            return
        ids = [p.id for p in people]
        intents, notes = intents_of(ids), followups_of(ids)
        db.session.commit()  # no transaction stays open while the batch is written out
        yield [(p, intents[p.id], notes[p.id]) for p in people]
        last = ids[-1]
        if len(people) < EXPORT_BATCH:
            return


# ---- employers who have not called ----------------------------------------------------------

def slow_employers(now: datetime | None = None, limit: int = RANKING_LIMIT) -> list:
    """Employers with people still 待联系, most people waiting past FOLLOW_UP_HOURS first,
    then the longest wait: (employer, contact, people overdue, people waiting, oldest)."""
    cutoff = follow_up_cutoff(now)
    overdue = func.count(func.distinct(case((Intent.created_at < cutoff, Intent.attendee_id))))
    waiting = (
        select(Intent.employer_id.label("employer_id"), overdue.label("overdue"),
               func.count(func.distinct(Intent.attendee_id)).label("waiting"),
               func.min(Intent.created_at).label("oldest"))
        .where(Intent.status == "new", Intent.withdrawn_at.is_(None))
        .group_by(Intent.employer_id)
        .subquery()
    )
    return db.session.execute(
        select(Employer.id, Employer.name, Employer.contact_name, Employer.contact_phone,
               waiting.c.overdue, waiting.c.waiting, waiting.c.oldest)
        .join(waiting, waiting.c.employer_id == Employer.id)
        .order_by(waiting.c.overdue.desc(), waiting.c.oldest, Employer.id)
        .limit(limit)
    ).all()


def hours_since(when: datetime | None, now: datetime | None = None) -> int:
    """Whole hours from `when` to now (0 for None)."""
    if when is None:
        return 0
    return max(0, int(((now or clock.utcnow()) - when).total_seconds() // 3600))
