"""The booth page cache: what a booth QR opens is rendered once per version of the booth and
kept in this process. `Booth.version` is the key; whoever changes what the page shows bumps it
with one of the touch_* functions, inside their own transaction, so that every server process
sees the change at its next request (each request reads the version, which is one indexed row).

Call them wherever a write changes the booth page:
- touch_booth(booth_id): the booth itself (approved, rejected, renumbered, vacancies placed or
  removed at it, reordered);
- touch_booths_of_vacancy(vacancy_id): a vacancy was edited, opened or closed;
- touch_employer(employer_id): the employer's name or contact changed;
- touch_fair(fair_id): the fair changed (title, status: opened, closed...).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import select, update

from fairsite.booths.models import Booth, BoothVacancy
from fairsite.extensions import db

# Booth tokens are URL-safe base64 (models.new_token); anything else is never looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")


def valid_token(token: str | None) -> bool:
    return bool(token) and _TOKEN.fullmatch(token) is not None


def _plain(sql: str, params: dict, fetch: str):
    """Run `sql` by plain DB-API on a pooled connection: a tenth of the cost of going through
    the ORM session, which matters on the page every QR scan opens."""
    engine = db.engine
    if engine.dialect.name != "sqlite":  # sqlite3 takes :name, psycopg %(name)s
        sql = re.sub(r":(\w+)", r"%(\1)s", sql)
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        result = getattr(cur, fetch)()
        cur.close()
        return result
    finally:
        conn.close()  # back to the pool


def fetch_all(sql: str, params: dict) -> list:
    return _plain(sql, params, "fetchall")


def fetch_one(sql: str, params: dict):
    return _plain(sql, params, "fetchone")


def touch_booth(booth_id: int) -> None:
    db.session.execute(
        update(Booth).where(Booth.id == booth_id).values(version=Booth.version + 1)
    )


def touch_booths_of_vacancy(vacancy_id: int) -> None:
    placed = select(BoothVacancy.booth_id).where(BoothVacancy.vacancy_id == vacancy_id)
    db.session.execute(
        update(Booth).where(Booth.id.in_(placed)).values(version=Booth.version + 1)
    )


def touch_employer(employer_id: int) -> None:
    db.session.execute(
        update(Booth).where(Booth.employer_id == employer_id).values(version=Booth.version + 1)
    )


def touch_fair(fair_id: int) -> None:
    db.session.execute(
        update(Booth).where(Booth.fair_id == fair_id).values(version=Booth.version + 1)
    )


class VersionedCache:
    """A small per-process LRU of values keyed by (key, version). A lookup with another
    version is a miss; the stale entry is replaced by the next put."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[Any, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, version):
        item = self._items.get(key)
        if item is None or item[0] != version:
            return None
        return item[1]

    def put(self, key, version, value) -> None:
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# Rendered booth pages by token (see fairsite.booths.public).
booth_pages = VersionedCache()
