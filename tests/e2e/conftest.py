"""Browser tests: the site served as `make run` serves it (gunicorn, gevent, the demo fair),
driven by Playwright in Debian's Chromium. Each module's server runs on SQLite and, when
FAIRSITE_TEST_DATABASE_URL names a PostgreSQL server, again on a fresh PostgreSQL database."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, venv_bin

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1280, "height": 800}
SHOTS = ROOT / "tests" / "e2e" / "shots"


PG_URL = os.environ.get("FAIRSITE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _admin_engine():
    from sqlalchemy import create_engine

    return create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                         isolation_level="AUTOCOMMIT")


def fresh_database(backend: str, tmp: Path) -> str:
    """The URL of a new, empty database for one server."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'e2e.sqlite'}"
    from sqlalchemy import text

    name = f"fairsite_e2e_{os.getpid()}_{free_port()}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def stop_server(proc: subprocess.Popen, env: dict) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    drop_database(env["FAIRSITE_DATABASE_URL"])


_demo_templates: dict[tuple[str, bool], str] = {}


def _demo_template(backend: str, simulate: bool) -> str:
    """A database migrated and loaded with the demo once per run (and backend): `flask init` and
    `flask demo` take ~20 s, so each server starts from a copy instead."""
    key = (backend, simulate)
    if key not in _demo_templates:
        import tempfile

        url = fresh_database(backend, Path(tempfile.mkdtemp(prefix="fairsite-e2e-template-")))
        env = {**os.environ, "FLASK_APP": "fairsite.app", "FAIRSITE_SECRET_KEY": "e2e-secret",
               "FAIRSITE_DATABASE_URL": url, "FAIRSITE_SITE_ADDRESS": "http://127.0.0.1"}
        flask = venv_bin("flask")
        subprocess.run([flask, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
        demo = [flask, "demo"] + (["--simulate-day"] if simulate else [])
        subprocess.run(demo, env=env, cwd=ROOT, check=True, capture_output=True)
        _demo_templates[key] = url
    return _demo_templates[key]


def demo_database(backend: str, tmp: Path, simulate: bool = False) -> str:
    """A database of its own for one server, holding the demo fair."""
    template = _demo_template(backend, simulate)
    if backend == "sqlite":
        path = tmp / "e2e.sqlite"
        shutil.copy(template.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"fairsite_e2e_{os.getpid()}_{free_port()}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    engine.dispose()
    return url


def start_server(tmp: Path, *, simulate: bool = False, extra_env: dict | None = None,
                 backend: str = "sqlite"):
    """Serve a fresh copy of the demo database with gunicorn. Returns (process, base_url, env);
    stop it with stop_server(process, env)."""
    port = free_port()
    env = {
        **os.environ,
        "FLASK_APP": "fairsite.app",
        "FAIRSITE_SECRET_KEY": "e2e-secret",
        "FAIRSITE_DATABASE_URL": demo_database(backend, tmp, simulate),
        "FAIRSITE_BIND": f"127.0.0.1:{port}",
        "FAIRSITE_SITE_ADDRESS": f"http://127.0.0.1:{port}",
        "FAIRSITE_SSE_HEARTBEAT": "5",
        **(extra_env or {}),
    }
    log = open(tmp / f"gunicorn-{port}.log", "w")
    proc = subprocess.Popen(
        [venv_bin("gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            return proc, base, env
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: see {log.name}")


@pytest.fixture(scope="session", autouse=True)
def _static_build():
    """The servers serve static files as `make run` does: hashed, precompressed copies
    (fairsite/assets.py; quick when up to date, safe beside other runs)."""
    from fairsite.assets import build

    build(say=lambda _line: None)


@pytest.fixture(scope="session", autouse=True)
def _drop_demo_templates():
    yield
    for url in _demo_templates.values():
        drop_database(url)
    _demo_templates.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def live_server(request, tmp_path_factory):
    """A fresh server with the demo fair for each test module (and backend): modules that sign
    intents or add vacancies do not change what another module sees."""
    proc, base, env = start_server(tmp_path_factory.mktemp("e2e"), backend=request.param)
    yield base
    stop_server(proc, env)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail("Chromium is required here: apt-get install -y chromium fonts-noto-cjk")
        pytest.skip("Chromium not installed: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser, viewport: dict, **kw):
    context = browser.new_context(viewport=viewport, locale="zh-CN", **kw)
    # A page may talk to this machine only: a request to any other host fails the test.
    context.external_requests = []

    def watch(request):
        if not request.url.startswith(("http://127.0.0.1", "data:", "about:")):
            context.external_requests.append(request.url)

    context.on("request", watch)
    # Anything the Content-Security-Policy blocked (an inline script or style, eval, a frame)
    # shows in Chromium's console, or as htmx's evalDisallowedError: it fails the test. (Give
    # wait_for_function a function, "() => ...": Playwright evals an expression in the page,
    # which the policy refuses.)
    context.csp_errors = []

    def blocked(text: str) -> None:
        if "Content Security Policy" in text or "evalDisallowedError" in text:
            context.csp_errors.append(text)

    context.on("page", lambda page: (
        page.on("console", lambda msg: blocked(msg.text) if msg.type == "error" else None),
        page.on("pageerror", lambda error: blocked(str(error))),
    ))
    return context


@pytest.fixture
def phone(browser):
    context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    yield context
    assert context.external_requests == []
    assert context.csp_errors == []
    context.close()


@pytest.fixture
def tablet(browser):
    context = _context(browser, TABLET)
    yield context
    assert context.external_requests == []
    assert context.csp_errors == []
    context.close()


@pytest.fixture
def laptop(browser):
    context = _context(browser, {"width": 1366, "height": 900})
    yield context
    assert context.external_requests == []
    assert context.csp_errors == []
    context.close()


def shot(page, name: str) -> None:
    """Keep a screenshot for people to look at (tests/e2e/shots/, not in git)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def login(page, base: str, login: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    # The login form's own button: the page's top bar has forms of its own (elder mode, language).
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state()


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


__all__ = ["shot", "login", "start_server", "shutil"]
