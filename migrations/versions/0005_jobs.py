"""Periodic jobs: job runs (one per job and period), the monthly honour roll,
a task's escalation level and a claim's reminder time.

Revision ID: 0005_jobs
Revises: 0004_points
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_jobs'
down_revision = '0004_points'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Enum('RUNNING', 'OK', 'FAILED', name='joboutcome', native_enum=False, length=32), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    sa.UniqueConstraint('job', 'period', name=op.f('uq_job_run_job_period'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_started', ['job', 'started_at'], unique=False)

    op.create_table('honour_roll',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_honour_roll_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_honour_roll')),
    sa.UniqueConstraint('community_id', 'month', name=op.f('uq_honour_roll_community_id_month'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would trip the foreign keys to these tables.
    op.execute("ALTER TABLE task DROP COLUMN escalation_level")
    op.execute("ALTER TABLE claim DROP COLUMN reminded_at")

    op.drop_table('honour_roll')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_job_started')

    op.drop_table('job_run')
