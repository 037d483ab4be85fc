"""Speed: the honour board's tallies (points per volunteer, community and local
day; per team and day), filled from the existing ledger, and indexes for the
pages used all day.

Revision ID: 0009_perf_indexes
Revises: 0006_login_lockout
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_perf_indexes'
down_revision = '0006_login_lockout'
branch_labels = None
depends_on = None


# The same rows as app/services/honour_tally.py rebuild_tallies() (kept here as
# plain SQL: a migration must not depend on code that later changes). Times are
# stored as naive UTC; the local (Asia/Shanghai) day is UTC+8.
_LOCAL_DAY = {
    "sqlite": "date(substr(a.created_at, 1, 19), '+8 hours')",  # whole seconds: no rounding up
    "postgresql": "CAST((a.created_at + INTERVAL '8 hours') AS DATE)",
}
_COUNTED = """
    a.kind = 'AWARD' AND a.earner_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM ledger_transaction r WHERE r.reverses_id = a.id)
"""
_FILL_VOLUNTEERS = """
INSERT INTO honour_tally (earner_id, community_id, day, points, awards, reached_at)
SELECT a.earner_id, COALESCE(a.community_id, 0), {day}, COALESCE(SUM(e.amount), 0),
       COUNT(DISTINCT a.id), MAX(CASE WHEN e.id IS NOT NULL THEN a.created_at END)
FROM ledger_transaction a
LEFT OUTER JOIN ledger_account acc ON acc.kind = 'VOLUNTEER' AND acc.owner_id = a.earner_id
LEFT OUTER JOIN ledger_entry e ON e.transaction_id = a.id AND e.account_id = acc.id AND e.amount > 0
WHERE {counted}
GROUP BY a.earner_id, COALESCE(a.community_id, 0), {day}
"""
_FILL_TEAMS = """
INSERT INTO team_tally (team_id, day, points, reached_at)
SELECT m.team_id, {day}, SUM(e.amount), MAX(a.created_at)
FROM ledger_transaction a
JOIN team_membership m ON m.user_id = a.earner_id AND m.joined_at <= a.created_at
     AND (m.left_at IS NULL OR m.left_at > a.created_at)
JOIN ledger_account acc ON acc.kind = 'VOLUNTEER' AND acc.owner_id = a.earner_id
JOIN ledger_entry e ON e.transaction_id = a.id AND e.account_id = acc.id AND e.amount > 0
WHERE {counted}
GROUP BY m.team_id, {day}
"""


def upgrade():
    op.create_table('honour_tally',
    sa.Column('earner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('awards', sa.Integer(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('earner_id', 'community_id', 'day', name=op.f('pk_honour_tally'))
    )
    with op.batch_alter_table('honour_tally', schema=None) as batch_op:
        batch_op.create_index('ix_honour_tally_community_day', ['community_id', 'day', 'earner_id'], unique=False, postgresql_include=['points', 'reached_at'])

    op.create_table('team_tally',
    sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'day', name=op.f('pk_team_tally'))
    )

    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.create_index('ix_team_membership_user_joined', ['user_id', 'joined_at'], unique=False)

    day = _LOCAL_DAY[op.get_bind().dialect.name]
    op.execute(_FILL_VOLUNTEERS.format(day=day, counted=_COUNTED))
    op.execute(_FILL_TEAMS.format(day=day, counted=_COUNTED))


def downgrade():
    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.drop_index('ix_team_membership_user_joined')

    op.drop_table('team_tally')
    with op.batch_alter_table('honour_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_honour_tally_community_day', postgresql_include=['points', 'reached_at'])

    op.drop_table('honour_tally')
