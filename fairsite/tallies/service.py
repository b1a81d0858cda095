"""Keeping and reading the counters. Bumps run inside the caller's transaction, so a counter
never disagrees with the rows it counts."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, text

from fairsite.extensions import db
from fairsite.sql import fetch_one
from fairsite.tallies.models import FairEntry, Tally

# Plain SQL: the same upsert runs on SQLite (3.24+) and PostgreSQL.
_UPSERT = text(
    "INSERT INTO tallies (scope, dim, key, n) VALUES (:scope, :dim, :key, :n) "
    "ON CONFLICT (scope, dim, key) DO UPDATE SET n = tallies.n + excluded.n"
)


def bump(scope: str, counts: Iterable[tuple[str, str]], delta: int = 1) -> None:
    """Add `delta` to each (dim, key) counter of `scope`, and move its version on."""
    params = [{"scope": scope, "dim": d, "key": k, "n": delta} for d, k in counts]
    params.append({"scope": scope, "dim": "version", "key": "", "n": 1})
    db.session.execute(_UPSERT, params)


def touch(scope: str) -> None:
    """Move a scope's version on without counting anything: what its board shows besides
    the counters (booths approved, fair details) changed, so cached boards and ETags expire."""
    bump(scope, [])


def read(scope: str) -> dict[str, dict[str, int]]:
    """All counters of a scope as {dim: {key: n}}."""
    out: dict[str, dict[str, int]] = {}
    for dim, key, n in db.session.execute(
        select(Tally.dim, Tally.key, Tally.n).where(Tally.scope == scope)
    ):
        out.setdefault(dim, {})[key] = n
    return out


def version(scope: str) -> int:
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
