"""The organiser's tally board at 1,000,000 intents: what one refresh costs.

Serves the demo fair as `make run` does, measures the board's fragment at the demo's size, then
adds 1,000,000 intents straight into the database (bulk SQL inserts plus their counters, the way
fairsite.intents.service keeps them, not through the app) and measures again:

- one full refresh (the counters moved, so the fragment is rendered): sequential latency;
- the same under load (wrk, every request rendered);
- an unchanged board answering 304 from the version check (wrk, If-None-Match);
- for comparison, what a COUNT ... GROUP BY over the intents themselves costs in SQLite;
- nginx serving a 5 KB static file in the same run: the machine's ceiling.

Target: one refresh under 50 ms at 1,000,000 intents. Loads target 127.0.0.1 only and stop by
themselves. Exit status: 0 target met, 3 missed, 1 a crash.

    .venv/bin/python bench/tally.py [--seconds 8] [--port P] [--nginx-port P]"""
from __future__ import annotations

import argparse
import http.client
import random
import re
import sqlite3
import statistics
import sys
import time
import urllib.parse
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    Targets,
    csrf_session,
    nginx_ceiling,
    port_options,
    site,
    wait_for_idle,
    wrk,
)

INTENTS = 1_000_000
PER_PERSON = 10
GROUPS = [("returnee",), ("returnee",), ("returnee", "poverty"), ("graduate",), ("poverty",),
          ("difficulty",), ("veteran",), (), ()]
SOURCES = ["booth"] * 15 + ["fair"] * 2 + ["live"] * 2 + ["desk"]
TARGET_MS = 50.0


def login(base: str) -> str:
    """Log in as the demo organiser; returns the Cookie header."""
    cookie, token = csrf_session(base, "/login")
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = urllib.parse.urlencode({"csrf_token": token, "login": "organiser@demo.fairsite.cn",
                                   "password": "demo-organiser"})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    resp = conn.getresponse()
    resp.read()
    cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []]
    assert resp.status == 303, resp.status
    jar = dict(c.split("=", 1) for c in (cookie.split("; ") + cookies) if c)
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def refresh_latency(base: str, cookie: str, db_path: Path, path: str, rounds: int = 200) -> list[float]:
    """Sequential refreshes, each after the counters moved (so each one renders)."""
    wait_for_idle("sequential refreshes")
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    db = sqlite3.connect(db_path, timeout=30)
    times = []
    for _ in range(rounds):
        with db:
            db.execute("UPDATE tallies SET n = n + 1 WHERE scope = 'fair:1' AND dim = 'version' AND key = ''")
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "HX-Request": "true"})
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200 and b"tally-intents" in body, resp.status
    db.close()
    conn.close()
    return times


def shown_intents(base: str, cookie: str, path: str) -> tuple[str, str]:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie, "HX-Request": "true"})
    resp = conn.getresponse()
    body = resp.read().decode()
    return re.search(r'id="tally-intents">([\d,]+)<', body).group(1), resp.headers["ETag"]


def add_intents(db_path: Path, n: int) -> float:
    """n intents by n / PER_PERSON new attendees, with their counters; returns seconds taken."""
    t0 = time.perf_counter()
    rng = random.Random(7)
    db = sqlite3.connect(db_path, timeout=60)
    # A bulk load: no fsync per page, and a cache big enough for the intents' indexes.
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    placed = db.execute(
        "SELECT bv.vacancy_id, b.employer_id, b.id FROM booth_vacancies bv JOIN booths b ON b.id = bv.booth_id "
        "WHERE b.fair_id = 1 AND b.status = 'approved'").fetchall()
    fair_date = date.fromisoformat(db.execute("SELECT date FROM fairs WHERE id = 1").fetchone()[0])
    start = datetime.combine(fair_date, datetime.min.time()) + timedelta(hours=8, minutes=30) - timedelta(hours=8)
    people = n // PER_PERSON
    first_id = (db.execute("SELECT max(id) FROM attendees").fetchone()[0] or 0) + 1
    now = datetime.utcnow().isoformat(sep=" ")
    with db:
        db.executemany(
            "INSERT INTO attendees (id, name, phone, groups, hometown, consent_version, consent_at, "
            "consent_method, created_at) VALUES (?, '测试', ?, ?, '', 'bench', ?, 'self', ?)",
            ((first_id + i, f"10{i:09d}", ",".join(rng.choice(GROUPS)), now, now) for i in range(people)))

        def rows():
            for i in range(people):
                for vacancy_id, employer_id, booth_id in rng.sample(placed, PER_PERSON):
                    when = start + timedelta(seconds=int(rng.triangular(0, 8 * 3600, 5400)))
                    source = rng.choice(SOURCES)
                    stamp = when.isoformat(sep=" ")
                    yield (first_id + i, vacancy_id, employer_id, booth_id if source == "booth" else None,
                           source, stamp, stamp)

        db.executemany(
            "INSERT INTO intents (attendee_id, vacancy_id, employer_id, fair_id, booth_id, source, status, "
            "note, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, 'new', '', ?, ?)", rows())
        db.execute("INSERT INTO fair_attendees (fair_id, attendee_id) SELECT 1, id FROM attendees "
                   "WHERE id >= ?", (first_id,))
        # The counters, as record_intent keeps them (scope "all" and the fair's).
        new = f"FROM intents WHERE fair_id = 1 AND attendee_id >= {first_id}"
        upsert = ("INSERT INTO tallies (scope, dim, key, n) {select} "
                  "ON CONFLICT (scope, dim, key) DO UPDATE SET n = tallies.n + excluded.n")
        for scope in ("all", "fair:1"):
            for dim, key in [("intents", "''"), ("employer", "CAST(employer_id AS TEXT)"), ("source", "source"),
                             ("vacancy", "CAST(vacancy_id AS TEXT)"),
                             ("hour", "strftime('%H', created_at, '+8 hours')")]:
                db.execute(upsert.format(
                    select=f"SELECT '{scope}', '{dim}', {key}, count(*) {new} AND 1 GROUP BY {key}"))
            db.execute(upsert.format(select=(
                f"SELECT '{scope}', 'group', g.code, count(*) FROM intents i JOIN attendees a ON a.id = i.attendee_id "
                "JOIN (SELECT 'returnee' AS code UNION ALL SELECT 'graduate' UNION ALL SELECT 'poverty' "
                "UNION ALL SELECT 'difficulty' UNION ALL SELECT 'veteran') g "
                "ON (',' || a.groups || ',') LIKE '%,' || g.code || ',%' "
                f"WHERE i.fair_id = 1 AND i.attendee_id >= {first_id} AND 1 GROUP BY g.code")))
            db.execute(upsert.format(select=f"SELECT '{scope}', 'version', '', 1 WHERE 1"))
        db.execute(upsert.format(select=f"SELECT 'fair:1', 'attendees', '', {people} WHERE 1"))
    # Fold the bulk load into the database file, as a quiet moment would: readers then do not
    # wade through a write-ahead log of a million rows.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - t0


def count_query_ms(db_path: Path) -> float:
    """What the board would cost if it counted intents instead of reading counters."""
    db = sqlite3.connect(db_path, timeout=30)
    wait_for_idle("the COUNT query")
    t0 = time.perf_counter()
    db.execute("SELECT employer_id, count(*) FROM intents WHERE fair_id = 1 AND withdrawn_at IS NULL "
               "GROUP BY employer_id").fetchall()
    db.execute("SELECT count(DISTINCT attendee_id) FROM intents WHERE fair_id = 1").fetchall()
    ms = (time.perf_counter() - t0) * 1000
    db.close()
    return ms


def summary(label: str, times: list[float]) -> str:
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    return f"{label:<46} p50 {statistics.median(times):6.1f} ms   p99 {p99:6.1f} ms   max {times[-1]:6.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="each load under wrk (default 8)")
    port_options(parser)
    args = parser.parse_args()
    targets = Targets()
    path = "/manage/fairs/1/board/tally"
    with site(simulate=True, port=args.port) as s:
        cookie = login(s.base)
        shown, _ = shown_intents(s.base, cookie, path)
        print(f"demo fair: {shown} intents on the board")
        small = refresh_latency(s.base, cookie, s.db_path, path)
        print(summary("one refresh (rendered), demo size", small))

        took = add_intents(s.db_path, INTENTS)
        total = s.query("SELECT count(*) FROM intents")[0][0]
        print(f"added {INTENTS:,} intents (bulk SQL + counters) in {took:.1f} s; intents in the database: {total:,}")
        shown, etag = shown_intents(s.base, cookie, path)
        print(f"board shows {shown} intents")
        big = refresh_latency(s.base, cookie, s.db_path, path)
        print(summary(f"one refresh (rendered), {total:,} intents", big))
        print(f"{'COUNT ... GROUP BY over the intents instead':<46} {count_query_ms(s.db_path):6.1f} ms (one query pair, SQLite)")

        headers = {"Cookie": cookie, "HX-Request": "true"}
        rendered = wrk(s.url(path), duration=args.seconds, connections=16, headers=headers)
        print(rendered.line("refresh under load, rendered each time"))
        _, etag = shown_intents(s.base, cookie, path)
        unchanged = wrk(s.url(path), duration=args.seconds, connections=16,
                        headers={**headers, "If-None-Match": etag})
        print(unchanged.line("unchanged board, 304 from the version"))
    print(nginx_ceiling(duration=min(args.seconds, 5), port=args.nginx_port)
          .line("nginx 5 KB static file (ceiling)"))
    p50 = statistics.median(big)
    targets.check(f"one refresh under {TARGET_MS:.0f} ms at {INTENTS:,} intents", p50 < TARGET_MS,
                  f"p50 {p50:.1f} ms")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
