"""sign_keys: the idempotency key each intent button carries, so that a signing sent again (a
retry on a congested network, a phone sending what it kept offline) is the same signing: one
intent, the same answer.

Revision ID: b65_sign_keys
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b65_sign_keys"
down_revision = "c2728e08910c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_keys",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["intent_id"], ["intents.id"], name="fk_sign_keys_intent_id_intents",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_sign_keys_device_id_devices",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("key", name="pk_sign_keys"),
    )
    op.create_index("ix_sign_keys_intent_id", "sign_keys", ["intent_id"])
    op.create_index("ix_sign_keys_created_at", "sign_keys", ["created_at"])


def downgrade():
    op.drop_index("ix_sign_keys_created_at", table_name="sign_keys")
    op.drop_index("ix_sign_keys_intent_id", table_name="sign_keys")
    op.drop_table("sign_keys")
