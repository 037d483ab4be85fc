"""SQL pieces the dashboard's figures share, the same on SQLite and PostgreSQL:
elapsed time between two timestamps, the verified-visit rule, scope filters
and medians by window functions (so a median is one statement, not a loop)."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.auth_scope import Scope, community_ids, grid_ids
from app.models import Claim, ClaimStatus, LedgerTransaction, Task, TaskStatus, TxKind
from app.services.tasks import MAX_WINDOW
from app.services.visits import EARLY_CHECK_IN


class elapsed_ms(FunctionElement):
    """Whole milliseconds from the first timestamp to the second (UTC columns)."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "elapsed_ms"


@compiles(elapsed_ms, "sqlite")
def _elapsed_ms_sqlite(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400000.0) AS INTEGER)"


@compiles(elapsed_ms, "postgresql")
def _elapsed_ms_postgresql(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000) AS BIGINT)"


MS_PER_MINUTE = 60_000


def checked_in_minutes(claim=Claim):
    """A visit's checked-in time in whole minutes, rounded down (as the award counts it)."""
    return sa.func.coalesce(elapsed_ms(claim.check_in_at, claim.check_out_at), 0) // MS_PER_MINUTE


def verified(claim=Claim):
    """WHERE clause: the visit was confirmed by the resident (or for them) and
    its points were not reversed — a reversal says the visit was false."""
    reversal = sa.orm.aliased(LedgerTransaction)
    return sa.and_(
        claim.status == ClaimStatus.CONFIRMED,
        claim.check_in_at.is_not(None),
        ~sa.exists().where(reversal.claim_id == claim.id, reversal.kind == TxKind.REVERSAL),
    )


# --- which tasks can matter to a period ------------------------------------------------
# Pruning only, never changing a figure: conditions every relevant task meets
# by the rules of tasks.py and visits.py, so the (status, starts_at) and
# (grid_id, status, starts_at) indexes on tasks can narrow a city's millions.
# Every status is listed so that those indexes can range-scan on starts_at.
ALL_TASK_STATUSES = tuple(TaskStatus)


def visited_in(start, end):
    """WHERE clause on Task: a visit to it can have checked in within [start, end):
    check-in opens EARLY_CHECK_IN before the window and closes at its end,
    and a window is at most MAX_WINDOW long."""
    return sa.and_(
        Task.status.in_(ALL_TASK_STATUSES),
        Task.starts_at > start - MAX_WINDOW,
        Task.starts_at < end + EARLY_CHECK_IN,
    )


def claimed_in(start, end):
    """WHERE clause on Task: it can have been claimed within [start, end): a
    claim comes after the task is posted and before it starts."""
    return sa.and_(Task.status.in_(ALL_TASK_STATUSES), Task.starts_at > start, Task.created_at < end)


def in_grids(column, scope: Scope):
    """WHERE clause: a grid id column inside the scope (always true for the whole city)."""
    return sa.true() if scope.level == "all" else column.in_(grid_ids(scope))


def in_communities(column, scope: Scope):
    """WHERE clause: a community id column inside a community, street or the city."""
    return sa.true() if scope.level == "all" else column.in_(community_ids(scope))


def medians(values: sa.Subquery, group_column: str, value_column: str) -> sa.CompoundSelect:
    """SELECT (group, median, count) per group of `values`, plus one row with
    group NULL for all rows together: one statement.

    The median of n values is the middle one (n odd) or the mean of the two
    middle ones (n even): the rows whose position p (1-based, in value
    order) satisfies n ≤ 2p ≤ n + 2.
    """
    group, value = values.c[group_column], values.c[value_column]
    ranked = sa.select(
        group.label("grp"),
        value.label("value"),
        sa.func.row_number().over(partition_by=group, order_by=value).label("p"),
        sa.func.count().over(partition_by=group).label("n"),
        sa.func.row_number().over(order_by=value).label("p_all"),
        sa.func.count().over().label("n_all"),
    ).cte("ranked")
    per_group = (
        sa.select(ranked.c.grp, sa.func.avg(ranked.c.value), sa.func.max(ranked.c.n))
        .where(2 * ranked.c.p >= ranked.c.n, 2 * ranked.c.p <= ranked.c.n + 2)
        .group_by(ranked.c.grp)
    )
    overall = sa.select(
        sa.null().label("grp"), sa.func.avg(ranked.c.value), sa.func.max(ranked.c.n_all)
    ).where(2 * ranked.c.p_all >= ranked.c.n_all, 2 * ranked.c.p_all <= ranked.c.n_all + 2)
    return sa.union_all(per_group, overall)
