"""The task queue that sends texts: Huey, with its storage in SQLite beside the database on
the embedded tier (beside the database: instance/fairsite-sms-queue.sqlite) and in Redis when REDIS_URL is set. Tests get an
in-memory queue unless they name a file (SMS_QUEUE_PATH).

Each app builds its own Huey and registers the tasks on it (no work at import time): the web
processes only enqueue; `flask sms worker` runs the consumer (`make run` starts it beside
gunicorn). The tasks:
- send_messages(ids): sends up to SEND_BATCH outbox rows (fairsite.sms.service.send_many),
  and schedules the next try of each after a transient error;
- sweep, every minute: queued rows the queue lost (a Redis restart) are enqueued again, rows
  left "sending" by a stopped worker are marked failed, texts past the retention period
  erased;
- digests, daily at SMS_DIGEST_HOUR (Beijing): employers' texts about people waiting."""
from __future__ import annotations

import hashlib
import logging
import os

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, crontab
from huey.storage import SqliteStorage

log = logging.getLogger("fairsite.sms")


def build_huey(app: Flask) -> Huey:
    config = app.config
    name = f"{config.get('PUBSUB_PREFIX', 'fairsite')}-sms"
    path = config.get("SMS_QUEUE_PATH") or ""
    if config.get("REDIS_URL") and not path:
        return RedisHuey(name, url=config["REDIS_URL"], results=False)
    if app.testing and not path:
        return MemoryHuey(name, results=False)
    path = path or default_queue_path(app)
    return Huey(name, storage_class=_SqliteStorage, filename=path, results=False, timeout=15)


class _SqliteStorage(SqliteStorage):
    """Huey's SQLite storage at synchronous=NORMAL (WAL): an enqueue costs no fsync (40 ms
    each on this machine's disk). A power cut may lose the last tasks, never the outbox rows
    (the site's database syncs fully): the sweep enqueues those again."""

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn


def default_queue_path(app: Flask) -> str:
    """Beside the SQLite database (fairsite.sqlite -> fairsite-sms-queue.sqlite), so that each
    database has its queue and a worker never takes another site's tasks; for PostgreSQL
    without Redis, in instance/ under a name drawn from the database URL."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        database = url.removeprefix("sqlite:///")
        return os.path.splitext(database)[0] + "-sms-queue.sqlite"
    digest = hashlib.sha1(url.encode()).hexdigest()[:10]
    return os.path.join(app.instance_path, f"sms-queue-{digest}.sqlite")


def init_app(app: Flask) -> None:
    huey = build_huey(app)

    @huey.task(name="fairsite.sms.send_messages")
    def send_messages(message_ids: list[int]) -> None:
        from fairsite.sms import service

        with app.app_context():
            outcomes = service.send_many(message_ids)
        # Each message put back after a transient error gets its own later try.
        for message_id, outcome in outcomes.items():
            if outcome.retry_in is not None:
                send_messages.schedule(([message_id],), delay=outcome.retry_in)

    @huey.periodic_task(crontab(minute="*"), name="fairsite.sms.sweep")
    def sweep() -> None:
        from fairsite.sms import service

        with app.app_context():
            stuck = service.fail_stuck()
            due = service.due_messages()
            service.forget_old()
        if stuck:
            log.warning("%s texts left 'sending' by a stopped worker, marked failed", stuck)
        for first in range(0, len(due), service.SEND_BATCH):
            send_messages(due[first:first + service.SEND_BATCH])

    # Beijing's hour in UTC, as the consumer's clock (utc=True) reads crontabs.
    digest_hour = (int(app.config["SMS_DIGEST_HOUR"]) - 8) % 24

    @huey.periodic_task(crontab(minute="0", hour=str(digest_hour)), name="fairsite.sms.digests")
    def digests() -> None:
        from fairsite.sms import service

        with app.app_context():
            service.dispatch(service.queue_digests())

    app.extensions["sms_queue"] = huey
    app.extensions["sms_tasks"] = {"send_messages": send_messages, "sweep": sweep,
                                   "digests": digests}


def huey_of(app: Flask | None = None) -> Huey:
    return (app or current_app).extensions["sms_queue"]


def enqueue(message_ids: list[int]) -> None:
    """Queue the sending of these outbox rows (one task). If the queue cannot take it now, the
    rows stay queued and the sweep sends them: the person's request never fails for it."""
    try:
        current_app.extensions["sms_tasks"]["send_messages"](list(message_ids))
    except Exception:
        log.warning("SMS queue unavailable; messages %s wait for the sweep", message_ids,
                    exc_info=True)


def run_pending(app: Flask, limit: int = 100_000) -> int:
    """Run every task now in the queue, in this thread (the bench and tests; the consumer does
    the same with its workers). Returns how many ran."""
    huey = huey_of(app)
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            return ran
        huey.execute(task)
        ran += 1
    return ran


def run_worker(app: Flask, workers: int | None = None) -> None:
    """The consumer, in the foreground until Ctrl-C or SIGTERM."""
    huey = huey_of(app)
    consumer = huey.create_consumer(
        workers=workers or int(app.config["SMS_WORKERS"]), worker_type="thread",
        periodic=True, initial_delay=0.05, max_delay=1.0, backoff=1.15,
    )
    consumer.run()
