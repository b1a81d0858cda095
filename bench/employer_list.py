"""The employer's list of people who signed, at a big employer's size: what the list, its
live refresh and the exports cost.

Serves the demo fair as `make run` does (with the simulated day), adds EXTRA intents for the demo
employer straight into the database, logs in as the demo employer and measures:

- the rows fragment (first 100 rows, filters off), every request rendered: sequential latency
  and rate under load (wrk);
- the refresh check that SSE nudges and the 10 s poll make when nothing changed (204 from one
  aggregate query): rate under load (wrk);
- the CSV export (streamed in batches) and the xlsx export (write-only workbook in a temp file)
  of every row: time, size, and the worker's peak memory before and after;
- nginx serving a 5 KB static file in the same run: the machine's ceiling.

Loads target 127.0.0.1 only and stop by themselves. No targets: it prints figures only (exit
status 0, or 1 on a crash).

    .venv/bin/python bench/employer_list.py [EXTRA] [--seconds 8] [--port P] [--nginx-port P]
                                          # EXTRA defaults to 20,000"""
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
from datetime import datetime, timedelta
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

EXTRA = 20_000
LOGIN, PASSWORD = "hr@demo.fairsite.cn", "demo-employer"


def connect(base: str) -> http.client.HTTPConnection:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    assert host == "127.0.0.1"
    return http.client.HTTPConnection(host, int(port), timeout=120)


def login(base: str) -> str:
    cookie, token = csrf_session(base, "/login")
    conn = connect(base)
    body = urllib.parse.urlencode({"csrf_token": token, "login": LOGIN, "password": PASSWORD})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 303, resp.status
    cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []]
    jar = dict(c.split("=", 1) for c in (cookie.split("; ") + cookies) if c)
    # Login starts a new session (and CSRF token): one page view stores the new token in it.
    conn = connect(base)
    conn.request("GET", "/employer", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    resp = conn.getresponse()
    resp.read()
    jar.update(c.split(";", 1)[0].split("=", 1) for c in resp.headers.get_all("Set-Cookie") or [])
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def add_intents(db_path: Path, employer_id: int, n: int) -> None:
    """n attendees, each signing one of the employer's placed vacancies at its booth."""
    rng = random.Random(4)
    db = sqlite3.connect(db_path, timeout=60)
    booth_id, fair_id = db.execute(
        "SELECT id, fair_id FROM booths WHERE employer_id = ? AND status = 'approved'", (employer_id,)
    ).fetchone()
    vacancy_ids = [r[0] for r in db.execute(
        "SELECT vacancy_id FROM booth_vacancies WHERE booth_id = ?", (booth_id,))]
    start = datetime(2026, 3, 3, 0, 30)
    groups = ["returnee", "returnee,poverty", "graduate", "", "", "difficulty"]
    with db:
        for i in range(n):
            when = start + timedelta(seconds=i)
            cur = db.execute(
                "INSERT INTO attendees (name, phone, groups, hometown, consent_version, consent_at, "
                "consent_method, created_at) VALUES (?, ?, ?, '', 'bench', ?, 'self', ?)",
                (f"求职者{i}", f"177{i + 10_000_000:08d}", rng.choice(groups), when, when),
            )
            db.execute(
                "INSERT INTO intents (attendee_id, vacancy_id, employer_id, fair_id, booth_id, source, "
                "status, note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'booth', 'new', '', ?, ?)",
                (cur.lastrowid, rng.choice(vacancy_ids), employer_id, fair_id, booth_id, when, when),
            )
    db.close()


def worker_peak_kb(master_pid: int) -> int:
    """The highest peak resident size (VmHWM) among the gunicorn master's workers."""
    peak = 0
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak


def get(base: str, path: str, cookie: str, **headers) -> tuple[int, bytes]:
    conn = connect(base)
    conn.request("GET", path, headers={"Cookie": cookie, **headers})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def export(base: str, cookie: str, token: str, fmt: str) -> tuple[float, int]:
    wait_for_idle(f"the {fmt} export")
    conn = connect(base)
    body = urllib.parse.urlencode({"csrf_token": token, "format": fmt})
    t0 = time.perf_counter()
    conn.request("POST", "/employer/intents/export", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    resp = conn.getresponse()
    data = resp.read()
    seconds = time.perf_counter() - t0
    conn.close()
    assert resp.status == 200, (resp.status, data[:300])
    return seconds, len(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("extra", type=int, nargs="?", default=EXTRA,
                        help=f"intents to add for the demo employer (default {EXTRA:,})")
    parser.add_argument("--seconds", type=float, default=8, help="each load under wrk (default 8)")
    port_options(parser)
    args = parser.parse_args()
    extra = args.extra
    with site(simulate=True, port=args.port) as s:
        employer_id = s.query("SELECT employer_id FROM users WHERE login = ?", (LOGIN,))[0][0]
        before = s.query("SELECT count(*) FROM intents WHERE employer_id = ?", (employer_id,))[0][0]
        add_intents(s.db_path, employer_id, extra)
        rows = before + extra
        cookie = login(s.base)
        status, page = get(s.base, "/employer/intents", cookie)
        assert status == 200
        token = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
        version = re.search(rb'/employer/intents/rows\?v=([^&"]+)', page).group(1).decode()

        print(f"fairsite employer list bench: demo employer with {rows:,} intents")
        times = []
        wait_for_idle("sequential rows fragments")
        for _ in range(50):
            t0 = time.perf_counter()
            status, body = get(s.base, "/employer/intents/rows", cookie, **{"HX-Request": "true"})
            times.append((time.perf_counter() - t0) * 1000)
            assert status == 200 and body.count(b'class="intent-row') == 100
        print(f"{'rows fragment (100 of ' + format(rows, ',') + '), sequential':<38} "
              f"p50 {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms")
        headers = {"Cookie": cookie, "HX-Request": "true"}
        print(wrk(s.url("/employer/intents/rows"), duration=args.seconds, connections=16, headers=headers)
              .line("rows fragment, rendered (wrk)"))
        status, _ = get(s.base, f"/employer/intents/rows?v={version}", cookie, **{"HX-Request": "true"})
        assert status == 204, status
        print(wrk(s.url(f"/employer/intents/rows?v={version}"), duration=args.seconds, connections=64,
                  headers=headers)
              .line("refresh check, unchanged (204)"))

        peak0 = worker_peak_kb(s.proc.pid)
        seconds, size = export(s.base, cookie, token, "csv")
        peak1 = worker_peak_kb(s.proc.pid)
        print(f"{'CSV export, streamed':<38} {rows:,} rows in {seconds:5.2f} s "
              f"({rows / seconds:,.0f} rows/s), {size / 1e6:.1f} MB; worker peak RSS "
              f"{peak0 / 1024:.0f} -> {peak1 / 1024:.0f} MB")
        seconds, size = export(s.base, cookie, token, "xlsx")
        peak2 = worker_peak_kb(s.proc.pid)
        print(f"{'xlsx export, write-only':<38} {rows:,} rows in {seconds:5.2f} s "
              f"({rows / seconds:,.0f} rows/s), {size / 1e6:.1f} MB; worker peak RSS "
              f"{peak1 / 1024:.0f} -> {peak2 / 1024:.0f} MB")
    print(nginx_ceiling(duration=min(args.seconds, 5), port=args.nginx_port)
          .line("nginx 5 KB static (ceiling)"))
    return Targets().finish()


if __name__ == "__main__":
    sys.exit(main())
