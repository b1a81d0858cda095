"""Benchmark the SMS queue: queue 10,000 vacancy-push texts (one outbox row each, with its
cap and budget checks), then let a real Huey consumer (the one `flask sms worker` runs, on the
embedded tier's SQLite queue) drain them to a local stand-in for Alibaba Cloud SMS that checks
every request's signature and parameters as the service does (tests/aliyun_server.py).

Prints the queueing rate, the drain rate (texts/s accepted by the provider), and checks that
every text was sent exactly once: as many distinct OutIds at the provider as rows, no OutId
twice, every row "sent" with one try.

    .venv/bin/python bench/sms.py [--messages 10000] [--workers 4] [--seconds 300]

--seconds bounds the drain. Exit status: 0 met, 3 a target missed, 1 a text lost or doubled.
Target on a 2-core machine: drain >= 200 texts/s.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.harness import Targets  # noqa: E402
from fairsite import config  # noqa: E402
from fairsite.app import create_app  # noqa: E402
from fairsite.extensions import db  # noqa: E402
from fairsite.sms import queue, service  # noqa: E402
from fairsite.sms.models import Message  # noqa: E402
from fairsite.sql import write_transaction  # noqa: E402
from tests.aliyun_server import AliyunSmsServer  # noqa: E402

KEY_ID, SECRET, SIGN = "LTAI5tBenchKey", "bench-secret", "区就业服务"
BATCH = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=300, help="the drain's time bound")
    parser.add_argument("--port"), parser.add_argument("--nginx-port")  # bench/run passes them
    args = parser.parse_args()
    targets = Targets("sms")
    tmp = Path(tempfile.mkdtemp(prefix="fairsite-bench-sms-"))
    templates = {"SMS_3003": service.TEMPLATES["push"][1]}
    with AliyunSmsServer({KEY_ID: SECRET}, {SIGN}, templates) as provider:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}",
            "SMS_BACKEND": "aliyun", "SMS_ALIYUN_ACCESS_KEY_ID": KEY_ID,
            "SMS_ALIYUN_ACCESS_KEY_SECRET": SECRET, "SMS_ALIYUN_ENDPOINT": provider.url,
            "SMS_SIGN_NAME": SIGN, "SMS_TEMPLATES": {**config.SMS_TEMPLATES, "push": "SMS_3003"},
            "SMS_QUEUE_PATH": str(tmp / "queue.sqlite"), "SMS_MONTHLY_BUDGET": args.messages * 2,
        })
        with app.app_context():
            upgrade(revision="heads")
            start = time.perf_counter()
            for first in range(0, args.messages, BATCH):
                with write_transaction():
                    ids = [service.queue_message(
                        "push", f"139{n:08d}",
                        {"fair": "2026年春风行动招聘会", "posts": "5271", "link": f"http://x.cn/p/{n}"},
                        f"push:bench:{n}").message.id
                        for n in range(first, min(first + BATCH, args.messages))]
                service.dispatch(ids)
            queued_s = time.perf_counter() - start
            print(f"queued {args.messages:,} texts in {queued_s:.1f} s: "
                  f"{args.messages / queued_s:,.0f}/s (outbox rows with cap and budget checks, "
                  "and Huey tasks on SQLite)")

            consumer = queue.huey_of(app).create_consumer(
                workers=args.workers, worker_type="thread", periodic=False,
                initial_delay=0.01, max_delay=0.1)
            start = time.perf_counter()
            consumer.start()
            try:
                while time.perf_counter() - start < args.seconds:
                    done = db.session.scalar(select(func.count(Message.id))
                                             .where(Message.status.in_(("sent", "failed"))))
                    db.session.commit()
                    if done >= args.messages:
                        break
                    time.sleep(0.2)
            finally:
                drain_s = time.perf_counter() - start
                consumer.stop(graceful=True)
            statuses = dict(db.session.execute(
                select(Message.status, func.count(Message.id)).group_by(Message.status)).all())
            tries = dict(db.session.execute(
                select(Message.tries, func.count(Message.id)).group_by(Message.tries)).all())
        out_ids = Counter(m["out_id"] for m in provider.accepted)
        sent = statuses.get("sent", 0)
        print(f"drained {sent:,} texts to the local provider in {drain_s:.1f} s: "
              f"{sent / drain_s:,.0f} texts/s with {args.workers} consumer threads "
              f"(provider requests {provider.requests:,}, statuses {statuses}, tries {tries})")
        doubled = sum(1 for n in out_ids.values() if n > 1)
        print(f"provider accepted {len(provider.accepted):,} texts, {len(out_ids):,} distinct; "
              f"sent twice: {doubled}")
        targets.require("every text sent", sent == args.messages == len(out_ids),
                        f"{sent:,} sent of {args.messages:,}")
        targets.require("none sent twice", doubled == 0 and len(provider.accepted) == len(out_ids),
                        f"{doubled} doubled")
        targets.check("drain >= 200 texts/s", sent / drain_s >= 200, f"{sent / drain_s:,.0f}/s")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
