"""Helpers for the benchmarks in bench/: start the site as `make run` does, start nginx as the
machine's ceiling, and drive either with wrk or a small Python load generator.

Every load targets 127.0.0.1 only, is bounded in time, and stops by itself.

    from bench.harness import site, nginx_ceiling, wrk

    with site(simulate=False) as s:            # fresh SQLite DB, flask init, flask demo, gunicorn
        result = wrk(s.url("/"), duration=10, connections=64)
        print(result.line("home page"), nginx_ceiling().line("nginx 5 KB"))
"""
from __future__ import annotations

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
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"
WRK = "/usr/bin/wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    raise RuntimeError(f"server at {url} did not start; see {log}")


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
def site(*, simulate: bool = False, env: dict | None = None, keep: bool = False) -> Iterator[Site]:
    """Serve the demo fair as `make run` does: a fresh SQLite database in a temporary directory,
    `flask init`, `flask demo [--simulate-day]`, gunicorn -c gunicorn.conf.py
    --no-control-socket on a free 127.0.0.1 port. Stops the server (and removes the directory,
    unless keep) on exit. `env` adds or overrides environment variables (e.g.
    FAIRSITE_WORKERS, FAIRSITE_INTENT_LIMIT_PER_IP)."""
    tmp = Path(tempfile.mkdtemp(prefix="fairsite-bench-"))
    port = free_port()
    db_path = tmp / "fairsite.sqlite"
    full_env = {
        **os.environ,
        "FLASK_APP": "fairsite",
        "FAIRSITE_SECRET_KEY": "bench-secret-" + os.urandom(8).hex(),
        "FAIRSITE_DATABASE_URL": f"sqlite:///{db_path}",
        "FAIRSITE_BIND": f"127.0.0.1:{port}",
        **(env or {}),
    }
    flask = _bin("flask")
    subprocess.run([flask, "init"], env=full_env, cwd=ROOT, check=True, capture_output=True)
    demo = [flask, "demo"] + (["--simulate-day"] if simulate else [])
    subprocess.run(demo, env=full_env, cwd=ROOT, check=True, capture_output=True)
    log_path = tmp / "gunicorn.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [_bin("gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
            env=full_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/", proc, 30, log_path)
        yield Site(base, full_env, db_path, tmp, proc)
    finally:
        _stop(proc)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


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
def nginx(size: int = 5 * 1024) -> Iterator[str]:
    """nginx on a free 127.0.0.1 port serving one static file of `size` bytes; yields its URL."""
    tmp = Path(tempfile.mkdtemp(prefix="fairsite-nginx-"))
    port = free_port()
    # Readable by nginx's workers, which drop to an unprivileged user when started as root.
    tmp.chmod(0o755)
    (tmp / "www").mkdir(mode=0o755)
    page = tmp / "www" / "static.html"
    page.write_bytes((b"<p>fairsite ceiling</p>\n" * (size // 24 + 1))[:size])
    page.chmod(0o644)
    conf = tmp / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(tmp=tmp, port=port))
    log_path = tmp / "error.log"
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/static.html"
    try:
        _wait_http(url, proc, 10, log_path)
        yield url
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


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

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        return (f"{label:<38} {self.rate:9,.0f} req/s   p50 {self.p50_ms:6.1f} ms   "
                f"p99 {self.p99_ms:6.1f} ms   errors {self.errors}")


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
        script: str | None = None, headers: dict | None = None) -> LoadResult:
    """Run wrk against `url` (127.0.0.1 only) for `duration` seconds; returns the parsed result.
    `script` is Lua source for wrk (written to a temporary file)."""
    if not url.startswith("http://127.0.0.1"):
        raise ValueError("benchmarks only ever target 127.0.0.1")
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


def nginx_ceiling(duration: float = 5, connections: int = 64) -> LoadResult:
    """The machine's ceiling in this run: nginx serving a 5 KB static file, measured with wrk."""
    with nginx() as url:
        return wrk(url, duration=duration, connections=connections)


# --- a Python load generator, for loads that must account for every response ----------------

@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def python_load(base: str, make_request: Callable[[int, int], Request], *, duration: float = 10,
                concurrency: int = 64) -> LoadResult:
    """`concurrency` clients (threads, one keep-alive connection each) send
    make_request(client_no, seq) back to back until `duration` has passed; then each finishes the
    request it has in flight, so every request sent has its response counted (nothing cut off).
    Statuses are counted in result.statuses."""
    m = re.fullmatch(r"http://(127\.0\.0\.1):(\d+)", base.rstrip("/"))
    if not m:
        raise ValueError("benchmarks only ever target 127.0.0.1")
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
