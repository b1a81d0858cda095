"""sms_push: optional verification codes by text before a phone's first signing at a fair
(fairs.verify_phone, sms_codes), and vacancy pushes (精准推送): the attendee's separate push
consent with its version (attendees.push_consent_*), the announcements sent (sms_pushes) and
each person's single-use short link (sms_push_links).

Added columns with defaults, natively on both backends (no batch copy of fairs: its triggers
from b50_search stay as they are).

Revision ID: b67_sms_push
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b67_sms_push"
down_revision = "c2728e08910c"
branch_labels = None
# sms_push_links.message_id refers to the outbox (b64_sms); sms_pushes.sent_by_id to users.
depends_on = "b64_sms"


def upgrade():
    op.add_column("fairs", sa.Column("verify_phone", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("attendees", sa.Column("push_consent_version", sa.String(40), nullable=True))
    op.add_column("attendees", sa.Column("push_consent_at", sa.DateTime(), nullable=True))
    op.add_column("attendees", sa.Column("push_stopped_at", sa.DateTime(), nullable=True))
    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("phone_key", sa.String(64), nullable=False),
        sa.Column("ip_key", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["fair_id"], ["fairs.id"], ondelete="CASCADE",
                                name="fk_sms_codes_fair_id_fairs"),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], ondelete="SET NULL",
                                name="fk_sms_codes_message_id_sms_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_codes"),
    )
    op.create_index("ix_sms_codes_phone_created", "sms_codes", ["phone_key", "created_at"])
    op.create_index("ix_sms_codes_ip_created", "sms_codes", ["ip_key", "created_at"])
    op.create_index("ix_sms_codes_fair_phone", "sms_codes", ["fair_id", "phone_key"])
    op.create_table(
        "sms_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=True),
        sa.Column("live_session_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["fair_id"], ["fairs.id"], ondelete="CASCADE",
                                name="fk_sms_pushes_fair_id_fairs"),
        sa.ForeignKeyConstraint(["live_session_id"], ["live_sessions.id"], ondelete="CASCADE",
                                name="fk_sms_pushes_live_session_id_live_sessions"),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"], name="fk_sms_pushes_sent_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_sms_pushes"),
    )
    op.create_table(
        "sms_push_links",
        sa.Column("nonce", sa.String(16), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["push_id"], ["sms_pushes.id"], ondelete="CASCADE",
                                name="fk_sms_push_links_push_id_sms_pushes"),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendees.id"], ondelete="CASCADE",
                                name="fk_sms_push_links_attendee_id_attendees"),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], ondelete="SET NULL",
                                name="fk_sms_push_links_message_id_sms_messages"),
        sa.PrimaryKeyConstraint("nonce", name="pk_sms_push_links"),
    )
    op.create_index("ix_sms_push_links_attendee_id", "sms_push_links", ["attendee_id"])
    op.create_index("ix_sms_push_links_push_id", "sms_push_links", ["push_id"])


def downgrade():
    op.drop_table("sms_push_links")
    op.drop_table("sms_pushes")
    op.drop_table("sms_codes")
    for column in ("push_stopped_at", "push_consent_at", "push_consent_version"):
        op.execute(f"ALTER TABLE attendees DROP COLUMN {column}")
    op.execute("ALTER TABLE fairs DROP COLUMN verify_phone")
