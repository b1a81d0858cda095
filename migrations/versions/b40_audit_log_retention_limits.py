"""audit log of staff actions (replaces access_logs), attendees.purged_at for retention,
indexes for the per-phone and per-device signing limits

Revision ID: b40_audit
Revises: c2728e08910c
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b40_audit'
down_revision = 'c2728e08910c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('obj_type', sa.String(length=30), nullable=True),
    sa.Column('obj_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_audit_entries_employer_id_employers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_entries_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_action_created', ['action', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_user_created', ['user_id', 'created_at'], unique=False)

    # What the access log held (phone reveals and exports) moves into the audit log.
    op.execute(
        "INSERT INTO audit_entries (created_at, user_id, role, employer_id, action, obj_type, obj_id, detail) "
        "SELECT l.created_at, l.user_id, u.role, u.employer_id, "
        "CASE l.action WHEN 'reveal' THEN 'phone.reveal' WHEN 'export' THEN 'intents.export' ELSE l.action END, "
        "CASE WHEN l.intent_id IS NULL THEN NULL ELSE 'intent' END, l.intent_id, l.detail "
        "FROM access_logs l JOIN users u ON u.id = l.user_id ORDER BY l.id"
    )
    with op.batch_alter_table('access_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_logs_user_id'))
    op.drop_table('access_logs')

    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('intents', schema=None) as batch_op:
        # The (device_id, created_at) index serves every lookup the device_id one did.
        batch_op.drop_index(batch_op.f('ix_intents_device_id'))
        batch_op.create_index('ix_intents_device_created', ['device_id', 'created_at'], unique=False)
        batch_op.create_index('ix_intents_attendee_created', ['attendee_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('intents', schema=None) as batch_op:
        batch_op.drop_index('ix_intents_attendee_created')
        batch_op.drop_index('ix_intents_device_created')
        batch_op.create_index(batch_op.f('ix_intents_device_id'), ['device_id'], unique=False)

    # Natively on both (SQLite 3.35+): a batch copy of attendees would, with foreign keys on,
    # cascade its DROP TABLE to every device and intent.
    op.execute("ALTER TABLE attendees DROP COLUMN purged_at")

    op.create_table('access_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('intent_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['intent_id'], ['intents.id'], name=op.f('fk_access_logs_intent_id_intents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_logs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_logs'))
    )
    with op.batch_alter_table('access_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_logs_user_id'), ['user_id'], unique=False)
    op.execute(
        "INSERT INTO access_logs (user_id, action, intent_id, detail, created_at) "
        "SELECT a.user_id, CASE a.action WHEN 'phone.reveal' THEN 'reveal' ELSE 'export' END, "
        "CASE WHEN a.obj_type = 'intent' AND EXISTS (SELECT 1 FROM intents i WHERE i.id = a.obj_id) "
        "THEN a.obj_id END, substr(a.detail, 1, 200), a.created_at "
        "FROM audit_entries a WHERE a.action IN ('phone.reveal', 'intents.export') "
        "AND a.user_id IS NOT NULL ORDER BY a.id"
    )

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_user_created')
        batch_op.drop_index('ix_audit_entries_action_created')
        batch_op.drop_index(batch_op.f('ix_audit_entries_created_at'))
    op.drop_table('audit_entries')
