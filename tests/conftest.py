"""Shared fixtures: an app per database backend, a client, an htmx client, factories.

Every test that uses `app` runs against SQLite and, when FAIRSITE_TEST_DATABASE_URL names a
PostgreSQL server (CI sets it), against PostgreSQL too. The schema is built once per run by
the migrations, so the migrations are tested on both backends as well."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from datetime import date, time
from itertools import count

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fairsite.accounts.models import EMPLOYER, ORGANISER, User
from fairsite.app import create_app
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.employers.credit_code import make_credit_code
from fairsite.employers.models import Employer
from fairsite.extensions import db, limiter
from fairsite.fairs.models import Fair
from fairsite.intents.models import Intent
from fairsite.intents.service import find_or_create_attendee, record_intent
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy

# An instance folder of the run's own: the developer's instance/config.py (written by `make run`)
# must not change what the tests see, and uploads or queues the tests leave go with the run.
# Browser-test servers inherit it.
_INSTANCE = tempfile.mkdtemp(prefix="fairsite-test-instance-")
os.environ["FAIRSITE_INSTANCE_PATH"] = _INSTANCE
atexit.register(shutil.rmtree, _INSTANCE, ignore_errors=True)

PG_URL = os.environ.get("FAIRSITE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery"


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "fair.test",
    }


def _migrate(url: str, tmp_dir) -> None:
    app = create_app({**base_config(url), "SERVER_NAME": None})
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    _migrate(f"sqlite:///{path}", path.parent)
    return path


@pytest.fixture(scope="session")
def pg_database():
    """A database of its own for this test run, so parallel runs never collide."""
    if not PG_URL:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail("FAIRSITE_TEST_DATABASE_URL must be set in CI")
        pytest.skip("PostgreSQL not configured: set FAIRSITE_TEST_DATABASE_URL")
    server = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"fairsite_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    _migrate(url, None)
    _keep_seeds(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "fairsite.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        yield url
        engine = create_engine(url)
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename != 'alembic_version'"))]
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            _restore_seeds(conn, url)
        engine.dispose()


# Tables the migrations fill (the default video platforms): what the migrations put there is
# put back after each PostgreSQL test's TRUNCATE, as each SQLite test starts from the template.
SEEDED_TABLES = ("stream_hosts",)
_seeds: dict[str, dict[str, list[dict]]] = {}


def _keep_seeds(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        _seeds[url] = {t: [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {t}"))]
                       for t in SEEDED_TABLES}
    engine.dispose()


def _restore_seeds(conn, url: str) -> None:
    for table, rows in _seeds.get(url, {}).items():
        if rows:
            columns = list(rows[0])
            conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                              f"VALUES ({', '.join(':' + c for c in columns)})"), rows)


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the config."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app({**base_config(database_url), **app_config})
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class HxClient:
    """A test client that sends requests the way htmx does."""

    def __init__(self, client, **headers):
        self.client = client
        self.headers = {"HX-Request": "true", **headers}

    def get(self, *args, **kwargs):
        return self.client.get(*args, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, *args, **kwargs):
        return self.client.post(*args, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture
def hx(client):
    return HxClient(client)


_seq = count(1)


@pytest.fixture
def make_fair(app):
    def make(**kw) -> Fair:
        fair = Fair(**{"title": f"测试招聘会 {next(_seq)}", "kind": "park", "venue": "人民公园",
                       "date": date(2026, 3, 3), "opens_at": time(8, 30), "closes_at": time(16, 30),
                       "status": "open", "campaign": "春风行动", **kw})
        db.session.add(fair)
        db.session.commit()
        return fair

    return make


@pytest.fixture
def make_employer(app):
    def make(**kw) -> Employer:
        n = next(_seq)
        employer = Employer(**{"name": f"测试电子科技有限公司{n}", "credit_code": make_credit_code(f"915111000000{n:05d}"),
                               "industry": "电子制造", "contact_name": "王经理",
                               "contact_phone": "13800138000", "status": "approved", **kw})
        db.session.add(employer)
        db.session.commit()
        return employer

    return make


@pytest.fixture
def make_vacancy(app, make_employer):
    def make(employer: Employer | None = None, **kw) -> Vacancy:
        vacancy = Vacancy(**{"employer": employer or make_employer(), "title": "电子装配工",
                             "category": "production", "headcount": 10, "pay_min": 3800,
                             "pay_max": 5200, "location": "高新区", "shifts": "长白班",
                             "meals_lodging": True, "social_insurance": True, "age_min": 18,
                             "age_max": 50, **kw})
        db.session.add(vacancy)
        db.session.commit()
        return vacancy

    return make


@pytest.fixture
def make_booth(app, make_fair, make_employer, make_vacancy):
    """An approved booth with `vacancies` vacancies (or the given ones) placed at it."""

    def make(fair: Fair | None = None, employer: Employer | None = None, vacancies=1,
             status: str = "approved", number: str | None = None, **kw) -> Booth:
        fair = fair or make_fair()
        employer = employer or make_employer()
        if isinstance(vacancies, int):
            vacancies = [make_vacancy(employer, title=f"岗位{i + 1}") for i in range(vacancies)]
        if number is None and status == "approved":
            number = f"A-{next(_seq):02d}"
        booth = Booth(fair=fair, employer=employer, status=status, number=number, **kw)
        db.session.add(booth)
        db.session.flush()
        for pos, v in enumerate(vacancies):
            db.session.add(BoothVacancy(booth_id=booth.id, vacancy_id=v.id, position=pos))
        db.session.commit()
        return booth

    return make


@pytest.fixture
def make_intent(app):
    """Sign an intent the way every channel does (the one signing service): at `booth`'s fair,
    for `vacancy` (default: the booth's first). Returns the Intent."""

    def make(booth: Booth | None = None, vacancy: Vacancy | None = None, *, phone: str = "13800138000",
             name: str = "张三", groups=(), source: str = "booth", live_session_id: int | None = None,
             now=None) -> Intent:
        vacancy = vacancy or booth.vacancies[0]
        with write_transaction():
            attendee, _ = find_or_create_attendee(name, phone, list(groups), "test")
            signed = record_intent(
                attendee, vacancy, source, fair_id=booth.fair_id if booth else None,
                booth_id=booth.id if booth and source in ("booth", "desk") else None,
                live_session_id=live_session_id, now=now,
            )
        return db.session.get(Intent, signed.intent_id)

    return make


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The test password, hashed once per run (scrypt takes tens of milliseconds a time)."""
    user = User()
    user.set_password(PASSWORD)
    return user.password_hash


@pytest.fixture
def make_user(app, make_employer, password_hash):
    def make(role: str = EMPLOYER, employer: Employer | None = None, **kw) -> User:
        if role == EMPLOYER and employer is None:
            employer = make_employer()
        user = User(**{"login": f"user{next(_seq)}@test.cn", "name": "测试用户", "role": role,
                       "employer": employer if role == EMPLOYER else None, **kw})
        user.password_hash = password_hash
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client, make_user):
    """Log the test client in as a new user of `role` (or as `user`); returns the user."""

    def login(role: str = ORGANISER, user: User | None = None, **kw) -> User:
        user = user or make_user(role, **kw)
        response = client.post("/login", data={"login": user.login, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        return user

    return login
