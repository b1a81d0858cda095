"""Benchmark the attendee's two hot paths on the site as `make run` serves it (gunicorn,
SQLite at synchronous=FULL, the demo fair), driven from other processes on 127.0.0.1:

1. the booth page a QR code opens (/q/<token>) under 64 concurrent clients (wrk): requests/s,
   p50 and p99 latency;
2. signing intents by distinct attendees (first-time form, each a new phone number) under 64
   concurrent clients (a Python load generator that lets every request in flight finish):
   signings/s, p99, and then the proof that the number of new intent rows equals the number of
   confirmed responses (none lost, none doubled).

Beside them, the rate of a 5 KB static file served by nginx in the same run (the ceiling).
The booth page is measured three ways: a first scan as wrk sends it (no cookie, no
Accept-Encoding), the same as a phone asks (brotli, zh-CN), and a known phone (device cookie:
its own page, through Flask). Targets on a 2-core machine: the first scan >= 3% of nginx's rate in
the same run with p99 <= 60 ms; signing >= 500/s with
p99 <= 200 ms, zero lost, zero doubled.

    .venv/bin/python bench/booth_page.py [--seconds 10] [--workers N] [--port P] [--nginx-port P]

Exit status: 0 targets met, 3 a target missed, 1 a request lost or doubled (or a crash).

The per-IP intent limit is raised through its ordinary setting (FAIRSITE_INTENT_LIMIT_PER_IP),
since every simulated attendee comes from 127.0.0.1; the per-phone and per-device limits stay.
"""
from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    Request,
    Targets,
    cpu_seconds,
    csrf_session,
    nginx_ceiling,
    port_options,
    python_load,
    site,
    wrk,
)


def device_cookie(base: str, token: str, vacancy_id: int) -> str:
    """Sign once with the short form, as a new phone: the Cookie header it then sends."""
    cookie, csrf = csrf_session(base, f"/intents/sign?vacancy_id={vacancy_id}&booth={token}")
    body = urllib.parse.urlencode({
        "csrf_token": csrf, "vacancy_id": vacancy_id, "booth": token, "step": "form",
        "name": "压测已知", "phone": "13700000001", "consent": "y"}).encode()
    request = urllib.request.Request(base + "/intents/sign", body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None  # the 303 itself carries the cookie

    try:
        urllib.request.build_opener(Stay).open(request, timeout=10)
    except urllib.error.HTTPError as answer:  # the 303, unfollowed
        cookies = [c.split(";", 1)[0] for c in answer.headers.get_all("Set-Cookie") or []]
    else:
        raise RuntimeError("signing did not answer 303")
    return "; ".join([cookie, *cookies])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (FAIRSITE_WORKERS); default: as gunicorn.conf.py")
    port_options(parser)
    args = parser.parse_args()
    targets = Targets()
    env = {"FAIRSITE_INTENT_LIMIT_PER_IP": "100000000 per hour"}
    if args.workers:
        env["FAIRSITE_WORKERS"] = str(args.workers)

    ceiling = nginx_ceiling(duration=min(args.seconds, 5), connections=args.connections,
                            port=args.nginx_port)
    with site(env=env, port=args.port) as s:
        # A typical booth of the demo fair: the one with the median number of vacancies.
        booths = s.query(
            "SELECT b.token, COUNT(bv.vacancy_id) AS n, MIN(bv.vacancy_id) FROM booths b "
            "JOIN booth_vacancies bv ON bv.booth_id = b.id WHERE b.status = 'approved' "
            "GROUP BY b.id ORDER BY n, b.id"
        )
        token, n_vacancies, vacancy_id = booths[len(booths) // 2]
        page = s.url(f"/q/{token}")
        wrk(page, duration=2, connections=8, idle=False)  # warm the page cache and the connections
        cpu0 = cpu_seconds(s.proc.pid)
        booth = wrk(page, duration=args.seconds, connections=args.connections)
        booth_cpu = (cpu_seconds(s.proc.pid) - cpu0) / max(booth.requests, 1) * 1000
        # What a phone sends: the same first scan, compressed (brotli, encoded once per version).
        cpu0 = cpu_seconds(s.proc.pid)
        phone = wrk(page, duration=args.seconds, connections=args.connections,
                    headers={"Accept-Encoding": "gzip, deflate, br", "Accept-Language": "zh-CN,zh;q=0.9"})
        phone_cpu = (cpu_seconds(s.proc.pid) - cpu0) / max(phone.requests, 1) * 1000
        # A known phone (device cookie): its own page through Flask (token, keys, signed marks).
        known_cookie = device_cookie(s.base, token, vacancy_id)
        cpu0 = cpu_seconds(s.proc.pid)
        known = wrk(page, duration=args.seconds, connections=args.connections,
                    headers={"Cookie": known_cookie})
        known_cpu = (cpu_seconds(s.proc.pid) - cpu0) / max(known.requests, 1) * 1000

        # The booth page of a first scan has no token: the short form it opens has.
        cookie, csrf = csrf_session(s.base, f"/intents/sign?vacancy_id={vacancy_id}&booth={token}")
        before = s.query("SELECT COUNT(*) FROM intents")[0][0]
        path = "/intents/sign"

        def signing(client: int, seq: int) -> Request:
            phone = f"139{client:02d}{seq:06d}"
            body = urllib.parse.urlencode({
                "csrf_token": csrf, "vacancy_id": vacancy_id, "booth": token, "step": "form",
                "name": f"压测{client}-{seq}", "phone": phone, "consent": "y", "groups": "returnee",
            }).encode()
            return Request("POST", path, body, {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
            })

        cpu0 = cpu_seconds(s.proc.pid)
        signed = python_load(s.base, signing, duration=args.seconds, concurrency=args.connections,
                             label="signing intents")
        sign_cpu = (cpu_seconds(s.proc.pid) - cpu0) / max(signed.requests, 1) * 1000
        confirmed = signed.statuses.get(303, 0)
        after = s.query("SELECT COUNT(*) FROM intents")[0][0]
        rows = after - before
        doubled = s.query(
            "SELECT COUNT(*) FROM (SELECT attendee_id, vacancy_id FROM intents "
            "GROUP BY attendee_id, vacancy_id HAVING COUNT(*) > 1)"
        )[0][0]
        tally = s.query("SELECT n FROM tallies WHERE scope = 'all' AND dim = 'intents' AND key = ''")
        workers = env.get("FAIRSITE_WORKERS", "as gunicorn.conf.py")

    print(f"fairsite booth page and signing, {args.connections} concurrent clients, "
          f"{args.seconds:g} s each, gunicorn workers: {workers}")
    print(ceiling.line("nginx 5 KB static file (ceiling)"))
    print(booth.line(f"booth page /q/<token> ({n_vacancies} vacancies)"))
    print(f"  server CPU {booth_cpu:.2f} ms per page: {1000 / booth_cpu:,.0f} pages/s per free core")
    print(phone.line("  the same, as a phone asks (br, zh-CN)"))
    print(f"  server CPU {phone_cpu:.2f} ms per page")
    print(known.line("  a known phone (device cookie, Flask)"))
    print(f"  server CPU {known_cpu:.2f} ms per page")
    print(signed.line("signing intent (first-time form)").replace("req/s", "signings/s"))
    print(f"  server CPU {sign_cpu:.2f} ms per signing: {1000 / sign_cpu:,.0f} signings/s per free core")
    print(f"  responses: {dict(sorted(signed.statuses.items()))}, transport errors "
          f"{signed.errors - sum(v for k, v in signed.statuses.items() if k >= 400)}")
    lost = max(0, confirmed - rows)
    extra = max(0, rows - confirmed)
    print(f"  confirmed (303) {confirmed}  new intent rows {rows}  lost {lost}  "
          f"unconfirmed rows {extra}  doubled {doubled}  tally 'all/intents' {tally[0][0] if tally else 0}")
    print(f"  booth page: {booth.rate / ceiling.rate:.1%} of the ceiling")
    targets.check("booth page >= 3% of nginx's rate", booth.rate >= 0.03 * ceiling.rate,
                  f"{booth.rate:,.0f} req/s, {booth.rate / ceiling.rate:.1%}")
    targets.check("booth page p99 <= 60 ms", booth.p99_ms <= 60, f"{booth.p99_ms:.1f} ms")
    targets.check("signing >= 500/s (SQLite synchronous=FULL)", signed.rate >= 500,
                  f"{signed.rate:,.0f}/s")
    targets.check("signing p99 <= 200 ms", signed.p99_ms <= 200, f"{signed.p99_ms:.1f} ms")
    targets.require("zero lost, zero doubled", rows == confirmed and doubled == 0,
                    f"lost {lost}, unconfirmed rows {extra}, doubled {doubled}")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
