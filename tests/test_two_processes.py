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
import re
import threading
import time
import urllib.request

import pytest
from sqlalchemy import text

from tests.servers import REDIS_URL, Staff, fresh_pg_database, need, prepare, serve, site_env

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def pg_url():
    yield from fresh_pg_database("fairsite_2p")


@pytest.fixture(scope="module")
def redis_url():
    need(REDIS_URL, "FAIRSITE_TEST_REDIS_URL")
    return REDIS_URL


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
