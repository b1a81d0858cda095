"""What the tests that start real server processes share: a free port, the virtualenv's
commands, a fresh PostgreSQL database, the site's environment, gunicorn started and stopped,
and a logged-in organiser speaking HTTP to it.

PostgreSQL and Redis come from FAIRSITE_TEST_DATABASE_URL and FAIRSITE_TEST_REDIS_URL; without
them such tests skip, unless FAIRSITE_REQUIRE_SERVICES is set, when they fail."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("FAIRSITE_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("FAIRSITE_TEST_REDIS_URL", "")
ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")  # the demo's organiser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def need(value: str, name: str) -> None:
    if not value:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail(f"{name} must be set where FAIRSITE_REQUIRE_SERVICES is set")
        pytest.skip(f"needs {name} (PostgreSQL / Redis for the multi-process tier)")


def fresh_pg_database(prefix: str) -> Iterator[str]:
    """For a fixture: `yield from fresh_pg_database("fairsite_x")` gives the URL of a database
    of its own on the test server, dropped afterwards."""
    need(PG_URL, "FAIRSITE_TEST_DATABASE_URL")
    server = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
    env = {**env, "FAIRSITE_BIND": f"127.0.0.1:{port}",
           "FAIRSITE_SITE_ADDRESS": f"http://127.0.0.1:{port}"}
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
        # For flask init / demo; each server is given its own address by serve().
        "FAIRSITE_SITE_ADDRESS": "http://127.0.0.1",
        **extra,
    }
    if redis_url:
        env["FAIRSITE_REDIS_URL"] = redis_url
        # Pub/sub channels and rate-limit keys are global to a Redis server: keep this run's apart.
        env["FAIRSITE_PUBSUB_PREFIX"] = f"fairsite-test-{uuid.uuid4().hex[:8]}"
        env.setdefault("FAIRSITE_RATELIMIT_KEY_PREFIX", env["FAIRSITE_PUBSUB_PREFIX"])
    else:
        env.pop("FAIRSITE_REDIS_URL", None)
    return env


class Staff:
    """A logged-in organiser, posting the way the host console's htmx does."""

    def __init__(self, base: str, login: tuple[str, str] = ORGANISER):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = self.get("/login")
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.opener.open(urllib.request.Request(base + "/login", data=urllib.parse.urlencode({
            "csrf_token": self.token, "login": login[0], "password": login[1]}).encode()), timeout=10).read()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', self.get("/live/manage")).group(1)

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=10).read().decode()

    def post(self, path: str, **data) -> str:
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(),
                                     headers={"X-CSRFToken": self.token, "HX-Request": "true"})
        return self.opener.open(req, timeout=10).read().decode()
