"""The site as deployed beyond one process: gunicorn servers sharing PostgreSQL and Redis.

- The host switches "now presenting" on one server; a viewer connected to the other sees it.
- A slow database call in one request does not delay the heartbeats of the streams on the
  same gevent worker (PostgreSQL through psycopg 3 yields to gevent); with SQLite it does,
  and a test shows that limit as it is.

PostgreSQL and Redis come from FAIRSITE_TEST_DATABASE_URL and FAIRSITE_TEST_REDIS_URL (a fresh
database is created for the run); without them these tests skip, unless
FAIRSITE_REQUIRE_SERVICES is set, when they fail."""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.servers import free_port, venv_bin

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("FAIRSITE_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("FAIRSITE_TEST_REDIS_URL", "")
SESSION_ID = 1  # the demo's live session


def slow_app():
    """The site plus one test-only endpoint running a 2-second database call; served by
    gunicorn as "tests.test_two_processes:slow_app()"."""
    from fairsite.app import create_app
    from fairsite.extensions import db

    app = create_app()

    @app.get("/_test/slow")
    def slow():
        started = time.monotonic()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT pg_sleep(2)"))
        else:
            # About two seconds of SQLite work (a counting loop inside the engine).
            db.session.execute(text(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 6000000) "
                "SELECT count(*) FROM c"))
        return f"{time.monotonic() - started:.2f}"

    return app


def _need(value: str, name: str) -> None:
    if not value:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail(f"{name} must be set where FAIRSITE_REQUIRE_SERVICES is set")
        pytest.skip(f"needs {name} (PostgreSQL / Redis for the multi-process tier)")


@pytest.fixture(scope="module")
def pg_url():
    _need(PG_URL, "FAIRSITE_TEST_DATABASE_URL")
    server = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"fairsite_2p_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def redis_url():
    _need(REDIS_URL, "FAIRSITE_TEST_REDIS_URL")
    return REDIS_URL


class Server:
    def __init__(self, proc: subprocess.Popen, base: str, log: Path):
        self.proc, self.base, self.log = proc, base, log

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def prepare(env: dict) -> None:
    """Migrate and load the demo once for the database all servers share."""
    for cmd in (["init"], ["demo"]):
        subprocess.run([venv_bin("flask"), *cmd], env=env, cwd=ROOT, check=True, capture_output=True)


def serve(tmp: Path, env: dict, target: str = "wsgi:app") -> Server:
    port = free_port()
    env = {**env, "FAIRSITE_BIND": f"127.0.0.1:{port}"}
    log_path = tmp / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [venv_bin("gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", target],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            return Server(proc, base, log_path)
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {log_path.read_text()[-2000:]}")


def site_env(database_url: str, redis_url: str = "", **extra) -> dict:
    env = {
        **os.environ,
        "FLASK_APP": "fairsite.app",
        "FAIRSITE_SECRET_KEY": "two-process-secret",
        "FAIRSITE_DATABASE_URL": database_url,
        "FAIRSITE_WORKERS": "1",
        **extra,
    }
    if redis_url:
        env["FAIRSITE_REDIS_URL"] = redis_url
        # Pub/sub channels are global to a Redis server: keep this run's apart.
        env["FAIRSITE_PUBSUB_PREFIX"] = f"fairsite-test-{uuid.uuid4().hex[:8]}"
    else:
        env.pop("FAIRSITE_REDIS_URL", None)
    return env


class Staff:
    """A logged-in organiser, posting the way the host console's htmx does."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = self.get("/login")
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.opener.open(urllib.request.Request(base + "/login", data=urllib.parse.urlencode({
            "csrf_token": self.token, "login": "organiser@demo.fairsite.cn",
            "password": "demo-organiser"}).encode()), timeout=10).read()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', self.get("/live/manage")).group(1)

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=10).read().decode()

    def post(self, path: str, **data) -> str:
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(),
                                     headers={"X-CSRFToken": self.token, "HX-Request": "true"})
        return self.opener.open(req, timeout=10).read().decode()


class Viewer(threading.Thread):
    """An SSE viewer: keeps every chunk it receives, with its arrival time."""

    def __init__(self, base: str, path: str):
        super().__init__(daemon=True)
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.path = path
        self.chunks: list[tuple[float, str]] = []
        self.connected = threading.Event()
        self.start()

    def run(self) -> None:
        try:
            self.conn.request("GET", self.path, headers={"Accept": "text/event-stream"})
            resp = self.conn.getresponse()
            while True:
                data = resp.read1(65536)
                if not data:
                    return
                self.chunks.append((time.monotonic(), data.decode()))
                if ": connected" in data.decode():
                    self.connected.set()
        except (OSError, AttributeError, http.client.HTTPException):
            return  # closed by close(), from the test's thread

    def text(self) -> str:
        return "".join(c for _, c in self.chunks)

    def wait_for(self, needle: str, timeout: float = 5, after: float = 0.0) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, chunk in list(self.chunks):
                if t >= after and needle in chunk:
                    return t
            time.sleep(0.01)
        return None

    def close(self) -> None:
        self.conn.close()


def test_host_on_one_server_moves_the_card_for_a_viewer_on_another(tmp_path, pg_url, redis_url):
    env = site_env(pg_url, redis_url, FAIRSITE_SSE_HEARTBEAT="5")
    prepare(env)
    a, b = serve(tmp_path, env), serve(tmp_path, env)
    viewers = []
    try:
        host = Staff(a.base)
        host.post(f"/live/{SESSION_ID}/start")
        viewer = Viewer(b.base, f"/live/{SESSION_ID}/events")
        viewers.append(viewer)
        assert viewer.connected.wait(10), "the viewer's stream did not open on server B"
        time.sleep(0.3)
        sent = time.monotonic()
        console = host.post(f"/live/{SESSION_ID}/present", step="next")
        title = re.search(r'<div class="card console-now">.*?<h2>(.*?)</h2>', console, re.S).group(1)
        arrived = viewer.wait_for("event: card", timeout=5, after=sent)
        assert arrived is not None, "server B's viewer never got the new card"
        assert arrived - sent < 1.0
        assert title in viewer.text().split("event: card")[-1]

        # The host console on A counts viewers on every server (B reports through Redis).
        viewers.append(Viewer(a.base, f"/live/{SESSION_ID}/events"))
        deadline = time.monotonic() + 12
        count = None
        while time.monotonic() < deadline:
            count = re.search(r'id="live-viewers-\d+">(\d+)<', host.get(f"/live/{SESSION_ID}/host")).group(1)
            if count == "2":
                break
            time.sleep(0.5)
        assert count == "2"
    finally:
        for v in viewers:
            v.close()
        a.stop()
        b.stop()


def _heartbeat_gaps_during_slow_request(tmp_path, env) -> tuple[float, float]:
    """(how long the slow request took, the longest gap between heartbeats meanwhile)."""
    server = serve(tmp_path, env, "tests.test_two_processes:slow_app()")
    try:
        viewer = Viewer(server.base, f"/live/{SESSION_ID}/events")
        assert viewer.connected.wait(10)
        time.sleep(1.2)
        t0 = time.monotonic()
        took = urllib.request.urlopen(server.base + "/_test/slow", timeout=30).read().decode()
        t1 = time.monotonic()
        time.sleep(0.8)
        beats = [t for t, chunk in viewer.chunks if ": heartbeat" in chunk and t0 - 0.6 <= t <= t1 + 0.6]
        gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)] or [t1 - t0]
        viewer.close()
        return float(took), max(gaps)
    finally:
        server.stop()


def test_slow_postgresql_query_does_not_delay_heartbeats(tmp_path, pg_url):
    env = site_env(pg_url, FAIRSITE_SSE_HEARTBEAT="0.25")
    prepare(env)
    took, gap = _heartbeat_gaps_during_slow_request(tmp_path, env)
    assert took >= 1.9  # the query really ran for two seconds...
    assert gap < 0.75  # ...while the worker kept sending heartbeats every 0.25 s


def test_slow_sqlite_query_does_delay_heartbeats_the_known_limit(tmp_path):
    """SQLite calls block their gevent worker while they run: every stream of the worker
    waits. Hence the embedded tier keeps its queries short, and big sessions use PostgreSQL."""
    env = site_env(f"sqlite:///{tmp_path / 'slow.sqlite'}", FAIRSITE_SSE_HEARTBEAT="0.25")
    prepare(env)
    took, gap = _heartbeat_gaps_during_slow_request(tmp_path, env)
    assert took >= 0.5
    assert gap >= took * 0.8  # the heartbeats stopped for as long as the query ran
