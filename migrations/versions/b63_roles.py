"""Staff roles: users.staff_role and users.must_change_password.

- users.staff_role: what a login may do within its kind. Organisers: admin 管理员, desk 服务台,
  viewer 查看; employer staff: admin 管理员, booth 展位人员. Every login already here becomes
  'admin' (the server default fills existing rows), so nobody loses a page they had.
- users.must_change_password: an organiser admin invited the login with a password they saw;
  the person chooses their own before anything else.

A CHECK ties the role to the kind of login. SQLite adds it by rebuilding the table (batch
mode), with foreign keys off while the old copy is dropped (see b30_accounts).

Revision ID: b63_roles
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b63_roles"
down_revision = "c2728e08910c"
branch_labels = None
# The SQLite rebuild copies users as b30_accounts left it (its session_token column).
depends_on = "b30_accounts"

STAFF_ROLE_CHECK = (
    "(role = 'organiser' AND staff_role IN ('admin', 'desk', 'viewer'))"
    " OR (role = 'employer' AND staff_role IN ('admin', 'booth'))"
)


def _sqlite_foreign_keys(on: bool) -> None:
    """As in b30_accounts: the pragma is ignored inside a transaction, so commit, set it, and
    begin again on the driver's connection."""
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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_role", sa.String(length=20), nullable=False,
                                      server_default="admin"))
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_check_constraint(batch_op.f("ck_users_staff_role"), STAFF_ROLE_CHECK)
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_staff_role"), type_="check")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("staff_role")
    _sqlite_foreign_keys(True)
