"""Database set-up that the ORM does not do by itself: SQLite pragmas, explicit BEGIN so that
writes can take the write lock first (BEGIN IMMEDIATE), and a shared clock."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine

from fairsite.extensions import db


def utcnow() -> datetime:
    """Naive UTC, the one form every timestamp column holds (SQLite keeps no time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _on_connect(dbapi_conn, _record) -> None:
    if not isinstance(dbapi_conn, sqlite3.Connection):
        return
    # We emit BEGIN ourselves (see _on_begin); the sqlite3 module's own handling would
    # otherwise start transactions late and always as DEFERRED.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    # Without a busy timeout 30-70% of concurrent writes fail with "database is locked".
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def init_db_events() -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)


@contextmanager
def write_transaction() -> Iterator:
    """A transaction that will write after reading. On SQLite it starts with BEGIN IMMEDIATE,
    because a deferred read-then-write transaction fails as "locked" about half the time under
    load, busy timeout or not. Commits on success, rolls back on error."""
    session = db.session()  # the request's Session itself, not the scoped proxy
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
