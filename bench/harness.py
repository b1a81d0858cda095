"""Helpers for the benchmarks in bench/: start the site as `make run` does, start nginx as the
machine's ceiling, drive either with wrk or a small Python load generator, and check targets.

Every load targets 127.0.0.1 only, is bounded in time, and stops by itself. Each measured run
first waits (up to a timeout) for the machine's CPU to be idle, so that a run does not measure
whatever else the machine was doing.

    from bench.harness import Targets, site, nginx_ceiling, wrk

    targets = Targets()
    with site(simulate=False) as s:            # fresh SQLite DB, flask init, flask demo, gunicorn
        result = wrk(s.url("/"), duration=10, connections=64)
    print(result.line("home page"), nginx_ceiling().line("nginx 5 KB"))
    targets.check("home page >= 1,000 req/s", result.rate >= 1000, f"{result.rate:,.0f} req/s")
    sys.exit(targets.finish())                 # 0 met, 3 missed a target, 1 a check failed

Environment (each also has a command-line option in the scripts):
  FAIRSITE_BENCH_PORT        the site's port on 127.0.0.1 (default: a free one)
  FAIRSITE_BENCH_NGINX_PORT  nginx's port on 127.0.0.1 (default: a free one)
  FAIRSITE_BENCH_IDLE_BUSY   "idle" means less than this % of all CPU busy over 1 s (default 15)
  FAIRSITE_BENCH_IDLE_TIMEOUT  seconds to wait for idle before measuring anyway (default 60;
                             0 skips the wait)
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# nginx is in /usr/sbin, which is not on every user's PATH.
_PATH = os.environ.get("PATH", os.defpath) + os.pathsep + "/usr/sbin:/sbin"
NGINX = shutil.which("nginx", path=_PATH) or "/usr/sbin/nginx"
WRK = shutil.which("wrk", path=_PATH) or "/usr/bin/wrk"
MISSED_EXIT = 3  # a script's exit code for "ran, but missed a target" (bench/run counts these)


def _require(path: str, name: str) -> None:
    """Stop with a plain sentence, not a traceback, when a tool the benchmarks drive is missing."""
    if not os.access(path, os.X_OK):
        raise SystemExit(f"bench: {name} is not installed (no {path}). `make bench` installs it "
                         f"(bench/setup, as root); or install it yourself: apt-get install -y {name}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def choose_port(port: int | None, env_var: str, option: str) -> int:
    """`port` (from `option`) if given, else the port in `env_var`, else a free one. A chosen
    port must be free now: otherwise say so plainly (the server would only fail to start)."""
    source = option if port else env_var
    if not port:
        value = os.environ.get(env_var, "").strip()
        try:
            port = int(value) if value else 0
        except ValueError:
            raise SystemExit(f"bench: {env_var}={value!r} is not a port number") from None
    if not port:
        return free_port()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise SystemExit(f"bench: port {port} (from {source}) is not free on 127.0.0.1: "
                             f"{e.strerror}. Choose another, or leave it unset for a free one.") from None
    return port


def port_options(parser: argparse.ArgumentParser) -> None:
    """--port and --nginx-port, as every script takes them (the defaults come from the
    environment, so `make bench FAIRSITE_BENCH_PORT=8100` reaches every script)."""
    parser.add_argument("--port", type=int, default=None,
                        help="the site's port on 127.0.0.1 (default: $FAIRSITE_BENCH_PORT, else a free port)")
    parser.add_argument("--nginx-port", type=int, default=None,
                        help="nginx's port on 127.0.0.1 (default: $FAIRSITE_BENCH_NGINX_PORT, else a free port)")


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _wait_http(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    # The log's directory is removed on the way out: quote its end here.
    try:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        tail = "(no log)"
    raise RuntimeError(f"server at {url} did not start; the end of {log.name}:\n{tail}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the site ----------------------------------------------------------------------------

@dataclass
class Site:
    base: str
    env: dict
    db_path: Path
    tmp: Path
    proc: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base + path

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the site's SQLite database directly (for setup and for checking results)."""
        with sqlite3.connect(self.db_path, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()


@contextmanager
def site(*, simulate: bool = False, env: dict | None = None, keep: bool = False,
         port: int | None = None) -> Iterator[Site]:
    """Serve the demo fair as `make run` does: a fresh SQLite database in a temporary directory,
    `flask init`, the static build, `flask demo [--simulate-day]`, gunicorn -c gunicorn.conf.py
    --no-control-socket on 127.0.0.1: `port`, else $FAIRSITE_BENCH_PORT, else a free port.
    Stops the server (and removes the directory, unless keep) on exit. `env` adds or overrides
    environment variables (e.g. FAIRSITE_WORKERS, FAIRSITE_INTENT_LIMIT_PER_IP)."""
    port = choose_port(port, "FAIRSITE_BENCH_PORT", "--port")
    tmp = Path(tempfile.mkdtemp(prefix="fairsite-bench-"))
    db_path = tmp / "fairsite.sqlite"
    full_env = {
        **os.environ,
        "FLASK_APP": "fairsite.app",
        "FAIRSITE_SECRET_KEY": "bench-secret-" + os.urandom(8).hex(),
        "FAIRSITE_DATABASE_URL": f"sqlite:///{db_path}",
        "FAIRSITE_BIND": f"127.0.0.1:{port}",
        "FAIRSITE_SITE_ADDRESS": f"http://127.0.0.1:{port}",
        **(env or {}),
    }
    flask = _bin("flask")
    proc = None
    try:
        _setup_command([flask, "init"], full_env)
        # As `make run`: the hashed, precompressed static files (quick when up to date).
        _setup_command([_bin("python"), "-m", "fairsite.assets"], full_env)
        _setup_command([flask, "demo"] + (["--simulate-day"] if simulate else []), full_env)
        log_path = tmp / "gunicorn.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [_bin("gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
                env=full_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/", proc, 30, log_path)
        yield Site(base, full_env, db_path, tmp, proc)
    finally:
        if proc is not None:
            _stop(proc)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _setup_command(cmd: list[str], env: dict) -> None:
    """Run a setup command (flask init, flask demo); if it fails, the error names it and quotes
    the end of what it printed, rather than a bare exit status."""
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        said = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise RuntimeError(f"`{Path(cmd[0]).name} {' '.join(cmd[1:])}` failed with exit status "
                           f"{done.returncode}; the end of its output:\n{said}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its live children (gunicorn's
    master and workers): divided by requests served it gives a cost per request that does not
    depend on what else the machine is doing."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


# --- nginx, the ceiling --------------------------------------------------------------------

_NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type text/html;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
    }}
}}
"""


@contextmanager
def nginx(size: int = 5 * 1024, port: int | None = None) -> Iterator[str]:
    """nginx on 127.0.0.1 (`port`, else $FAIRSITE_BENCH_NGINX_PORT, else a free port) serving one
    static file of `size` bytes; yields its URL."""
    _require(NGINX, "nginx")
    port = choose_port(port, "FAIRSITE_BENCH_NGINX_PORT", "--nginx-port")
    tmp = Path(tempfile.mkdtemp(prefix="fairsite-nginx-"))
    # Readable by nginx's workers, which drop to an unprivileged user when started as root.
    tmp.chmod(0o755)
    (tmp / "www").mkdir(mode=0o755)
    page = tmp / "www" / "static.html"
    page.write_bytes((b"<p>fairsite ceiling</p>\n" * (size // 24 + 1))[:size])
    page.chmod(0o644)
    conf = tmp / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(tmp=tmp, port=port))
    # Errors before nginx reads its configuration go to stderr; later ones to error.log.
    log_path = tmp / "stderr.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}/static.html"
    try:
        try:
            _wait_http(url, proc, 10, log_path)
        except RuntimeError as e:
            errors = (tmp / "error.log").read_text(errors="replace") if (tmp / "error.log").exists() else ""
            raise RuntimeError(f"{e}\n{errors}") from None
        yield url
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


# --- an idle machine before each measured run ---------------------------------------------

IDLE_BUSY = float(os.environ.get("FAIRSITE_BENCH_IDLE_BUSY", "15"))
IDLE_TIMEOUT = float(os.environ.get("FAIRSITE_BENCH_IDLE_TIMEOUT", "60"))
busy_runs: list[str] = []  # runs that started on a busy machine (Targets.finish() names them)


def _cpu_ticks() -> tuple[int, int]:
    """(all, idle) CPU ticks of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]  # user .. steal
    return sum(values), values[3] + values[4]  # idle + iowait


def busy_share(window: float = 1.0) -> float:
    """The share (0..1) of all the machine's CPU time that was busy over the next `window` s."""
    total0, idle0 = _cpu_ticks()
    time.sleep(window)
    total1, idle1 = _cpu_ticks()
    total = total1 - total0
    return 1 - (idle1 - idle0) / total if total > 0 else 0.0


def wait_for_idle(label: str) -> None:
    """Wait until the machine was less than FAIRSITE_BENCH_IDLE_BUSY % busy over one second, so
    that a measured run does not share the CPU with a build, a test run or the previous run's
    stragglers. After FAIRSITE_BENCH_IDLE_TIMEOUT seconds, say so and measure anyway."""
    if IDLE_TIMEOUT <= 0:
        return
    start = time.monotonic()
    share = busy_share()
    if share * 100 < IDLE_BUSY:
        return
    print(f"  waiting for an idle CPU before {label}: {share:.0%} busy "
          f"(want < {IDLE_BUSY:g}%, at most {IDLE_TIMEOUT:g} s)", flush=True)
    while time.monotonic() - start < IDLE_TIMEOUT:
        share = busy_share()
        if share * 100 < IDLE_BUSY:
            print(f"  idle after {time.monotonic() - start:.0f} s ({share:.0%} busy)", flush=True)
            return
    print(f"  BUSY MACHINE: still {share:.0%} busy after {IDLE_TIMEOUT:g} s; measuring {label} "
          "anyway, its figures are suspect", flush=True)
    busy_runs.append(f"{label} ({share:.0%} busy)")


# --- measuring -------------------------------------------------------------------------------

@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    p90_ms: float = 0.0
    errors: int = 0  # socket errors, timeouts, non-2xx/3xx responses
    statuses: dict = field(default_factory=dict)
    note: str = ""  # printed on a second line by line(), e.g. how the ceiling was taken

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        text = (f"{label:<38} {self.rate:9,.0f} req/s   p50 {self.p50_ms:6.1f} ms   "
                f"p99 {self.p99_ms:6.1f} ms   errors {self.errors}")
        return text + (f"\n  {self.note}" if self.note else "")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Parse `wrk --latency` output: requests, duration, p50/p90/p99, errors."""
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", output, re.M))
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output)
    if not m or not pct:
        raise ValueError("unparsed wrk output:\n" + output)
    seconds = float(m.group(2)) * {"s": 1, "ms": 0.001, "m": 60}[m.group(3)]
    errors = 0
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if se:
        errors += sum(int(x) for x in se.groups())
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non:
        errors += int(non.group(1))
    return LoadResult(int(m.group(1)), seconds, _ms(pct["50"]), _ms(pct["99"]), _ms(pct.get("90", "0us")),
                      errors)


def wrk(url: str, *, duration: float = 10, connections: int = 64, threads: int = 2,
        script: str | None = None, headers: dict | None = None, idle: bool = True) -> LoadResult:
    """Run wrk against `url` (127.0.0.1 only) for `duration` seconds; returns the parsed result.
    `script` is Lua source for wrk (written to a temporary file). Waits for an idle CPU first
    unless `idle` is false (a warm-up, not a measurement)."""
    if not url.startswith("http://127.0.0.1"):
        raise ValueError("benchmarks only ever target 127.0.0.1")
    _require(WRK, "wrk")
    if idle:
        wait_for_idle("wrk " + urllib.parse.urlsplit(url).path)
    cmd = [WRK, "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s",
           "--timeout", "5s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        if script:
            f.write(script)
            cmd += ["-s", f.name]
    try:
        out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True,
                             timeout=duration + 30).stdout
    finally:
        os.unlink(f.name)
    result = parse_wrk(out)
    result.raw = out  # type: ignore[attr-defined]
    return result


def nginx_ceiling(duration: float = 5, connections: int = 64, threads: int = 2, runs: int = 3,
                  port: int | None = None) -> LoadResult:
    """The machine's ceiling in this run: nginx serving a 5 KB static file, measured with wrk
    `runs` times (each after an idle wait); returns the median run, whose note gives every run
    and the wrk settings."""
    with nginx(port=port) as url:
        results = [wrk(url, duration=duration, connections=connections, threads=threads)
                   for _ in range(runs)]
    median = sorted(results, key=lambda r: r.rate)[len(results) // 2]
    median.note = (f"ceiling = median of {runs} wrk runs (threads {threads}, connections "
                   f"{connections}, {duration:g} s each): "
                   + ", ".join(f"{r.rate:,.0f}" for r in results) + f" req/s -> {median.rate:,.0f}")
    return median


# --- a Python load generator, for loads that must account for every response ----------------

@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def python_load(base: str, make_request: Callable[[int, int], Request], *, duration: float = 10,
                concurrency: int = 64, label: str = "python load") -> LoadResult:
    """`concurrency` clients (threads, one keep-alive connection each) send
    make_request(client_no, seq) back to back until `duration` has passed; then each finishes the
    request it has in flight, so every request sent has its response counted (nothing cut off).
    Statuses are counted in result.statuses. Waits for an idle CPU first."""
    m = re.fullmatch(r"http://(127\.0\.0\.1):(\d+)", base.rstrip("/"))
    if not m:
        raise ValueError("benchmarks only ever target 127.0.0.1")
    wait_for_idle(label)
    host, port = m.group(1), int(m.group(2))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def client(no: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine: list[float] = []
        seen: dict[int, int] = {}
        errs = 0
        seq = 0
        start_gate.wait()
        while time.monotonic() < deadline[0]:
            req = make_request(no, seq)
            seq += 1
            t0 = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
                resp = conn.getresponse()
                resp.read()
                mine.append(time.perf_counter() - t0)
                seen[resp.status] = seen.get(resp.status, 0) + 1
            except (OSError, http.client.HTTPException):
                errs += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += errs
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + duration
    t0 = time.monotonic()
    start_gate.wait()
    for t in threads:
        t.join(timeout=duration + 60)
    seconds = time.monotonic() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    bad = sum(v for k, v in statuses.items() if k >= 400)
    return LoadResult(len(latencies), seconds, pct(0.50), pct(0.99), pct(0.90), errors[0] + bad,
                      statuses)


def csrf_session(base: str, path: str) -> tuple[str, str]:
    """GET `path` once; returns (session cookie header value, CSRF token) for form posts."""
    with urllib.request.urlopen(base + path, timeout=10) as resp:
        html = resp.read().decode()
        cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    if not token:
        raise RuntimeError(f"no CSRF token on {path}")
    return "; ".join(cookies), token.group(1)


# --- targets ---------------------------------------------------------------------------------

class Targets:
    """A script's target checks. Each prints as it is made; finish() then prints one
    "TARGET MISSED: <script>: ..." line per missed target and one "CHECK FAILED: ..." line per
    failed check (bench/run collects both) and returns the script's exit code: 0 when every
    target was met, MISSED_EXIT (3) when it ran but missed one, 1 when a check failed.

    check() is for performance targets (a miss is news, not breakage); require() is for what must
    hold for the figures to mean anything (nothing lost, nothing doubled): a miss is a failure."""

    def __init__(self, script: str | None = None) -> None:
        self.script = script or Path(sys.argv[0]).name
        self.missed: list[str] = []
        self.failed: list[str] = []

    def _record(self, into: list[str], what: str, ok: bool, figure: str) -> bool:
        print(f"  target {what}: {figure}: {'met' if ok else 'MISSED'}", flush=True)
        if not ok:
            into.append(f"{what}: measured {figure}")
        return ok

    def check(self, what: str, ok: bool, figure: str) -> bool:
        return self._record(self.missed, what, ok, figure)

    def require(self, what: str, ok: bool, figure: str) -> bool:
        return self._record(self.failed, what, ok, figure)

    def finish(self) -> int:
        if busy_runs:
            print(f"NOTE: {len(busy_runs)} measured run(s) started on a busy machine: "
                  + "; ".join(busy_runs))
        for miss in self.missed:
            print(f"TARGET MISSED: {self.script}: {miss}")
        for fail in self.failed:
            print(f"CHECK FAILED: {self.script}: {fail}")
        sys.stdout.flush()
        return 1 if self.failed else MISSED_EXIT if self.missed else 0
