"""spreadsheet import: imported_logins, the employer logins an import made (switched off until
an organiser sends them)

Revision ID: b62_import
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b62_import"
down_revision = "c2728e08910c"
branch_labels = None
# users as b30_accounts left it (a table other migrations may rebuild on SQLite).
depends_on = "b30_accounts"


def upgrade():
    op.create_table(
        "imported_logins",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_imported_logins_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"],
                                name=op.f("fk_imported_logins_employer_id_employers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"], name=op.f("fk_imported_logins_sent_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_imported_logins")),
    )
    op.create_index(op.f("ix_imported_logins_employer_id"), "imported_logins", ["employer_id"])


def downgrade():
    op.drop_index(op.f("ix_imported_logins_employer_id"), table_name="imported_logins")
    op.drop_table("imported_logins")
