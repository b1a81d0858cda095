"""Configuration: the secret key, the database choice, the CLI."""
import pytest
from sqlalchemy import func, select

from fairsite.app import create_app
from fairsite.booths.models import Booth
from fairsite.extensions import db
from fairsite.fairs.service import headline
from fairsite.intents.models import Intent
from fairsite.live.models import LiveSession
from fairsite.phones import normalise_phone


def test_refuses_default_secret_outside_debug_and_tests(tmp_path, monkeypatch):
    monkeypatch.delenv("FAIRSITE_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRSITE_SECRET_KEY", "from-env")
    monkeypatch.setenv("FAIRSITE_SITE_ADDRESS", "jobs.example.gov.cn")
    monkeypatch.setenv("FAIRSITE_DATABASE_URL", "postgres://u@db.example/fair")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/fair"


def test_sqlite_runs_in_wal_with_full_sync_and_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"),
    ("+86 138-0013-8000", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("1380013800", None),
    ("138001380001", None),
    ("12800138000", None),
    ("١٣٨٠٠١٣٨٠٠٠", "13800138000"),  # Arabic-Indic digits, as some phones' keyboards type
    ("١٣٨٠٠١٣٨٠٠", None),
    ("", None),
    ("abc", None),
])
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


def test_demo_builds_the_reference_fair_and_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--simulate-day"])
    assert result.exit_code == 0, result.output
    assert "organiser@demo.fairsite.cn" in result.output
    result = runner.invoke(args=["demo", "--simulate-day"])
    assert result.exit_code == 0, result.output
    fair_id = db.session.scalar(select(Booth.fair_id).limit(1))
    h = headline(fair_id)
    assert (h.employers, h.posts, h.average_pay) == (120, 5271, 4000)
    assert h.attendees == 1200
    assert h.intents == db.session.scalar(select(func.count()).select_from(Intent).where(
        Intent.fair_id == fair_id, Intent.withdrawn_at.is_(None)))
    # The reference fair's live session (the campaign's other session stands alone).
    session = db.session.scalar(select(LiveSession).where(LiveSession.fair_id == fair_id))
    assert 8 <= len(session.items) <= 12


def test_create_organiser_command_makes_a_login(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-organiser", "chief@bureau.gov.cn", "--name", "就业局"],
                           input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"login": "chief@bureau.gov.cn", "password": "s3cret-pass"})
    assert response.status_code == 303
