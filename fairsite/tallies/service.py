"""Keeping and reading the counters. Bumps belong to the caller's transaction, so a counter
never disagrees with the rows it counts.

A bump is gathered in the session and written when its transaction commits: all the bumps of
one transaction, summed per counter row, in one multi-row upsert just before the COMMIT (a
rollback drops them with the rows). A signing moves some seventeen counters, most of them rows
every signing shares (the fair's total, its hour, the booth's vacancy): so a signing costs one
counter statement instead of seventeen, and a group commit of a hundred signings (SQLite,
fairsite.group_commit) writes each shared counter once for all of them. On PostgreSQL the rows
are upserted in one fixed order (sorted), last in the transaction: the counter row locks are
held only until the commit right after, and two signings never take them in opposite orders.

read() and version() see the transaction's own bumps (they write them first); other reads of
the table see them once committed."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from flask import Flask
from sqlalchemy import delete, event, select, text
from sqlalchemy.orm import Session

from fairsite.extensions import db
from fairsite.sql import fetch_one
from fairsite.tallies.models import FairEntry, Tally

# Where a session keeps its transaction's bumps: {(scope, dim, key): delta}.
_PENDING = "fairsite.tallies.pending"
# Rows per upsert statement: 4 parameters each, under SQLite's oldest limit of 999.
_ROWS_PER_STATEMENT = 200


@lru_cache(maxsize=_ROWS_PER_STATEMENT)
def _upsert(rows: int):
    """The upsert of `rows` counters. Plain SQL: the same statement runs on SQLite (3.24+) and
    PostgreSQL (which needs each row once per statement: the bumps are summed first)."""
    values = ", ".join(f"(:s{i}, :d{i}, :k{i}, :n{i})" for i in range(rows))
    return text(f"INSERT INTO tallies (scope, dim, key, n) VALUES {values} "
                "ON CONFLICT (scope, dim, key) DO UPDATE SET n = tallies.n + excluded.n")


def bump(scope: str, counts: Iterable[tuple[str, str]], delta: int = 1) -> None:
    """Add `delta` to each (dim, key) counter of `scope`, and move its version on, when the
    caller's transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.connection()  # the bumps belong to a transaction, and end with it
    pending = session.info.setdefault(_PENDING, {})
    for counter in [(scope, d, k) for d, k in counts] + [(scope, "version", "")]:
        pending[counter] = pending.get(counter, 0) + (1 if counter[1] == "version" else delta)


def _write(session: Session) -> None:
    """Write the session's gathered bumps, in (scope, dim, key) order, and forget them."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    rows = sorted(item for item in pending.items() if item[1])
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start:start + _ROWS_PER_STATEMENT]
        params = {}
        for i, ((scope, dim, key), n) in enumerate(chunk):
            params.update({f"s{i}": scope, f"d{i}": dim, f"k{i}": key, f"n{i}": n})
        session.execute(_upsert(len(chunk)), params)


def _forget(session: Session, transaction) -> None:
    # Only the outermost transaction's end: a savepoint's does not take the bumps with it.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def init_app(_app: Flask) -> None:
    """Write the bumps at each commit of the application's session, drop them at its rollback."""
    if not event.contains(db.session, "before_commit", _write):
        event.listen(db.session, "before_commit", _write)
        event.listen(db.session, "after_transaction_end", _forget)


def touch(scope: str) -> None:
    """Move a scope's version on without counting anything: what its board shows besides
    the counters (booths approved, fair details) changed, so cached boards and ETags expire."""
    bump(scope, [])


def read(scope: str) -> dict[str, dict[str, int]]:
    """All counters of a scope as {dim: {key: n}}."""
    _write(db.session())
    out: dict[str, dict[str, int]] = {}
    for dim, key, n in db.session.execute(
        select(Tally.dim, Tally.key, Tally.n).where(Tally.scope == scope)
    ):
        out.setdefault(dim, {})[key] = n
    return out


def version(scope: str) -> int:
    _write(db.session())
    return db.session.scalar(
        select(Tally.n).where(Tally.scope == scope, Tally.dim == "version", Tally.key == "")
    ) or 0


def count_entry(fair_id: int, attendee_id: int, signed: bool = False) -> bool:
    """Within the caller's write transaction: count the person in the fair's 进场人数 unless
    they are counted already (checked in, or signed there before), and, when they `signed` in
    person, among those who came and signed. Whether they were new. Single statements the
    primary key decides: two at once cannot both count."""
    params = {"f": fair_id, "a": attendee_id, "s": signed}
    row = fetch_one(
        "INSERT INTO fair_entries (fair_id, attendee_id, signed) VALUES (:f, :a, :s) "
        "ON CONFLICT DO NOTHING RETURNING fair_id", params,
    )
    scope = f"fair:{fair_id}"
    if row is not None:
        bump(scope, [("entered", "")] + ([("entered_signed", "")] if signed else []))
        return True
    if signed and fetch_one(
        "UPDATE fair_entries SET signed = :s WHERE fair_id = :f AND attendee_id = :a "
        "AND signed = :no RETURNING fair_id", {**params, "no": False},
    ) is not None:
        bump(scope, [("entered_signed", "")])
    return False


def drop_entries(attendee_id: int, fair_ids: Iterable[int] | None = None) -> list[int]:
    """Within the caller's write transaction: take the person out of the 进场人数 of these
    fairs (all, for None); the fairs whose count dropped."""
    query = delete(FairEntry).where(FairEntry.attendee_id == attendee_id)
    if fair_ids is not None:
        query = query.where(FairEntry.fair_id.in_(list(fair_ids)))
    dropped = db.session.execute(query.returning(FairEntry.fair_id, FairEntry.signed)).all()
    for fair_id, signed in dropped:
        bump(f"fair:{fair_id}", [("entered", "")] + ([("entered_signed", "")] if signed else []), delta=-1)
    return [fair_id for fair_id, _signed in dropped]
