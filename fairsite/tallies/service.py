"""Keeping and reading the counters. Bumps run inside the caller's transaction, so a counter
never disagrees with the rows it counts."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, text

from fairsite.extensions import db
from fairsite.tallies.models import Tally

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
