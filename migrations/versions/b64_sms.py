"""SMS: the outbox (sms_messages), monthly budgets (sms_budgets), interview invitations,
employers' daily digests (sms_digests)

Revision ID: b64_sms
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b64_sms"
down_revision = "c2728e08910c"
branch_labels = None
# interview_invitations.sent_by_id refers to users (b30_accounts reshaped it).
depends_on = "b30_accounts"


def upgrade():
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idem_key", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider_id", sa.String(length=80), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed')",
            name=op.f("ck_sms_messages_status"),
        ),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendees.id"], ondelete="CASCADE",
                                name=op.f("fk_sms_messages_attendee_id_attendees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_sms_messages_idem_key")),
    )
    op.create_index(op.f("ix_sms_messages_attendee_id"), "sms_messages", ["attendee_id"])
    op.create_index("ix_sms_messages_phone_created", "sms_messages", ["phone", "created_at"])
    op.create_index("ix_sms_messages_status_next", "sms_messages", ["status", "next_try_at"])
    op.create_index("ix_sms_messages_created", "sms_messages", ["created_at"])
    op.create_table(
        "sms_budgets",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_sms_budgets")),
    )
    op.create_table(
        "interview_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("at_time", sa.Time(), nullable=False),
        sa.Column("place", sa.String(length=60), nullable=False),
        sa.Column("contact", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["intent_id"], ["intents.id"], ondelete="CASCADE",
                                name=op.f("fk_interview_invitations_intent_id_intents")),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"],
                                name=op.f("fk_interview_invitations_employer_id_employers")),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], ondelete="SET NULL",
                                name=op.f("fk_interview_invitations_message_id_sms_messages")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"],
                                name=op.f("fk_interview_invitations_sent_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_invitations")),
    )
    op.create_index("ix_interview_invitations_intent", "interview_invitations", ["intent_id"])
    op.create_index(op.f("ix_interview_invitations_employer_id"), "interview_invitations",
                    ["employer_id"])


    op.create_table(
        "sms_digests",
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], ondelete="CASCADE",
                                name=op.f("fk_sms_digests_employer_id_employers")),
        sa.PrimaryKeyConstraint("employer_id", name=op.f("pk_sms_digests")),
    )


def downgrade():
    op.drop_table("sms_digests")
    op.drop_table("interview_invitations")
    op.drop_table("sms_budgets")
    op.drop_table("sms_messages")
