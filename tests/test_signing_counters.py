"""What a signing costs the database: its counters are gathered over the transaction and written
at its end as one upsert per distinct counter row (fairsite.tallies.service), so a group commit
of many signings writes each shared counter once, and the counters stay exact."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import gevent
import psycopg
import pytest
from sqlalchemy import event, func, select

from fairsite.extensions import db
from fairsite.group_commit import _Writer
from fairsite.intents import service
from fairsite.intents.models import Intent
from fairsite.sql import write_transaction
from fairsite.tallies import service as tallies
from fairsite.tallies.models import Tally

FORM = {"name": "张三", "consent": "y", "step": "form", "groups": "returnee"}


class _CountingCursor(psycopg.Cursor):
    seen: list[str]

    def execute(self, query, params=None, **kw):
        self.seen.append(str(query))
        return super().execute(query, params, **kw)

    def executemany(self, query, params_seq, **kw):
        params_seq = list(params_seq)
        self.seen.extend([str(query)] * len(params_seq))
        return super().executemany(query, params_seq, **kw)


@contextmanager
def statements():
    """Every SQL statement run on the database while inside (each row of an executemany counts
    as one), whichever path sent it: the ORM or the plain-SQL runner's DB-API cursors."""
    seen: list[str] = []
    db.session.remove()
    db.engine.dispose()  # every connection from now on is checked out through the listener

    def checkout(dbapi, _record, _proxy):
        if isinstance(dbapi, sqlite3.Connection):
            dbapi.set_trace_callback(seen.append)
        else:
            dbapi.cursor_factory = type("Counting", (_CountingCursor,), {"seen": seen})

    event.listen(db.engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(db.engine, "checkout", checkout)
        db.session.remove()
        db.engine.dispose()


def _writes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_sign_first_time_runs_few_statements_and_one_counter_upsert(client, make_booth):
    booth = make_booth(vacancies=1)
    vacancy_id, token = booth.vacancies[0].id, booth.token
    with statements() as seen:
        response = client.post("/intents/sign", data={
            "vacancy_id": vacancy_id, "booth": token, "phone": "13800138000", **FORM})
    assert response.status_code == 303
    counters = [s for s in _writes(seen) if "tallies" in s]
    assert len(counters) == 1  # every counter of the signing, one multi-row statement
    # 28 before the counters were gathered (19 of them counter upserts).
    assert len(seen) <= 12


def _signing(fair_id: int, booth_id: int, vacancy: tuple[int, int], phone: str, groups: list[str]):
    def write():
        attendee, _ = service.find_or_create_attendee("李四", phone, groups, "v1")
        return service.record_intent(attendee, service.VacancyRef(*vacancy), "booth",
                                     fair_id=fair_id, booth_id=booth_id)
    return write


def test_group_commit_of_n_signings_writes_each_counter_once_and_counts_exactly(app, make_booth):
    booth = make_booth(vacancies=2)
    fair_id, booth_id = booth.fair_id, booth.id
    (v1, e1), (v2, e2) = [(v.id, v.employer_id) for v in booth.vacancies]
    db.session.commit()
    n = 30
    jobs = [_signing(fair_id, booth_id, (v1, e1) if i % 3 else (v2, e2), f"1390000{i:04d}",
                     ["returnee"] if i % 2 else []) for i in range(n)]
    writer = _Writer(app)
    with statements() as seen:
        try:
            waiting = [gevent.spawn(writer.submit, job) for job in jobs]
            gevent.joinall(waiting, timeout=10, raise_error=True)
        finally:
            writer.greenlet.kill()
    assert all(g.value.created for g in waiting)
    counters = [s for s in _writes(seen) if "tallies" in s]
    assert len(counters) == 1  # thirty signings in one transaction: one counter upsert
    per_signing = len(seen) / n
    assert per_signing <= 6
    fair, everything = tallies.read(f"fair:{fair_id}"), tallies.read("all")
    for counts in (fair, everything):
        assert counts["intents"][""] == n
        assert counts["vacancy"] == {str(v1): 20, str(v2): 10}
        assert counts["group"] == {"returnee": 15}
        assert counts["source"] == {"booth": n}
        assert sum(counts["hour"].values()) == n
    assert fair["attendees"][""] == n and fair["entered"][""] == n and fair["entered_signed"][""] == n
    # As before the counters were gathered: each signing moves the fair's version three times
    # (intent, new attendee, entry) and the whole site's once.
    assert fair["version"][""] == 3 * n and everything["version"][""] == n
    assert db.session.scalar(select(func.count()).select_from(Intent)) == n


def test_counters_of_a_rolled_back_transaction_are_not_written(app, make_booth):
    booth = make_booth(vacancies=1)
    vacancy = service.VacancyRef(booth.vacancies[0].id, booth.employer_id)
    with pytest.raises(RuntimeError), write_transaction():
        attendee, _ = service.find_or_create_attendee("王五", "13700137000", [], "v1")
        service.record_intent(attendee, vacancy, "booth", fair_id=booth.fair_id, booth_id=booth.id)
        raise RuntimeError("the signing fails after counting")
    with write_transaction():
        tallies.bump("all", [("walkins", "")])
    assert tallies.read("all") == {"walkins": {"": 1}, "version": {"": 1}}
    assert db.session.scalar(select(func.count()).select_from(Tally).where(Tally.dim == "intents")) == 0


def test_counters_read_inside_the_transaction_include_its_own_bumps(app, make_booth):
    with write_transaction():
        tallies.bump("fair:1", [("walkins", "")])
        tallies.bump("fair:1", [("walkins", "")], delta=2)
        assert tallies.read("fair:1")["walkins"][""] == 3
        assert tallies.version("fair:1") == 2
    assert tallies.read("fair:1") == {"walkins": {"": 3}, "version": {"": 2}}
