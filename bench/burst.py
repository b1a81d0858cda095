"""A crowd taps "我有意向" at the same moment, on the district tier: gunicorn with two workers,
PostgreSQL, Redis.

Starts the demo site as `make run` does, but on a fresh PostgreSQL database and with Redis
(events and rate limits); makes ATTENDEES returning attendees (each with its device cookie);
each opens the page (for its session cookie and CSRF token) on a keep-alive connection of its
own; then all of them sign at once, released together by a barrier. Each round does this on
the fair page (a vacancy nobody signed yet), then on a job the live host has just presented.
Prints each burst's p50/p99 and error count beside nginx's ceiling.

    .venv/bin/python bench/burst.py                          # 200 attendees, 2 rounds
    .venv/bin/python bench/burst.py --attendees 50 --rounds 1 --seconds 2
    FAIRSITE_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    FAIRSITE_BENCH_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/burst.py

Checks (a failure): no tap fails; every confirmed intent is stored exactly once (rows, distinct
people and the vacancy's counter all equal the crowd). Target: p99 <= 2,000 ms per burst.
Exit status: 0 met, 3 missed, 1 a check failed. A database of its own is created and dropped.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.harness import (  # noqa: E402
    LoadResult,
    Targets,
    nginx_ceiling,
    port_options,
    site,
    wait_for_idle,
)

SESSION_ID = 1  # the demo's live session
P99_TARGET_MS = 2000


def fresh_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A PostgreSQL database of its own on `server_url`: (its URL, a function dropping it)."""
    server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"fairsite_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def returning_attendees(database_url: str, secret: str, n: int) -> list[str]:
    """n attendees who signed before, each with a device: their signed device cookies (made
    with the site's own code and secret, as their first signing would have)."""
    from fairsite.app import create_app
    from fairsite.extensions import db
    from fairsite.intents.device import _serializer
    from fairsite.intents.service import add_device, find_or_create_attendee
    from fairsite.sql import write_transaction

    app = create_app({"TESTING": True, "SECRET_KEY": secret, "DATABASE_URL": database_url})
    with app.app_context():
        with write_transaction():
            tokens = []
            for i in range(n):
                attendee, _ = find_or_create_attendee(f"回访{i}", f"1390000{i:04d}", ["returnee"], "bench")
                tokens.append(add_device(attendee.id, full_access=True)[1])
        cookies = [_serializer().dumps(token) for token in tokens]
        db.engine.dispose()
    return cookies


class Phone:
    """One attendee's phone: device cookie, the page it has open, one keep-alive connection."""

    def __init__(self, port: int, device_cookie: str, page: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = {"fs_device": device_cookie}
        self.conn.request("GET", page, headers={"Cookie": self._cookie()})
        response = self.conn.getresponse()
        html = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"GET {page}: {response.status}")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name] = value
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    def _cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def connect(self) -> None:
        """A new connection just before the tap: the page's may have been idle past the
        server's keep-alive (5 s) while the rest of the crowd opened theirs."""
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.conn.port, timeout=60)
        self.conn.connect()

    def tap(self, where: dict) -> tuple[int, str, float]:
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/intents/sign", body=urllib.parse.urlencode(where), headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": self._cookie(),
                "X-CSRFToken": self.token, "HX-Request": "true"})
            response = self.conn.getresponse()
            body = response.read().decode()
            return response.status, body, time.perf_counter() - started
        except (OSError, http.client.HTTPException) as error:
            return 0, repr(error), time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


def burst(port: int, cookies: list[str], page: str, where: dict, label: str) -> tuple[LoadResult, int]:
    """Everyone opens `page`, then all sign at once. (the burst's figures, confirmed taps)."""
    with ThreadPoolExecutor(16) as pool:
        phones = list(pool.map(lambda c: Phone(port, c, page), cookies))
    barrier = threading.Barrier(len(phones) + 1)

    def tap(phone: Phone):
        barrier.wait()
        return phone.tap(where)

    wait_for_idle(label)
    for phone in phones:
        phone.connect()
    with ThreadPoolExecutor(len(phones)) as pool:
        futures = [pool.submit(tap, p) for p in phones]
        barrier.wait()
        started = time.monotonic()
        answers = [f.result() for f in futures]
        seconds = time.monotonic() - started
    for phone in phones:
        phone.close()
    latencies = sorted(a[2] * 1000 for a in answers)
    statuses: dict[int, int] = {}
    for code, _body, _t in answers:
        statuses[code] = statuses.get(code, 0) + 1
    confirmed = sum(1 for code, body, _t in answers if code == 200 and "已登记" in body)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    result = LoadResult(len(answers), seconds, pct(0.50), pct(0.99), pct(0.90), len(answers) - confirmed,
                        statuses, note=f"statuses {statuses}; all {len(answers)} done in {seconds * 1000:.0f} ms")
    return result, confirmed


def stored(engine, vacancy_id: int, source: str) -> tuple[int, int, int]:
    """(intent rows, distinct attendees, the vacancy's counter) for this vacancy and source."""
    with engine.connect() as conn:
        rows, people = conn.execute(text(
            "SELECT count(*), count(DISTINCT attendee_id) FROM intents "
            "WHERE vacancy_id = :v AND source = :s AND withdrawn_at IS NULL"), {"v": vacancy_id, "s": source}).one()
        tally = conn.execute(text("SELECT n FROM tallies WHERE scope = 'all' AND dim = 'vacancy' AND key = :k"),
                             {"k": str(vacancy_id)}).scalar() or 0
    return rows, people, tally


class Host:
    """The demo organiser logged in, moving the live session on as the host console does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        token = self._token("/login")
        self.opener.open(urllib.request.Request(base + "/login", data=urllib.parse.urlencode({
            "csrf_token": token, "login": "organiser@demo.fairsite.cn", "password": "demo-organiser",
        }).encode()), timeout=10).read()
        # Logging in starts a new session, with a CSRF token of its own.
        self.token = self._token("/live/manage")

    def _token(self, path: str) -> str:
        page = self.opener.open(self.base + path, timeout=10).read().decode()
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, path: str, **data) -> str:
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(),
                                     headers={"X-CSRFToken": self.token, "HX-Request": "true"})
        return self.opener.open(req, timeout=30).read().decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attendees", type=int, default=200, help="the crowd tapping at once (default 200)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="bursts on the fair page and on a newly presented live job, each (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--database-url", default=os.environ.get(
        "FAIRSITE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the bench's database on (default: "
             "$FAIRSITE_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres)")
    parser.add_argument("--redis-url", default=os.environ.get("FAIRSITE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="Redis for events and limits (default: $FAIRSITE_BENCH_REDIS_URL, else "
                             "redis://127.0.0.1:6379/0)")
    parser.add_argument("--seconds", type=float, default=5, help="each wrk run of the nginx ceiling (at most 5)")
    port_options(parser)
    args = parser.parse_args()
    n, targets = args.attendees, Targets()
    prefix = f"fairsite-bench-{os.getpid()}"
    try:
        database_url, drop = fresh_database(args.database_url)
    except Exception as error:  # noqa: BLE001 - said plainly, not as a traceback
        raise SystemExit(f"bench: cannot create a database on {args.database_url}: {error}") from None
    results: list[tuple[str, LoadResult]] = []
    try:
        env = {"FAIRSITE_DATABASE_URL": database_url, "FAIRSITE_REDIS_URL": args.redis_url,
               "FAIRSITE_WORKERS": str(args.workers), "FAIRSITE_PUBSUB_PREFIX": prefix,
               "FAIRSITE_RATELIMIT_KEY_PREFIX": prefix}
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with site(env=env, port=args.port) as s:
            port = int(s.base.rsplit(":", 1)[1])
            cookies = returning_attendees(database_url, s.env["FAIRSITE_SECRET_KEY"], n)
            with engine.connect() as conn:
                fair_id = conn.execute(text("SELECT fair_id FROM live_sessions WHERE id = :s"),
                                       {"s": SESSION_ID}).scalar()
                fair_vacancies = list(conn.execute(text(
                    "SELECT DISTINCT bv.vacancy_id FROM booth_vacancies bv JOIN booths b ON b.id = bv.booth_id "
                    "WHERE b.fair_id = :f AND b.status = 'approved' AND bv.vacancy_id NOT IN "
                    "(SELECT vacancy_id FROM live_items WHERE session_id = :s) ORDER BY bv.vacancy_id"),
                    {"f": fair_id, "s": SESSION_ID}).scalars())
            host = Host(s.base)
            host.post(f"/live/{SESSION_ID}/start")
            print(f"{n} returning attendees; {args.workers} gunicorn workers, PostgreSQL, Redis")
            for r in range(args.rounds):
                vacancy = fair_vacancies[r]
                label = f"round {r + 1}: fair page, {n} at once"
                result, confirmed = burst(port, cookies, f"/fairs/{fair_id}", {"fair": fair_id, "vacancy_id": vacancy},
                                          label)
                print(result.line(label))
                results.append((label, result))
                targets.require(f"{label}: every confirmed intent stored once",
                                confirmed == n and stored(engine, vacancy, "fair") == (n, n, n),
                                f"{confirmed} confirmed; rows, people, counter {stored(engine, vacancy, 'fair')}")

                host.post(f"/live/{SESSION_ID}/present", step="next")
                with engine.connect() as conn:
                    presented = conn.execute(text("SELECT current_vacancy_id FROM live_sessions WHERE id = :s"),
                                             {"s": SESSION_ID}).scalar()
                label = f"round {r + 1}: live job just presented, {n} at once"
                result, confirmed = burst(port, cookies, f"/live/{SESSION_ID}",
                                          {"live": SESSION_ID, "vacancy_id": presented}, label)
                print(result.line(label))
                results.append((label, result))
                targets.require(f"{label}: every confirmed intent stored once",
                                confirmed == n and stored(engine, presented, "live") == (n, n, n),
                                f"{confirmed} confirmed; rows, people, counter {stored(engine, presented, 'live')}")
        engine.dispose()
    finally:
        drop()
    print(nginx_ceiling(duration=min(args.seconds, 5), port=args.nginx_port).line("nginx 5 KB static (the ceiling)"))
    errors = sum(r.errors for _label, r in results)
    targets.require("no tap failed", bool(results) and errors == 0, f"{errors} errors")
    worst = max((r.p99_ms for _label, r in results), default=float("inf"))
    targets.check(f"p99 <= {P99_TARGET_MS:,} ms in every burst", worst <= P99_TARGET_MS, f"worst p99 {worst:,.0f} ms")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
