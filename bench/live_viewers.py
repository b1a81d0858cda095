"""How many live viewers one gunicorn (gevent) worker holds, at what memory each, and how fast
"now presenting" reaches all of them.

Starts the demo site as `make run` does (one worker, SQLite, in-process pub/sub), starts the
demo live session, then a client in a separate process (asyncio, raw sockets to 127.0.0.1)
opens VIEWERS viewer streams (/live/1/events). It reports the worker's resident memory per
open stream, then moves "now presenting" on ROUNDS times and measures, for each viewer, the
time from the host's request to the new card arriving.

    .venv/bin/python bench/live_viewers.py            # 10,000 viewers, 3 rounds
    VIEWERS=2000 ROUNDS=2 .venv/bin/python bench/live_viewers.py
    WORKERS=2 REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/live_viewers.py
                                                       # two workers, events through Redis
    .venv/bin/python bench/live_viewers.py --viewers 2000 --rounds 2 --port 8100
                                                       # the same settings as options

Targets: every viewer connected, at <= 30 KB of worker memory per stream; in every round the new
card reaches every viewer within 1 s, median <= 500 ms. Exit status: 0 met, 3 missed, 1 a crash.

Bounded: connecting gives up after 180 s, each round after 10 s; everything stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    Targets,
    csrf_session,
    nginx_ceiling,
    port_options,
    site,
    wait_for_idle,
)

SESSION_ID = 1


def raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, want), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


# --- the client process -------------------------------------------------------------------------

async def run_client(port: int, n: int) -> None:
    raise_nofile(n + 200)
    request = (f"GET /live/{SESSION_ID}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    armed = [False]
    arrivals: list[float | None] = [None] * n
    got = [0]
    all_in = asyncio.Event()
    connected = [0]
    failed = [0]
    gate = asyncio.Semaphore(400)  # handshakes in flight; the listen backlog is 2,048
    writers = []

    async def viewer(i: int) -> None:
        try:
            async with gate:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port, limit=1 << 20), 60)
                writers.append(writer)
                writer.write(request)
                await asyncio.wait_for(reader.readuntil(b": connected"), 60)
            connected[0] += 1
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    return
                if armed[0] and arrivals[i] is None and b"event: card" in data:
                    arrivals[i] = time.monotonic()
                    got[0] += 1
                    if got[0] == n:
                        all_in.set()
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            failed[0] += 1

    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    tasks = [asyncio.create_task(viewer(i)) for i in range(n)]
    while connected[0] + failed[0] < n and time.monotonic() - t0 < 180:
        await asyncio.sleep(0.2)
    print(f"ready {connected[0]} {failed[0]} {time.monotonic() - t0:.1f}", flush=True)
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "arm":
            for i in range(n):
                arrivals[i] = None
            got[0] = 0
            all_in.clear()
            armed[0] = True
            print("armed", flush=True)
            # The host request follows; wait for every viewer or 10 s.
            try:
                await asyncio.wait_for(all_in.wait(), 10)
            except TimeoutError:
                pass
            armed[0] = False
            print("arrivals " + json.dumps([a for a in arrivals if a is not None]), flush=True)
        else:
            break
    for w in writers:
        w.close()
    for t in tasks:
        t.cancel()


# --- the driver ------------------------------------------------------------------------------

def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    if not pids:
        raise RuntimeError("no gunicorn worker found")
    return pids


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


class Host:
    """The organiser logged in, posting to the host console as the browser does."""

    def __init__(self, base: str) -> None:
        self.base = base
        cookie, token = csrf_session(base, "/login")
        body = urllib.parse.urlencode({"csrf_token": token, "login": "organiser@demo.fairsite.cn",
                                       "password": "demo-organiser"}).encode()
        opener = urllib.request.build_opener(NoRedirect)
        req = urllib.request.Request(base + "/login", data=body, headers={"Cookie": cookie})
        try:
            opener.open(req, timeout=10)
        except urllib.error.HTTPError as e:  # the 303 after logging in
            cookie = "; ".join(c.split(";", 1)[0] for c in e.headers.get_all("Set-Cookie") or []) or cookie
        # Login starts a new session and CSRF token: read the token from a page of the new
        # session, and keep the cookie that page stores it in.
        with urllib.request.urlopen(urllib.request.Request(
                base + "/live/manage", headers={"Cookie": cookie}), timeout=10) as resp:
            page = resp.read().decode()
            cookie = "; ".join(c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []) or cookie
        self.cookie = cookie
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, path: str, **data) -> str:
        body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, headers={
            "Cookie": self.cookie, "X-CSRFToken": self.token, "HX-Request": "true"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read().decode()

    def get(self, path: str) -> str:
        req = urllib.request.Request(self.base + path, headers={"Cookie": self.cookie, "HX-Request": "true"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=int(os.environ.get("VIEWERS", "10000")),
                        help="viewer streams to open (default: $VIEWERS, else 10,000)")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")),
                        help='times "now presenting" moves on (default: $ROUNDS, else 3)')
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")),
                        help="gunicorn workers (default: $WORKERS, else 1)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                        help="pub/sub through this Redis (default: $REDIS_URL, else in-process)")
    parser.add_argument("--seconds", type=float, default=5,
                        help="each wrk run of the nginx ceiling (default 5)")
    port_options(parser)
    args = parser.parse_args()
    n, rounds, workers = args.viewers, args.rounds, args.workers
    targets = Targets()
    # Every simulated viewer comes from 127.0.0.1: lift the per-address stream cap.
    env = {"FAIRSITE_WORKERS": str(workers), "FAIRSITE_SSE_HEARTBEAT": "15",
           "FAIRSITE_SSE_STREAMS_PER_ADDRESS": "0"}
    if args.redis_url:
        env.update(FAIRSITE_REDIS_URL=args.redis_url,
                   FAIRSITE_PUBSUB_PREFIX=f"fairsite-bench-{os.getpid()}")
    raise_nofile(n + 500)
    medians: list[float] = []
    late: list[int] = []  # per round: connected viewers whose card did not come within 1 s
    with site(env=env, port=args.port) as s:
        port = int(s.base.rsplit(":", 1)[1])
        host = Host(s.base)
        host.post(f"/live/{SESSION_ID}/start")
        host.post(f"/live/{SESSION_ID}/present", step="next")
        time.sleep(1)
        pids = worker_pids(s.proc.pid)
        rss_before = sum(rss_kb(p) for p in pids)
        client = subprocess.Popen([sys.executable, __file__, "--client", str(port), str(n)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready = client.stdout.readline().split()
            connected, failed, secs = int(ready[1]), int(ready[2]), float(ready[3])
            time.sleep(3 if workers == 1 else 7)  # other workers report their counts every 5 s
            rss_after = sum(rss_kb(p) for p in pids)
            console = host.get(f"/live/{SESSION_ID}/host")
            viewers = re.search(r'id="live-viewers-\d+">(\d+)<', console).group(1)
            per_stream = (rss_after - rss_before) / max(connected, 1)
            print(f"viewers connected            {connected:,} of {n:,} in {secs:.1f} s "
                  f"({failed} failed); host console shows {viewers} viewers")
            print(f"{workers} worker(s), {'Redis' if 'FAIRSITE_REDIS_URL' in env else 'in-process'} pub/sub")
            print(f"worker RSS                   {rss_before / 1024:.0f} MB before, "
                  f"{rss_after / 1024:.0f} MB with the streams open: {per_stream:.1f} KB per stream")
            for r in range(rounds):
                wait_for_idle(f"round {r + 1}")
                client.stdin.write("arm\n")
                client.stdin.flush()
                assert client.stdout.readline().strip() == "armed"
                time.sleep(0.2)
                t0 = time.monotonic()
                host.post(f"/live/{SESSION_ID}/present", step="next")
                t_host = time.monotonic() - t0
                line = client.stdout.readline()
                arrivals = json.loads(line.split(" ", 1)[1])
                lat = sorted((a - t0) * 1000 for a in arrivals)
                within = sum(1 for x in lat if x <= 1000)
                late.append(connected - within)
                medians.append(statistics.median(lat) if lat else float("inf"))
                if lat:
                    print(f"round {r + 1}: new card at {len(lat):,}/{connected:,} viewers; "
                          f"median {statistics.median(lat):.0f} ms, p99 {lat[int(len(lat) * .99) - 1]:.0f} ms, "
                          f"last {lat[-1]:.0f} ms; within 1 s: {within:,}; host request {t_host * 1000:.0f} ms")
                else:
                    print(f"round {r + 1}: no viewer received the card")
                time.sleep(1)
            client.stdin.write("quit\n")
            client.stdin.flush()
        finally:
            try:
                client.wait(timeout=20)
            except subprocess.TimeoutExpired:
                client.kill()
    print(nginx_ceiling(duration=min(args.seconds, 5), port=args.nginx_port).line("nginx 5 KB static (the ceiling)"))
    targets.check(f"all {n:,} viewers connected", connected == n, f"{connected:,} connected, {failed} failed")
    targets.check("<= 30 KB of worker memory per stream", per_stream <= 30, f"{per_stream:.1f} KB")
    targets.check("every viewer's card within 1 s, every round", rounds > 0 and not any(late),
                  "late or missing per round: " + ", ".join(f"{x:,}" for x in late))
    targets.check("median <= 500 ms, every round", rounds > 0 and max(medians) <= 500,
                  "medians " + ", ".join(f"{m:.0f} ms" for m in medians))
    return targets.finish()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        asyncio.run(run_client(int(sys.argv[2]), int(sys.argv[3])))
    else:
        sys.exit(main())
