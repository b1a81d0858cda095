"""Follow-up to hire: the statuses bureaus count, when an intent was first contacted, the
bureau's own follow-up notes (回访记录), and the indexes the call list and the person search
read.

- intents.status also takes signed 现场签约, onboard 已到岗, no_show 未到岗 (CHECK constraint).
- intents.contacted_at: when the employer first moved the intent past 待联系; existing
  intents already past it get their last change as the best guess.
- followups: the bureau's notes about a person (who, when, outcome).
- indexes: intents (employer, status, created) and (status, created) for who is waiting;
  attendees (name) for the search by name (text_pattern_ops on PostgreSQL, so LIKE 'x%' uses it).

Revision ID: b61_followup
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b61_followup"
down_revision = "c2728e08910c"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('new', 'contacted', 'interviewed', 'hired', 'unsuitable')"
NEW_STATUSES = ("status IN ('new', 'contacted', 'interviewed', 'signed', 'hired', 'onboard', "
                "'unsuitable', 'no_show')")


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds intents to change its CHECK constraint (batch mode); with foreign keys
    enforced, dropping the old copy would cascade to the rows that refer to intents. The pragma
    is ignored inside a transaction: commit, set it, begin again (as b30_accounts does)."""
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
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_intents_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_intents_status"), NEW_STATUSES)
        batch_op.add_column(sa.Column("contacted_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_intents_employer_status_created",
                              ["employer_id", "status", "created_at"], unique=False)
        batch_op.create_index("ix_intents_status_created", ["status", "created_at"], unique=False)
    _sqlite_foreign_keys(True)
    op.execute("UPDATE intents SET contacted_at = updated_at WHERE status <> 'new'")

    op.create_index("ix_attendees_name", "attendees", ["name"], unique=False,
                    postgresql_ops={"name": "text_pattern_ops"})

    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendees.id"],
                                name="fk_followups_attendee_id_attendees", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_followups_user_id_users",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_followups"),
    )
    op.create_index("ix_followups_attendee_created", "followups", ["attendee_id", "created_at"],
                    unique=False)


def downgrade():
    op.drop_index("ix_followups_attendee_created", table_name="followups")
    op.drop_table("followups")
    op.drop_index("ix_attendees_name", table_name="attendees")
    # The statuses the old constraint does not know fall back to the nearest it does.
    op.execute("UPDATE intents SET status = 'hired' WHERE status IN ('signed', 'onboard')")
    op.execute("UPDATE intents SET status = 'unsuitable' WHERE status = 'no_show'")
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.drop_index("ix_intents_status_created")
        batch_op.drop_index("ix_intents_employer_status_created")
        batch_op.drop_column("contacted_at")
        batch_op.drop_constraint(batch_op.f("ck_intents_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_intents_status"), OLD_STATUSES)
    _sqlite_foreign_keys(True)
