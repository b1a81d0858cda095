"""employer_list: the indexes that keep the employer's list of people who signed at the same
cost at 200,000 intents as at 1,000 (fairsite.intents.service.intent_rows): each filter of the
list walks an index in the list's order (created_at), never the employer's whole set.

- (employer_id, fair_id, created_at): the filter by fair (the fair's own index walks every
  employer's intents there);
- (vacancy_id, created_at), in place of (vacancy_id): the filter by vacancy, in order;
- (employer_id, created_at) WHERE withdrawn_at IS NOT NULL: the filter 已撤回, and the count of
  withdrawn intents that the list's refresh check reads (as long as the withdrawals, not the
  list).

Plain indexes, the same on SQLite and PostgreSQL (partial indexes both have). After b61, which
rebuilds intents on SQLite (batch mode) and would otherwise copy them.

Revision ID: b70_employer_list
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b70_employer_list"
down_revision = "c2728e08910c"
branch_labels = None
depends_on = ("b40_audit", "b61_followup")

WITHDRAWN = sa.text("withdrawn_at IS NOT NULL")


def upgrade():
    op.create_index("ix_intents_employer_fair_created", "intents", ["employer_id", "fair_id", "created_at"])
    op.create_index("ix_intents_vacancy_created", "intents", ["vacancy_id", "created_at"])
    op.drop_index("ix_intents_vacancy_id", table_name="intents")
    op.create_index("ix_intents_employer_withdrawn", "intents", ["employer_id", "created_at"],
                    sqlite_where=WITHDRAWN, postgresql_where=WITHDRAWN)


def downgrade():
    op.drop_index("ix_intents_employer_withdrawn", table_name="intents")
    op.create_index("ix_intents_vacancy_id", "intents", ["vacancy_id"])
    op.drop_index("ix_intents_vacancy_created", table_name="intents")
    op.drop_index("ix_intents_employer_fair_created", table_name="intents")
