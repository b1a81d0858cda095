"""The group-commit writer (fairsite.group_commit): on SQLite under gevent, the signings waiting
at one moment are committed together, each request answered only after its own row is on disk;
a failing write fails alone."""
import gevent
from sqlalchemy import func, select

from fairsite import group_commit
from fairsite.extensions import db
from fairsite.group_commit import _Writer
from fairsite.intents import service
from fairsite.intents.models import Intent
from fairsite.tallies import service as tallies


def _signing(fair_id: int, booth_id: int, vacancy: tuple[int, int], phone: str):
    """A signing job as the booth page submits it: plain values only, no request objects."""
    def write():
        attendee, _ = service.find_or_create_attendee("李四", phone, [], "v1")
        return service.record_intent(attendee, service.VacancyRef(*vacancy), "booth",
                                     fair_id=fair_id, booth_id=booth_id)
    return write


def intents() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Intent))


def test_writer_loop_commits_the_signings_waiting_under_gevent_in_one_transaction(app, make_booth, monkeypatch):
    booth = make_booth(vacancies=1)
    fair_id, booth_id, vacancy = booth.fair_id, booth.id, (booth.vacancies[0].id, booth.employer_id)
    db.session.commit()
    writer = _Writer(app)  # the real loop, in its own greenlet
    batches = []
    commit_batch = writer._commit
    monkeypatch.setattr(writer, "_commit", lambda batch: batches.append(len(batch)) or commit_batch(batch))
    try:
        waiting = [gevent.spawn(writer.submit, _signing(fair_id, booth_id, vacancy, f"1390000{i:04d}"))
                   for i in range(20)]
        gevent.joinall(waiting, timeout=10, raise_error=True)
    finally:
        writer.greenlet.kill()
    assert [g.value.created for g in waiting] == [True] * 20
    assert batches == [20]  # twenty signings, one transaction, one fsync
    assert intents() == 20
    assert tallies.read(f"fair:{fair_id}")["intents"][""] == 20


def test_commit_hands_the_job_to_the_writer_under_gevent_and_returns_its_result(app, make_booth, monkeypatch):
    booth = make_booth(vacancies=1)
    job = _signing(booth.fair_id, booth.id, (booth.vacancies[0].id, booth.employer_id), "13900139001")
    db.session.commit()
    monkeypatch.setattr(group_commit, "gevent_active", lambda: True)
    if db.engine.dialect.name != "sqlite":
        assert group_commit.commit(job).created  # PostgreSQL: its own write transaction
        return
    try:
        signed = group_commit.commit(job)
        assert group_commit._writers[id(app)].greenlet  # the loop that committed it
    finally:
        group_commit._writers.pop(id(app)).greenlet.kill()
    assert signed.created and intents() == 1


def test_group_commit_one_failing_write_fails_alone(app, make_booth):
    """The group-commit writer (used on SQLite under gevent) undoes a batch with a failing write
    and retries each write alone: the others are committed, the bad one gets its error."""
    class Result:
        def set(self, value):
            self.value = value

        def set_exception(self, error):
            self.error = error

    booth = make_booth(vacancies=2)
    fair_id, booth_id = booth.fair_id, booth.id
    v1, v2 = [(v.id, v.employer_id) for v in booth.vacancies]
    db.session.commit()

    def good(vacancy):
        def write():
            attendee, _ = service.find_or_create_attendee("李四", "13900139000", [], "v1")
            vac = service.VacancyRef(*vacancy)
            return service.record_intent(attendee, vac, "booth", fair_id=fair_id, booth_id=booth_id)
        return write

    def bad():
        db.session.execute(select(func.count()).select_from(Intent))
        raise ValueError("boom")

    writer = _Writer.__new__(_Writer)
    writer.app = app
    batch = [(good(v1), Result()), (bad, Result()), (good(v2), Result())]
    writer._commit(batch)
    assert batch[0][1].value.created and batch[2][1].value.created
    assert isinstance(batch[1][1].error, ValueError)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Intent)) == 2
    assert tallies.read(f"fair:{fair_id}")["intents"][""] == 2


