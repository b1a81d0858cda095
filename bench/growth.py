"""Flat in the size of the work: what a page costs as the data behind it grows.

Serves the demo fair as `make run` does (one gunicorn worker), then, for each series below, grows
the data straight in the site's SQLite file (bulk SQL, as a script would write it: the database's
triggers keep the search index in step) and measures each of the series' pages at each size with
wrk (16 connections): requests/s, p99, and the server's CPU per page (gunicorn's CPU time over
the requests served). Beside them, nginx serving a 5 KB static file in the same run (the
ceiling). At the end each page says whether it stayed within 2x of its cost at the smallest size.

Series (each a table: sizes, each a function that grows the data to it; pages, each a function
giving the path to load):
- fair page: the demo fair (319 vacancies), then 5,000 and 50,000 vacancies placed at it.
  Pages: no filter; a category; a one-character search (工); a two-character search (司机);
  and, for the cost of a cache miss, the one-character search with a new filter every request;
  beside them the booth page of one of its booths, as a first scan and as a known phone.
- employer list: the demo employer's list of people who signed at 1,000 and 200,000 intents
  (added in bulk SQL, as bench/employer_list.py does: seconds). Pages, as the demo employer:
  the rows fragment (the first 100 rows, rendered), and its refresh check (the 204 the SSE
  nudge and the 10 s poll get while nothing changed). Target: the fragment <= 15 ms of CPU.

Targets at the largest size of the fair page: <= 5 ms of server CPU per page and >= 500 req/s
at 16 connections, one worker; every page within 2x from smallest to largest.

    .venv/bin/python bench/growth.py [--seconds 8] [--series "fair page"] [--port P] [--nginx-port P]

Exit status: 0 targets met, 3 a target missed, 1 a crash."""
from __future__ import annotations

import argparse
import random
import re
import sqlite3
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import booth_page, employer_list  # noqa: E402
from bench.harness import (  # noqa: E402
    LoadResult,
    Site,
    Targets,
    cpu_seconds,
    nginx_ceiling,
    port_options,
    site,
    wrk,
)

CONNECTIONS = 16
FLAT = 2.0  # a page may cost at most this many times its cost at the smallest size
CPU_TARGET_MS = 5.0
RATE_TARGET = 500


@dataclass
class Page:
    label: str
    path: Callable[[Site], str]  # the path to load (the same at every size)
    script: str | None = None  # wrk Lua, for a page whose path changes per request
    targets: bool = True  # checked against CPU_TARGET_MS and RATE_TARGET at the largest size
    headers: Callable[[Site], dict] | None = None  # request headers (a login's cookie, htmx's)
    cpu_target_ms: float | None = None  # its own CPU target at the largest size, if any


@dataclass
class Size:
    label: str
    grow: Callable[[Site], None] | None  # grows the data to this size (None: as the demo made it)


@dataclass
class Series:
    name: str
    sizes: list[Size]
    pages: list[Page]
    # (page label, size label) -> (result, CPU ms per page)
    results: dict = field(default_factory=dict)


# --- the fair page ------------------------------------------------------------------------

_PREFIXES = ["", "", "熟练", "学徒", "储备", "夜班", "临时"]
_PLACES = ["高新区", "工业园区", "城南片区", "经开区", "县城", "镇上", "北城", "东区物流园"]
_COLUMNS = ("employer_id, title, category, headcount, pay_min, pay_max, location, shifts, age_min, age_max, "
            "education, meals_lodging, social_insurance, description, is_open, created_at, updated_at")


def demo_fair(s: Site) -> int:
    return s.query("SELECT fair_id FROM booths GROUP BY fair_id ORDER BY count(*) DESC LIMIT 1")[0][0]


def placed(s: Site) -> int:
    return s.query("SELECT count(*) FROM booth_vacancies bv JOIN booths b ON b.id = bv.booth_id "
                   "WHERE b.fair_id = ?", (demo_fair(s),))[0][0]


def grow_fair(target: int) -> Callable[[Site], None]:
    """Place vacancies at the demo fair's booths until it lists `target`: each booth's employer
    copies its own demo vacancies (a prefix to the title, another place), round robin. Then every
    booth of the fair is touched, as booths.service.touch_fair does, so cached pages expire."""

    def grow(s: Site) -> None:
        fair_id = demo_fair(s)
        rng = random.Random(target)
        db = sqlite3.connect(s.db_path, timeout=60)
        # One long transaction: keep its pages in memory rather than spilling them to the WAL.
        db.execute("PRAGMA cache_size = -400000")
        db.execute("PRAGMA synchronous = OFF")
        try:
            # The first booth keeps its demo vacancies: the booth page rows measure a booth of
            # the same size in a growing fair (demo_booth).
            booths = db.execute("SELECT id FROM booths WHERE fair_id = ? AND status = 'approved' ORDER BY id",
                                (fair_id,)).fetchall()[1:]
            sources = {b: [r[0] for r in db.execute(
                "SELECT vacancy_id FROM booth_vacancies WHERE booth_id = ? ORDER BY position", (b,))]
                for (b,) in booths}
            have = placed(s)
            t0 = time.monotonic()
            with db:
                i = 0
                while have < target:
                    booth = booths[i % len(booths)][0]
                    source = sources[booth][(i // len(booths)) % len(sources[booth])]
                    cur = db.execute(
                        f"INSERT INTO vacancies ({_COLUMNS}) SELECT employer_id, ? || title, category, headcount, "
                        "pay_min, pay_max, ?, shifts, age_min, age_max, education, meals_lodging, social_insurance, "
                        "description, is_open, created_at, updated_at FROM vacancies WHERE id = ?",
                        (rng.choice(_PREFIXES), rng.choice(_PLACES), source))
                    db.execute("INSERT INTO booth_vacancies (booth_id, vacancy_id, position) VALUES (?, ?, ?)",
                               (booth, cur.lastrowid, 1000 + i))
                    have, i = have + 1, i + 1
                db.execute("UPDATE booths SET version = version + 1 WHERE fair_id = ?", (fair_id,))
            print(f"  grew the demo fair to {have:,} vacancies placed in {time.monotonic() - t0:.0f} s", flush=True)
        finally:
            db.close()

    return grow


def fair_page(**args) -> Callable[[Site], str]:
    def path(s: Site) -> str:
        query = urllib.parse.urlencode(args)
        return f"/fairs/{demo_fair(s)}" + (f"?{query}" if query else "")

    return path


# Every request another filter: min_pay below the lowest pay of any vacancy (so the page still
# lists every "工" vacancy), each wrk thread counting through its own 1,500 values from a random
# start: never the same twice in a run, far more than the page cache holds.
_NEW_FILTER = """
local threads = 0
function setup(thread)
  thread:set("lo", (threads * 1500) % 3000)
  threads = threads + 1
end
function init(args)
  math.randomseed(os.time() + lo)
  n = math.random(0, 1499)
end
request = function()
  n = (n + 1) % 1500
  return wrk.format("GET", wrk.path .. "&min_pay=" .. (lo + n))
end
"""

def demo_booth(s: Site) -> tuple[str, int]:
    """A booth of the demo fair (the same at every size: the fair grows by other booths)."""
    return s.query("SELECT b.token, MIN(bv.vacancy_id) FROM booths b JOIN booth_vacancies bv "
                   "ON bv.booth_id = b.id WHERE b.fair_id = ? AND b.status = 'approved' "
                   "GROUP BY b.id ORDER BY b.id LIMIT 1", (demo_fair(s),))[0]


_known: dict[str, str] = {}


def known_phone(s: Site) -> dict:
    """A phone that signed once (bench/booth_page.py): its device cookie."""
    if s.base not in _known:
        _known[s.base] = booth_page.device_cookie(s.base, *demo_booth(s))
    return {"Cookie": _known[s.base]}


# --- the employer's list ---------------------------------------------------------------

_logins: dict[str, str] = {}


def employer_headers(s: Site) -> dict:
    """The demo employer's session (logged in once per site), as htmx asks for the rows."""
    if s.base not in _logins:
        _logins[s.base] = employer_list.login(s.base)
    return {"Cookie": _logins[s.base], "HX-Request": "true"}


def demo_employer(s: Site) -> int:
    return s.query("SELECT employer_id FROM users WHERE login = ?", (employer_list.LOGIN,))[0][0]


def grow_intents(target: int) -> Callable[[Site], None]:
    """Add intents for the demo employer (bulk SQL, bench/employer_list.py) until it has `target`."""

    def grow(s: Site) -> None:
        employer_id = demo_employer(s)
        have = s.query("SELECT count(*) FROM intents WHERE employer_id = ?", (employer_id,))[0][0]
        if target > have:
            employer_list.add_intents(s.db_path, employer_id, target - have)

    return grow


def refresh_check(s: Site) -> str:
    """The rows' URL with the version the list shows now: the 204 the SSE nudge and the 10 s
    poll get while nothing changed."""
    status, body = employer_list.get(s.base, "/employer/intents/rows", employer_headers(s)["Cookie"],
                                     **{"HX-Request": "true"})
    assert status == 200, status
    return "/employer/intents/rows?v=" + re.search(rb'/employer/intents/rows\?v=([^&"]+)', body).group(1).decode()


SERIES = [
    Series(
        "fair page",
        sizes=[Size("demo, 319 vacancies", None), Size("5,000 vacancies", grow_fair(5_000)),
               Size("50,000 vacancies", grow_fair(50_000))],
        pages=[
            Page("no filter", fair_page()),
            Page("category 司机/物流", fair_page(category="driver")),
            Page("search 1 character 工", fair_page(q="工")),
            Page("search 2 characters 司机", fair_page(q="司机")),
            Page("search 工, a new filter each time", fair_page(q="工"), _NEW_FILTER, targets=False),
            Page("booth page, first scan", lambda s: f"/q/{demo_booth(s)[0]}", targets=False),
            Page("booth page, a known phone", lambda s: f"/q/{demo_booth(s)[0]}", targets=False,
                 headers=known_phone),
        ],
    ),
    Series(
        "employer list",
        sizes=[Size("1,000 intents", grow_intents(1_000)), Size("200,000 intents", grow_intents(200_000))],
        pages=[
            Page("rows fragment (100 rows)", lambda s: "/employer/intents/rows", targets=False,
                 headers=employer_headers, cpu_target_ms=15.0),
            Page("refresh check, unchanged (204)", refresh_check, targets=False, headers=employer_headers),
        ],
    ),
]


# --- measuring -------------------------------------------------------------------------------

def measure(s: Site, page: Page, seconds: float) -> tuple[LoadResult, float]:
    url = s.url(page.path(s))
    headers = page.headers(s) if page.headers else None
    wrk(url, duration=1, connections=4, script=page.script, headers=headers, idle=False)  # warm the caches
    cpu0 = cpu_seconds(s.proc.pid)
    result = wrk(url, duration=seconds, connections=CONNECTIONS, script=page.script, headers=headers)
    cpu_ms = (cpu_seconds(s.proc.pid) - cpu0) / max(result.requests, 1) * 1000
    return result, cpu_ms


def run_series(series: Series, args, targets: Targets) -> None:
    with site(env={"FAIRSITE_WORKERS": "1"}, port=args.port) as s:
        for size in series.sizes:
            if size.grow:
                size.grow(s)
            print(f"{series.name}, {size.label}:", flush=True)
            for page in series.pages:
                result, cpu_ms = measure(s, page, args.seconds)
                series.results[page.label, size.label] = (result, cpu_ms)
                print(f"  {result.line(page.label)}   CPU {cpu_ms:5.2f} ms/page", flush=True)
                targets.require(f"{series.name} {page.label} at {size.label}: no errors",
                                result.errors == 0, f"{result.errors} errors")


def report(series: Series, ceiling: LoadResult, targets: Targets) -> None:
    first, last = series.sizes[0].label, series.sizes[-1].label
    print(f"\n{series.name}: {first} -> {last} (16 connections, one worker; nginx {ceiling.rate:,.0f} req/s)")
    print(f"  {'page':<36} {'req/s':>17} {'p99 ms':>15} {'CPU ms/page':>15}  within {FLAT:g}x")
    for page in series.pages:
        (small, small_cpu), (large, large_cpu) = series.results[page.label, first], series.results[page.label, last]
        flat = large_cpu <= FLAT * small_cpu and large.rate * FLAT >= small.rate
        print(f"  {page.label:<36} {small.rate:7,.0f} -> {large.rate:7,.0f} {small.p99_ms:6.1f} -> {large.p99_ms:6.1f} "
              f"{small_cpu:6.2f} -> {large_cpu:6.2f}  {'yes' if flat else 'NO'}")
        targets.check(f"{series.name} {page.label}: within {FLAT:g}x from {first} to {last}", flat,
                      f"CPU {small_cpu:.2f} -> {large_cpu:.2f} ms/page, {small.rate:,.0f} -> {large.rate:,.0f} req/s")
        if page.cpu_target_ms is not None:
            targets.check(f"{series.name} {page.label} at {last}: <= {page.cpu_target_ms:g} ms CPU per request",
                          large_cpu <= page.cpu_target_ms, f"{large_cpu:.2f} ms")
        if page.targets:
            targets.check(f"{series.name} {page.label} at {last}: <= {CPU_TARGET_MS:g} ms CPU per page",
                          large_cpu <= CPU_TARGET_MS, f"{large_cpu:.2f} ms")
            targets.check(f"{series.name} {page.label} at {last}: >= {RATE_TARGET} req/s at {CONNECTIONS} connections",
                          large.rate >= RATE_TARGET, f"{large.rate:,.0f} req/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="each measured wrk run (default 8)")
    parser.add_argument("--series", action="append", choices=[s.name for s in SERIES],
                        help="run only this series (repeatable; default: all)")
    port_options(parser)
    args = parser.parse_args()
    targets = Targets()
    ceiling = nginx_ceiling(duration=min(args.seconds, 5), port=args.nginx_port)
    print(ceiling.line("nginx 5 KB static file (ceiling)"), flush=True)
    chosen = [s for s in SERIES if not args.series or s.name in args.series]
    for series in chosen:
        run_series(series, args, targets)
    for series in chosen:
        report(series, ceiling, targets)
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
