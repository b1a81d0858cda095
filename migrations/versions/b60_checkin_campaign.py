"""Entrance headcount and campaigns:

- checkins: a person checked in at a fair (primary key fair × attendee: once per fair);
- walk_ins: the desk's "+1" taps for people without a phone;
- fair_entries: the people counted in a fair's 进场人数 (checked in, or signed there in
  person), filled from the intents signed at fairs so far (live-session intents left out);
- campaigns, and fairs.campaign_id / live_sessions.campaign_id.

The two columns are added with a plain ADD COLUMN ... REFERENCES (SQLite allows it for a
nullable column): batch mode would rebuild fairs and lose its triggers (b50_search).

Revision ID: b60_checkin_campaign
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b60_checkin_campaign"
down_revision = "c2728e08910c"
branch_labels = None
# After b50_search, which may rebuild fairs on SQLite: ours only adds a column to it.
depends_on = ("b50_search",)


def upgrade():
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "checkins",
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("method IN ('self', 'desk')", name=op.f("ck_checkins_method")),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendees.id"],
                                name=op.f("fk_checkins_attendee_id_attendees"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_checkins_device_id_devices"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["fair_id"], ["fairs.id"],
                                name=op.f("fk_checkins_fair_id_fairs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("fair_id", "attendee_id", name=op.f("pk_checkins")),
    )
    op.create_index(op.f("ix_checkins_attendee_id"), "checkins", ["attendee_id"], unique=False)
    op.create_table(
        "walk_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["fair_id"], ["fairs.id"],
                                name=op.f("fk_walk_ins_fair_id_fairs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_walk_ins_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_ins")),
    )
    op.create_index("ix_walk_ins_fair_user_created", "walk_ins",
                    ["fair_id", "user_id", "created_at"], unique=False)
    op.create_table(
        "fair_entries",
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("signed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendees.id"],
                                name=op.f("fk_fair_entries_attendee_id_attendees"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["fair_id"], ["fairs.id"],
                                name=op.f("fk_fair_entries_fair_id_fairs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("fair_id", "attendee_id", name=op.f("pk_fair_entries")),
    )
    op.create_index(op.f("ix_fair_entries_attendee_id"), "fair_entries", ["attendee_id"], unique=False)

    for table in ("fairs", "live_sessions"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} ADD COLUMN campaign_id INTEGER "
                       f"CONSTRAINT fk_{table}_campaign_id_campaigns REFERENCES campaigns (id)")
        else:
            op.add_column(table, sa.Column("campaign_id", sa.Integer(), nullable=True))
            op.create_foreign_key(f"fk_{table}_campaign_id_campaigns", table, "campaigns",
                                  ["campaign_id"], ["id"])
        op.create_index(f"ix_{table}_campaign_id", table, ["campaign_id"], unique=False)

    # Everyone who signed at a fair in person so far came in (and signed); counters follow.
    op.execute(
        "INSERT INTO fair_entries (fair_id, attendee_id, signed) SELECT DISTINCT fair_id, attendee_id, "
        "TRUE FROM intents WHERE fair_id IS NOT NULL AND source <> 'live'"
    )
    for dim in ("entered", "entered_signed"):
        op.execute(
            "INSERT INTO tallies (scope, dim, key, n) SELECT 'fair:' || CAST(fair_id AS VARCHAR(12)), "
            f"'{dim}', '', count(*) FROM fair_entries GROUP BY fair_id"
        )


def downgrade():
    op.execute("DELETE FROM tallies WHERE dim IN ('entered', 'entered_signed', 'walkins')")
    for table in ("live_sessions", "fairs"):
        op.drop_index(f"ix_{table}_campaign_id", table_name=table)
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN campaign_id")
        else:
            op.drop_constraint(f"fk_{table}_campaign_id_campaigns", table, type_="foreignkey")
            op.drop_column(table, "campaign_id")
    op.drop_index(op.f("ix_fair_entries_attendee_id"), table_name="fair_entries")
    op.drop_table("fair_entries")
    op.drop_index("ix_walk_ins_fair_user_created", table_name="walk_ins")
    op.drop_table("walk_ins")
    op.drop_index(op.f("ix_checkins_attendee_id"), table_name="checkins")
    op.drop_table("checkins")
    op.drop_table("campaigns")
