"""fair_contact: the organiser's contact phone for a fair (fairs.contact_phone), printed on the
desk slip an attendee without a smartphone takes home.

An added column with a default, natively on both backends (no batch copy of fairs: its
triggers from b50_search stay as they are).

Revision ID: b66_fair_contact
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b66_fair_contact"
down_revision = "c2728e08910c"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("fairs", sa.Column("contact_phone", sa.String(20), nullable=False, server_default=""))


def downgrade():
    op.execute("ALTER TABLE fairs DROP COLUMN contact_phone")
