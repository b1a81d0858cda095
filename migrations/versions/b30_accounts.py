"""Accounts hardening: session tokens, employer approval, live session take-down, the video
platforms stream links may go to.

- users.session_token: what session and remember-me cookies carry (Flask-Login's alternative
  id); a new one ends every copy of a login's cookies. Existing logins get a random one (their
  current cookies, which carry the row id, end: everyone logs in once more).
- employers.status: 'pending' until an organiser approves a self-registered firm; every firm
  already here is 'approved' (the server default fills existing rows).
- live_sessions.taken_down: an organiser took the session off the public site (下线).
- stream_hosts: the host names stream links may point to, seeded with the platforms bureaus
  stream on:
    live.douyin.com, v.douyin.com            抖音 (Douyin)
    live.kuaishou.com, v.kuaishou.com        快手 (Kuaishou)
    channels.weixin.qq.com                   微信视频号 (WeChat Channels)
    live.bilibili.com, www.bilibili.com,
    player.bilibili.com                      哔哩哔哩 (bilibili)
    v.qq.com, live.qq.com                    腾讯视频 (Tencent Video)
    www.huya.com                             虎牙 (Huya)
    www.douyu.com                            斗鱼 (Douyu)

Revision ID: b30_accounts
Revises: c2728e08910c
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "b30_accounts"
down_revision = "c2728e08910c"
branch_labels = None
depends_on = None

DEFAULT_STREAM_HOSTS = (
    "live.douyin.com", "v.douyin.com",
    "live.kuaishou.com", "v.kuaishou.com",
    "channels.weixin.qq.com",
    "live.bilibili.com", "www.bilibili.com", "player.bilibili.com",
    "v.qq.com", "live.qq.com",
    "www.huya.com",
    "www.douyu.com",
)


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to add a constraint (batch mode), and dropping the old copy of a
    table that other rows refer to fails while foreign keys are enforced. The pragma is ignored
    inside a transaction, so: commit what is done, set it, and begin again (on the driver's
    connection: the app's "begin" hook would open a transaction even in autocommit mode)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    raw = bind.connection.dbapi_connection
    if on:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    raw.commit()
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    raw.execute("BEGIN IMMEDIATE")


def upgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("employers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=False,
                                      server_default="approved"))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_employers_status"), "status IN ('pending', 'approved')"
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_session_token"), ["session_token"])

    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_down", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    hosts = op.create_table(
        "stream_hosts",
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_stream_hosts")),
    )
    op.bulk_insert(hosts, [{"host": h} for h in DEFAULT_STREAM_HOSTS])
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    op.drop_table("stream_hosts")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_column("taken_down")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_session_token"), type_="unique")
        batch_op.drop_column("session_token")
    with op.batch_alter_table("employers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_employers_status"), type_="check")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("status")
    _sqlite_foreign_keys(True)
