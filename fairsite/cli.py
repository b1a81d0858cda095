"""Command-line tasks: init (migrate), demo, create-organiser, backup, purge (retention)."""
from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import select

from fairsite.accounts.models import ADMIN, ORGANISER, User
from fairsite.audit import service as audit
from fairsite.clock import utcnow
from fairsite.demo import build_demo
from fairsite.demo import simulate_day as simulate
from fairsite.extensions import db
from fairsite.intents.service import PURGE_BATCH, drop_sign_keys, expired_attendees, purge_attendees
from fairsite.sql import write_transaction


def register_cli(app: Flask) -> None:
    @app.cli.command("init")
    def init_command() -> None:
        """Create or upgrade the database schema."""
        upgrade(revision="heads")
        click.echo("数据库已就绪。")

    @app.cli.command("create-organiser")
    @click.argument("login")
    @click.option("--name", default="主办方")
    @click.password_option()
    def create_organiser(login: str, name: str, password: str) -> None:
        """Create an organiser admin account (or reset its password and make it an active
        admin again: the way back in when no admin of the bureau can log in)."""
        login = login.strip().lower()
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            user = User(login=login, name=name, role=ORGANISER)
            db.session.add(user)
        elif user.role != ORGANISER:
            raise click.ClickException("这个账号属于企业，不能用作主办方账号。")
        user.set_password(password)
        user.staff_role, user.active, user.must_change_password = ADMIN, True, False
        db.session.flush()
        audit.record("account.create", "user", user.id, f"organiser {name}")
        db.session.commit()
        click.echo(f"主办方账号 {login} 已就绪。")

    @app.cli.command("demo")
    @click.option("--simulate-day", is_flag=True, help="Also sign 1,200 attendees' intents.")
    def demo_command(simulate_day: bool) -> None:
        """Load the reference fair of DOMAIN.md (safe to run twice)."""
        logins = build_demo()
        if simulate_day:
            n = simulate()
            click.echo(f"模拟一天：{n} 人登记求职意向。" if n else "模拟数据已存在，未重复添加。")
        click.echo("演示账号：")
        for role, login, password in logins:
            click.echo(f"  {role}: {login} / {password}")

    @app.cli.command("purge")
    @click.option("--days", type=click.IntRange(min=1), default=None,
                  help="Keep this many days instead of PERSONAL_DATA_RETENTION_DAYS.")
    def purge_command(days: int | None) -> None:
        """Erase the personal data of attendees whose last fair or intent is older than the
        retention period. Their intents stay, anonymous: reports and tallies still add up."""
        days = days or int(current_app.config["PERSONAL_DATA_RETENTION_DAYS"])
        if days < 1:
            raise click.ClickException("PERSONAL_DATA_RETENTION_DAYS 必须至少为 1 天。")
        cutoff = utcnow() - timedelta(days=days)
        total = 0
        while True:
            # A batch per transaction: SQLite's other writers wait only for one batch.
            with write_transaction():
                ids = expired_attendees(cutoff)
                total += purge_attendees(ids)
            if len(ids) < PURGE_BATCH:
                break
        keys = 0
        key_cutoff = utcnow() - timedelta(days=int(current_app.config["SIGN_KEY_DAYS"]))
        while True:
            with write_transaction():
                dropped = drop_sign_keys(key_cutoff)
            keys += dropped
            if dropped < PURGE_BATCH:
                break
        with write_transaction():
            audit.record("attendees.purge", "attendee", None, f"n={total} days={days}")
        click.echo(f"已清除 {total} 位求职者的个人信息（最后一次参加招聘会或登记意向已超过 {days} 天）。")
        click.echo(f"已删除 {keys} 个过期的登记去重码（超过 {current_app.config['SIGN_KEY_DAYS']} 天）。")

    @app.cli.command("backup")
    def backup_command() -> None:
        """Copy the SQLite database into instance/backups/ (consistent, online)."""
        uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
        if not uri.startswith("sqlite:///"):
            raise click.ClickException("备份命令只用于 SQLite；PostgreSQL 请使用 pg_dump。")
        source = Path(uri.removeprefix("sqlite:///"))
        target_dir = Path(current_app.instance_path) / "backups"
        target_dir.mkdir(exist_ok=True)
        target = target_dir / f"fairsite-{datetime.now():%Y%m%d-%H%M%S}.sqlite"
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        shutil.copystat(source, target)
        click.echo(f"已备份到 {target}")
