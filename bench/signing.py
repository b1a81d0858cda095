"""Benchmark signing intents under wrk on the site as `make run` serves it (gunicorn, one gevent
worker, SQLite at synchronous=FULL, the demo fair), every request a new phone:

1. signing at 64 connections for --seconds: a wrk Lua script (written to a temporary file)
   POSTs the first-time sign form of one booth vacancy with a fresh phone number and a fresh
   idempotency key per request (a counter per wrk thread, distinct across threads), using one
   session cookie and CSRF token fetched first. Its `response` callback counts the 303
   confirmations and anything else, and `done` reports them per thread; the new intent rows
   are then compared with them: none lost (every confirmed signing has its row), none doubled
   (one intent per phone, the counters equal to the rows).
2. the crowd step: --phones (default 50,000) distinct phones signed in the same worker, the
   same script with each wrk thread stopping after its share; the rate of each successive
   10,000 is read from the intents' own created_at (the server's clock, not the load's), to
   show that signing does not slow down as the phones pile up.

Beside them, nginx serving a 5 KB file in the same run (the ceiling), and signing as a multiple
of pretix's check-in redeem as issue #14 measured it (0.034 % of nginx's rate in its run, with
the same wrk settings; pretix is not rerun here).

Targets on a 2-core machine: signing >= 600/s with p99 <= 200 ms, >= 15x pretix's share of the
ceiling (>= 0.51 % of nginx); the last 10,000 phones signed at least 1/1.3 of the first
10,000's rate. None lost, none doubled (a failure, not a missed target).

    .venv/bin/python bench/signing.py [--seconds 5] [--phones 50000] [--port P] [--nginx-port P]

The per-IP intent limit is raised through its ordinary setting (FAIRSITE_INTENT_LIMIT_PER_IP),
since every simulated attendee comes from 127.0.0.1; the per-phone and per-device limits stay.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    WRK,
    LoadResult,
    Targets,
    _require,
    cpu_seconds,
    csrf_session,
    nginx_ceiling,
    parse_wrk,
    port_options,
    site,
    wait_for_idle,
    wrk,
)

# Issue #14's run: pretix's check-in redeem at 28.8/s, 0.034 % of nginx's rate, same wrk settings.
PRETIX_SHARE = 0.00034
THREADS = 2
STEP = 10_000

# %(...)s are filled in by Python; everything else is Lua. Phone: "1" + the run's digit + the
# thread's digit + 50,000,000 + a counter: distinct across threads and across this script's runs,
# and never one of the demo's numbers (their last eight digits are below 50,000,000 or 90,000,000
# and up).
_LUA = r"""
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  sent, confirmed, other, quota = 0, 0, 0, %(quota)d
end

function request()
  sent = sent + 1
  local phone = string.format("1%(run)d%%d%%08d", id, 50000000 + sent)
  local body = "%(fixed)s&phone=" .. phone .. "&name=wrk%(run)d-" .. id .. "-" .. sent
    .. "&sign_key=wrk%(run)d-" .. id .. "-" .. string.format("%%012d", sent)
  return wrk.format("POST", "/intents/sign", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "%(cookie)s",
  }, body)
end

function response(status, headers, body)
  if status == 303 then confirmed = confirmed + 1 else other = other + 1 end
  if quota > 0 and confirmed + other >= quota then wrk.thread:stop() end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("SIGNED thread %%d sent %%d confirmed %%d other %%d\n",
      t:get("id"), t:get("sent"), t:get("confirmed"), t:get("other")))
  end
end
"""


def lua_script(run: int, fixed: str, cookie: str, quota: int = 0) -> str:
    """The wrk script: `fixed` is the url-encoded part of the form every request shares;
    `quota` > 0 stops each thread after that many responses."""
    return _LUA % {"run": run, "fixed": fixed, "cookie": cookie.replace('"', '\\"'), "quota": quota}


def counted(raw: str) -> tuple[int, int, int]:
    """(sent, confirmed 303, other answers) summed over the script's per-thread lines."""
    rows = [tuple(map(int, m)) for m in
            re.findall(r"^SIGNED thread \d+ sent (\d+) confirmed (\d+) other (\d+)$", raw, re.M)]
    if not rows:
        raise RuntimeError("the wrk script reported nothing:\n" + raw)
    return tuple(sum(col) for col in zip(*rows, strict=True))  # type: ignore[return-value]


def settled(s) -> int:
    """The last intent id, once no signing is still being written (wrk stops with requests in
    flight: the server finishes them after wrk has gone)."""
    last = -1
    while True:
        now = s.query("SELECT COALESCE(MAX(id), 0) FROM intents")[0][0]
        if now == last:
            return now
        last = now
        time.sleep(0.5)


def check_run(s, targets: Targets, label: str, run: int, after_id: int, sent: int, confirmed: int,
              other: int) -> int:
    """None lost, none doubled for the intents signed since `after_id`; prints and returns
    their number. Read in one snapshot, once the server has finished what was in flight."""
    settled(s)
    with sqlite3.connect(s.db_path, timeout=30) as conn:
        conn.execute("BEGIN")
        one = lambda sql, *p: conn.execute(sql, p).fetchone()[0]  # noqa: E731
        rows = one("SELECT COUNT(*) FROM intents WHERE id > ?", after_id)
        # Every new intent is a new person of this run (a fresh phone, one intent each).
        strangers = one("SELECT COUNT(*) FROM intents i JOIN attendees a ON a.id = i.attendee_id "
                        "WHERE i.id > ? AND a.name NOT LIKE ?", after_id, f"wrk{run}-%")
        doubled = one("SELECT COUNT(*) FROM (SELECT attendee_id FROM intents WHERE id > ? "
                      "GROUP BY attendee_id HAVING COUNT(*) > 1)", after_id)
        total = one("SELECT COUNT(*) FROM intents WHERE withdrawn_at IS NULL")
        tally = one("SELECT COALESCE(MAX(n), 0) FROM tallies WHERE scope = 'all' "
                    "AND dim = 'intents' AND key = ''")
        conn.execute("COMMIT")
    lost = max(0, confirmed - rows)
    # Requests still in flight when wrk stopped are signed without wrk seeing the answer.
    print(f"  {label}: sent {sent}  confirmed (303) {confirmed}  other answers {other}  "
          f"new intent rows {rows}  lost {lost}  signed in flight {max(0, rows - confirmed)}  "
          f"doubled {doubled}  tally 'all/intents' {tally} (active intents {total})")
    targets.require(f"{label}: none lost, none doubled, every answer a confirmation",
                    lost == 0 and doubled == 0 and strangers == 0 and other == 0 and rows <= sent
                    and tally == total,
                    f"lost {lost}, doubled {doubled}, not this run's {strangers}, other answers "
                    f"{other}, tally {tally} vs {total} active")
    return rows


def step_rates(s, after_id: int, step: int = STEP) -> list[float]:
    """Signings per second of each successive `step` of the intents since `after_id`, by the
    server's own clock (their created_at)."""
    stamps = [datetime.fromisoformat(r[0]) for r in s.query(
        "SELECT created_at FROM intents WHERE id > ? ORDER BY id", (after_id,))]
    rates = []
    for start in range(0, len(stamps) - step + 1, step):
        seconds = (stamps[start + step - 1] - stamps[start]).total_seconds()
        rates.append((step - 1) / seconds if seconds > 0 else float("inf"))
    return rates


def wrk_until(url: str, script: str, signed: Callable[[], int], want: int, connections: int,
              label: str) -> LoadResult:
    """wrk until `signed()` reaches `want` (or stops moving for 15 s), then stopped with SIGINT,
    on which wrk prints its figures and runs the script's `done`. (wrk itself always waits out
    its duration, even after every thread stopped.)"""
    _require(WRK, "wrk")
    wait_for_idle(label)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cmd = [WRK, "--latency", "-t", str(THREADS), "-c", str(connections), "-d", "3600s",
           "--timeout", "5s", "-s", f.name, url]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        last, moved = -1, time.monotonic()
        while proc.poll() is None:
            time.sleep(0.5)
            now = signed()
            if now != last:
                last, moved = now, time.monotonic()
            if now >= want or time.monotonic() - moved > 15:
                proc.send_signal(signal.SIGINT)
                break
        out = proc.communicate(timeout=60)[0]
    finally:
        os.unlink(f.name)
    result = parse_wrk(out)
    result.raw = out  # type: ignore[attr-defined]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--phones", type=int, default=50_000,
                        help="distinct phones signed in the crowd step (0 skips it)")
    port_options(parser)
    args = parser.parse_args()
    targets = Targets()
    env = {"FAIRSITE_INTENT_LIMIT_PER_IP": "100000000 per hour", "FAIRSITE_WORKERS": "1"}

    ceiling = nginx_ceiling(duration=min(args.seconds, 5), connections=args.connections,
                            threads=THREADS, port=args.nginx_port)
    with site(env=env, port=args.port) as s:
        booths = s.query(
            "SELECT b.token, COUNT(bv.vacancy_id) AS n, MIN(bv.vacancy_id) FROM booths b "
            "JOIN booth_vacancies bv ON bv.booth_id = b.id WHERE b.status = 'approved' "
            "GROUP BY b.id ORDER BY n, b.id"
        )
        token, _n, vacancy_id = booths[len(booths) // 2]
        place = f"vacancy_id={vacancy_id}&booth={token}"
        # The first-time form itself: its session cookie and CSRF token serve every request.
        cookie, csrf = csrf_session(s.base, f"/intents/sign?{place}")
        fixed = place + "&" + urllib.parse.urlencode({
            "csrf_token": csrf, "step": "form", "consent": "y", "groups": "returnee"})
        url = s.url("/intents/sign")

        # Warm-up (not measured): the worker's imports, caches and connections.
        warm = wrk(url, duration=1, connections=8, threads=THREADS, idle=False,
                   script=lua_script(7, fixed, cookie))
        start_id = settled(s)
        cpu0 = cpu_seconds(s.proc.pid)
        signed = wrk(url, duration=args.seconds, connections=args.connections, threads=THREADS,
                     script=lua_script(3, fixed, cookie))
        sent, confirmed, other = counted(signed.raw)  # type: ignore[attr-defined]
        sign_cpu = (cpu_seconds(s.proc.pid) - cpu0) / max(confirmed, 1) * 1000
        rate = confirmed / signed.seconds
        print(f"fairsite signing under wrk: {args.connections} connections, {THREADS} threads, "
              f"{args.seconds:g} s, one gunicorn worker, SQLite synchronous=FULL")
        print(ceiling.line("nginx 5 KB static file (ceiling)"))
        print(signed.line("signing (first-time form, new phone)").replace("req/s", "signings/s"))
        print(f"  server CPU {sign_cpu:.2f} ms per signing: {1000 / sign_cpu:,.0f} signings/s per free core"
              f"  (warm-up {counted(warm.raw)[1]} signings before)")  # type: ignore[attr-defined]
        check_run(s, targets, "signing", 3, start_id, sent, confirmed, other)
        share = rate / ceiling.rate
        print(f"  signing = {share:.3%} of nginx's rate = {share / PRETIX_SHARE:.1f}x pretix's redeem "
              f"(pretix: 0.034 % of nginx, issue #14's figure, not rerun here)")
        targets.check("signing >= 600/s (SQLite synchronous=FULL)", rate >= 600, f"{rate:,.0f}/s")
        targets.check("signing p99 <= 200 ms", signed.p99_ms <= 200, f"{signed.p99_ms:.1f} ms")
        targets.check("signing >= 15x pretix's redeem (>= 0.51% of nginx)", share >= 15 * PRETIX_SHARE,
                      f"{share / PRETIX_SHARE:.1f}x")

        if args.phones:
            quota = -(-args.phones // THREADS)
            start_id = settled(s)
            cpu0 = cpu_seconds(s.proc.pid)
            crowd = wrk_until(
                url, lua_script(5, fixed, cookie, quota=quota), connections=args.connections,
                signed=lambda: s.query("SELECT COALESCE(MAX(id), 0) FROM intents")[0][0] - start_id,
                want=quota * THREADS, label="the crowd step")
            sent, confirmed, other = counted(crowd.raw)  # type: ignore[attr-defined]
            crowd_cpu = (cpu_seconds(s.proc.pid) - cpu0) / max(confirmed, 1) * 1000
            print(f"crowd step: {quota * THREADS:,} distinct phones in one worker, "
                  f"{args.connections} connections: {confirmed / crowd.seconds:,.0f} signings/s, "
                  f"p99 {crowd.p99_ms:.1f} ms, server CPU {crowd_cpu:.2f} ms per signing")
            check_run(s, targets, "crowd step", 5, start_id, sent, confirmed, other)
            step = min(STEP, max(1, confirmed // 5))
            rates = step_rates(s, start_id, step)
            for i, r in enumerate(rates):
                print(f"  phones {i * step + 1:>6,}-{(i + 1) * step:<6,} {r:8,.0f} signings/s")
            if len(rates) >= 2:
                ratio = rates[0] / rates[-1]
                targets.check(f"the last {step:,} phones within 1.3x of the first {step:,}'s rate",
                              ratio <= 1.3, f"first/last = {ratio:.2f}")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
