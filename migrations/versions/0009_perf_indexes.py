"""Speed: the honour board's tallies (points per volunteer, community and local
day; per team and day) and ranked totals (per volunteer, scope and current
period; per team and current period), filled from the existing ledger, and
an index for a volunteer's team memberships.

Revision ID: 0009_perf_indexes
Revises: 0008_supply
Create Date: 2026-11-24

"""
from datetime import date, datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_perf_indexes'
down_revision = '0008_supply'
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


# The ranked totals of the periods current when the migration runs, from the
# tallies (as app/services/honour_totals.py rebuild_totals()).
_SCOPES = {
    "community": (
        "'community:' || CAST(c.id AS VARCHAR)",
        "JOIN community c ON c.id = t.community_id",
        "c.id",
    ),
    "street": (
        "'street:' || CAST(c.street_id AS VARCHAR)",
        "JOIN community c ON c.id = t.community_id",
        "c.street_id",
    ),
    "city": (
        "'city:' || CAST(s.city_id AS VARCHAR)",
        "JOIN community c ON c.id = t.community_id JOIN street s ON s.id = c.street_id",
        "s.city_id",
    ),
}
_FILL_TOTALS = """
INSERT INTO honour_total (scope, period, earner_id, points, reached_at)
SELECT {scope}, '{key}', t.earner_id, SUM(t.points), MAX(t.reached_at)
FROM honour_tally t {joins}
WHERE {days}
GROUP BY {unit}, t.earner_id
HAVING SUM(t.points) > 0
"""
_FILL_TEAM_TOTALS = """
INSERT INTO team_total (period, team_id, points, reached_at)
SELECT '{key}', t.team_id, SUM(t.points), MAX(t.reached_at)
FROM team_tally t
WHERE {days}
GROUP BY t.team_id
"""


def _current_periods(today):
    """(key, first day, day after) of each current period; as app/services/honour_periods.py."""
    week = today - timedelta(days=today.weekday())
    month = date(today.year, today.month, 1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)

    def months_later(first, months):
        index = first.month - 1 + months
        return date(first.year + index // 12, index % 12 + 1, 1)

    return [
        (f"week:{week.isoformat()}", week, week + timedelta(days=7)),
        (f"month:{month.isoformat()}", month, months_later(month, 1)),
        (f"quarter:{quarter.isoformat()}", quarter, months_later(quarter, 3)),
        (f"year:{today.year}-01-01", date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        ("all", None, None),
    ]


def _fill_statements(dialect, today):
    """The INSERT … SELECT statements filling the three tables from the ledger."""
    day = _LOCAL_DAY[dialect]
    statements = [
        _FILL_VOLUNTEERS.format(day=day, counted=_COUNTED),
        _FILL_TEAMS.format(day=day, counted=_COUNTED),
    ]
    for key, first, after in _current_periods(today):
        days = f"t.day >= '{first.isoformat()}' AND t.day < '{after.isoformat()}'" if first else "1 = 1"
        for scope, joins, unit in _SCOPES.values():
            statements.append(_FILL_TOTALS.format(scope=scope, key=key, joins=joins, days=days, unit=unit))
        statements.append(_FILL_TEAM_TOTALS.format(key=key, days=days))
    return statements


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

    op.create_table('honour_total',
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('earner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'period', 'earner_id', name=op.f('pk_honour_total'))
    )
    with op.batch_alter_table('honour_total', schema=None) as batch_op:
        batch_op.create_index('ix_honour_total_rank', ['scope', 'period', 'points'], unique=False)

    op.create_table('team_total',
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'team_id', name=op.f('pk_team_total'))
    )

    today = (datetime.now(timezone.utc) + timedelta(hours=8)).date()  # Asia/Shanghai
    for statement in _fill_statements(op.get_bind().dialect.name, today):
        op.execute(statement)


def downgrade():
    op.drop_table('team_total')
    with op.batch_alter_table('honour_total', schema=None) as batch_op:
        batch_op.drop_index('ix_honour_total_rank')

    op.drop_table('honour_total')
    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.drop_index('ix_team_membership_user_joined')

    op.drop_table('team_tally')
    with op.batch_alter_table('honour_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_honour_tally_community_day', postgresql_include=['points', 'reached_at'])

    op.drop_table('honour_tally')
