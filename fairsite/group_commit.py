"""Group commit for signing on SQLite under gevent: many signings, one fsync.

With synchronous=FULL every commit waits for the disk, and on SQLite under a gevent worker
that wait stalls the whole worker. So each request hands its write (a small function) to one
writer greenlet per process and waits; the writer runs everything queued in one BEGIN
IMMEDIATE transaction, commits once, then wakes each request with its own result (should one
write fail, the batch is undone and each write retried alone, so it fails alone). A request still answers
only after its write is on disk: nothing confirmed is ever lost. The counters the batch's writes
move are summed over the batch and written once, just before its commit (fairsite.tallies):
a hundred signings at one booth write the booth's shared counters once, not a hundred times.

Elsewhere (PostgreSQL, which has concurrent writers; tests and threads without gevent) the
write simply runs in its own write transaction."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import gevent
from flask import current_app
from gevent import monkey
from gevent.event import AsyncResult, Event

from fairsite.extensions import db
from fairsite.sql import write_transaction

T = TypeVar("T")
_MAX_BATCH = 200


def gevent_active() -> bool:
    """True inside a gevent worker (sockets patched): cooperative scheduling is in force."""
    return monkey.is_module_patched("socket")


class _Writer:
    def __init__(self, app) -> None:
        self.app = app
        self.queue: list = []
        self.wakeup = Event()
        self.greenlet = gevent.spawn(self._run)

    def submit(self, job: Callable[[], T]) -> T:
        result = AsyncResult()
        self.queue.append((job, result))
        self.wakeup.set()
        return result.get()

    def _run(self) -> None:
        while True:
            self.wakeup.wait()
            self.wakeup.clear()
            # Let the requests that are ready now queue their writes too.
            gevent.sleep(0)
            while self.queue:
                batch, self.queue = self.queue[:_MAX_BATCH], self.queue[_MAX_BATCH:]
                self._commit(batch)

    def _commit(self, batch) -> None:
        with self.app.app_context():
            try:
                outcomes = self._all_at_once(batch)
            except Exception:
                # Some write failed: undo the lot and give each its own transaction, so that
                # one bad write fails alone.
                db.session.rollback()
                outcomes = [self._alone(job) for job, _result in batch]
            finally:
                db.session.remove()
        for (_job, result), (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                result.set(value)
            else:
                result.set_exception(value)

    @staticmethod
    def _all_at_once(batch) -> list:
        with write_transaction():
            return [(True, job()) for job, _result in batch]

    @staticmethod
    def _alone(job) -> tuple:
        try:
            with write_transaction():
                return True, job()
        except Exception as error:
            return False, error


_writers: dict[int, _Writer] = {}


def commit(job: Callable[[], T]) -> T:
    """Run `job` (which writes through db.session) in a committed write transaction and return
    its result, grouped with other requests' jobs when that saves disk waits.

    The job's rule: under gevent on SQLite it runs in the writer greenlet, outside the request
    that submitted it, in another app context and ORM session. So it must not touch `request`,
    `current_user`, `g` or any ORM object the request loaded: read what it needs before
    submitting (ids, plain values) and capture those. Whatever it returns goes back to the
    request; return plain values, not ORM objects of the writer's session."""
    app = current_app._get_current_object()
    if db.engine.dialect.name == "sqlite" and gevent_active():
        # Give back this request's pooled connection while it waits (dozens may be waiting).
        db.session.close()
        writer = _writers.get(id(app))
        if writer is None or writer.greenlet.dead:
            writer = _writers[id(app)] = _Writer(app)
        return writer.submit(job)
    with write_transaction():
        return job()
