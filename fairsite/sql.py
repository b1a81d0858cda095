"""The database below the ORM: SQLite pragmas, BEGIN IMMEDIATE for writes that read first,
and the one plain-SQL runner.

The runner executes on the ORM session's connection when the session has a transaction
open (a write, or a read that began one), else on a connection borrowed for that one statement:
a request never holds two pooled connections at once, so a burst cannot deadlock the pool.
Writes go through it only inside write_transaction (or group_commit), never on their own. SQL is written with :name parameters; SQLAlchemy compiles each statement once per
dialect into the driver's own paramstyle, and the driver binds the values."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Dialect, Engine

from fairsite.extensions import db


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


def _sqlite_datetime(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite (always with microseconds). The sqlite3
    module's own adapter drops ".000000", and "02:00:00" sorts before "02:00:00.000000": a
    row the plain-SQL runner wrote at a whole second would compare wrongly with the same
    instant bound by the ORM."""
    return value.isoformat(" ", "microseconds")


def init_app(_app: Flask) -> None:
    sqlite3.register_adapter(datetime, _sqlite_datetime)
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


@lru_cache(maxsize=256)
def _compiled(sql: str, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """`sql` in the driver's paramstyle, and the parameter order when it is positional."""
    compiled = text(sql).compile(dialect=dialect)
    return compiled.string, (tuple(compiled.positiontup) if compiled.positional else None)


@contextmanager
def _cursor(sql: str, params: dict | None, engine: Engine | None = None) -> Iterator:
    """A cursor that has run `sql`. Inside the session's transaction it runs on the session's
    connection; otherwise it borrows a pooled connection for this one statement and gives it
    back at once. Either way the request holds at most one connection at any moment. With
    `engine`, no session is looked at: a connection of its pool is borrowed."""
    session = db.session() if engine is None else None
    if session is not None and session.in_transaction():
        connection = session.connection()
        dialect, dbapi, borrowed = connection.dialect, connection.connection.dbapi_connection, None
    else:
        engine = engine or db.engine
        dialect, borrowed = engine.dialect, engine.raw_connection()
        dbapi = borrowed
    statement, order = _compiled(sql, dialect)
    params = params or {}
    cursor = dbapi.cursor()
    try:
        cursor.execute(statement, [params[name] for name in order] if order is not None else params)
        yield cursor
    finally:
        cursor.close()
        if borrowed is not None:
            borrowed.close()  # back to the pool (rolled back there)


def fetch_one(sql: str, params: dict | None = None):
    """The first row of `sql` (or None), by plain DB-API on the request's connection: a tenth
    of the ORM's cost, which matters on the pages every scan and every signing runs."""
    with _cursor(sql, params) as cursor:
        return cursor.fetchone()


def fetch_one_on(engine: Engine, sql: str, params: dict | None = None):
    """fetch_one outside any app context (fairsite/booths/front.py answers before Flask): on
    a connection borrowed from `engine`'s pool for this one statement."""
    with _cursor(sql, params, engine) as cursor:
        return cursor.fetchone()


def fetch_all(sql: str, params: dict | None = None) -> list:
    with _cursor(sql, params) as cursor:
        return cursor.fetchall()
