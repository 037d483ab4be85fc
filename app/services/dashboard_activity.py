"""Dashboard figures about service and points: how fast needs get help,
services delivered, active volunteers and teams, and the points ledger.
A fixed number of aggregate statements each; plain, cacheable data back.

Definitions (also stated on the page):
- A need is linked to the tasks posted for it (`Task.need_id`), and through
  them to their claims and visits. *Time to claim*: from the need being
  recorded to the first claim on any of its tasks; *time to verified visit*:
  to the check-in of the first verified visit on any of its tasks. A need
  counts in the period in which that first claim (visit) falls; claims and
  visits from before the need was recorded (back-dated data) are left out.
  Grouped by the need's service type; the median, in hours. A need's tasks
  count in the scope of their grid, like its visits.
- A *verified visit* is a claim confirmed by the resident (QR, proxy or
  follow-up call) whose points were not reversed. It is dated by its
  check-in; its *hours* are the checked-in minutes (check-in to check-out,
  rounded down to the minute, as the award counts them). A visit belongs to
  the scope of its task's grid.
- *Active volunteers*: with a verified visit in the scope in the period;
  *active teams*: teams a volunteer was a member of at the time of such a
  visit.
- Points: *issued* (awards) and *reversed* (the points actually taken
  back) count where the service was given (the award's community; for a
  grid, the visit's task); *redeemed*, *returned* (vouchers cancelled or
  expired) and *donated* count by the volunteer's home grid. All dated by
  the ledger transaction, amounts from the volunteer's account entry.
"""

import sqlalchemy as sa

from app.auth_scope import Scope
from app.extensions import db
from app.models import (
    AccountKind,
    Claim,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Need,
    Task,
    TeamMembership,
    TxKind,
    User,
)
from app.services.dashboard_period import Period
from app.services.dashboard_sql import (
    checked_in_minutes,
    claimed_in,
    elapsed_ms,
    in_communities,
    in_grids,
    medians,
    verified,
    visited_in,
)
from app.services.honour_rows import month_of
from app.services.honour_tally import local_day

PLACE_KINDS = (TxKind.AWARD, TxKind.REVERSAL)  # counted where the service was given
HOME_KINDS = (TxKind.REDEMPTION, TxKind.REFUND, TxKind.DONATION)  # counted by the volunteer's home
ALL_GROUPS = "*"  # the key of the all-service-types row


# --- time from need to help -----------------------------------------------------------


def response_times(scope: Scope, period: Period) -> dict[str, dict[str, list]]:
    """Median milliseconds from need to first claim and to first verified
    visit, per service type and overall ("*"), with the number of needs
    (two statements)."""
    first_claim = sa.func.min(Claim.claimed_at)
    first_visit = sa.func.min(Claim.check_in_at)
    return {
        "claim": _median_by_type(
            scope,
            period,
            first_claim,
            Claim.claimed_at >= Need.created_at,
            claimed_in(period.start, period.end),
        ),
        "visit": _median_by_type(
            scope,
            period,
            first_visit,
            sa.and_(verified(), Claim.check_in_at >= Need.created_at),
            visited_in(period.start, period.end),
        ),
    }


def _median_by_type(scope: Scope, period: Period, first, condition, could_be_first) -> dict[str, list]:
    """The medians of (first − need recorded) over the needs whose first falls
    in the period, counting the needs' tasks in the scope. Only needs with a
    task that `could_be_first` in the period are looked at (a pruning, kept
    apart so the database starts from those few); their first is then taken
    over all their tasks."""
    candidates = (
        sa.select(Task.need_id.label("need_id"))
        .where(Task.need_id.is_not(None), in_grids(Task.grid_id, scope), could_be_first)
        .distinct()
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    per_need = (
        sa.select(
            Need.service_type_code.label("service_type"),
            elapsed_ms(Need.created_at, first).label("ms"),
        )
        .select_from(candidates)
        .join(Need, Need.id == candidates.c.need_id)
        .join(Task, Task.need_id == Need.id)
        .join(Claim, Claim.task_id == Task.id)
        .where(in_grids(Task.grid_id, scope), condition)
        .group_by(Need.id, Need.service_type_code, Need.created_at)
        .having(sa.and_(first >= period.start, first < period.end))
        .subquery()
    )
    found = {}
    for group, median, count in db.session.execute(medians(per_need, "service_type", "ms")):
        if count:
            found[group or ALL_GROUPS] = [float(median), int(count)]
    return found


# --- services, volunteers, teams -------------------------------------------------------


def _verified_in(scope: Scope, period: Period):
    return sa.and_(
        in_grids(Task.grid_id, scope),
        visited_in(period.start, period.end),
        verified(),
        Claim.check_in_at >= period.start,
        Claim.check_in_at < period.end,
    )


def services(scope: Scope, period: Period) -> list[list]:
    """[service type, month index, verified visits, checked-in minutes] for
    each service type and local month of the period with a visit (one statement)."""
    month = month_of(local_day(Claim.check_in_at))
    rows = db.session.execute(
        sa.select(Task.service_type_code, month, sa.func.count(Claim.id), sa.func.sum(checked_in_minutes()))
        .join(Task, Task.id == Claim.task_id)
        .where(_verified_in(scope, period))
        .group_by(Task.service_type_code, month)
    ).all()
    return [[code, int(index), int(visits), int(minutes or 0)] for code, index, visits, minutes in rows]


def people(scope: Scope, period: Period) -> dict[str, int]:
    """Active volunteers and active teams in the period (one statement)."""
    member = sa.orm.aliased(TeamMembership)
    row = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Claim.volunteer_id)), sa.func.count(sa.distinct(member.team_id)))
        .select_from(Claim)
        .join(Task, Task.id == Claim.task_id)
        .outerjoin(
            member,
            sa.and_(
                member.user_id == Claim.volunteer_id,
                member.joined_at <= Claim.check_in_at,
                sa.or_(member.left_at.is_(None), member.left_at > Claim.check_in_at),
            ),
        )
        .where(_verified_in(scope, period))
    ).one()
    return {"volunteers": int(row[0]), "teams": int(row[1])}


# --- points -----------------------------------------------------------------------------


def points(scope: Scope, period: Period) -> list[list]:
    """[kind, month index, points, transactions] per ledger kind and local
    month; points are positive (two statements)."""
    tx = LedgerTransaction
    month = month_of(local_day(tx.created_at))

    def sums(kinds, *where, joins=()):
        stmt = (
            sa.select(tx.kind, month, sa.func.sum(LedgerEntry.amount), sa.func.count(sa.distinct(tx.id)))
            .join(LedgerEntry, LedgerEntry.transaction_id == tx.id)
            .join(
                LedgerAccount,
                sa.and_(
                    LedgerAccount.id == LedgerEntry.account_id, LedgerAccount.kind == AccountKind.VOLUNTEER
                ),
            )
        )
        for target, on in joins:
            stmt = stmt.join(target, on)
        stmt = stmt.where(
            tx.kind.in_(kinds), tx.created_at >= period.start, tx.created_at < period.end, *where
        )
        return db.session.execute(stmt.group_by(tx.kind, month)).all()

    if scope.level == "grid":
        place = sums(PLACE_KINDS, Task.grid_id == scope.unit_id, joins=_claim_task_joins())
    else:
        place = sums(PLACE_KINDS, in_communities(tx.community_id, scope))
    home = sums(
        HOME_KINDS,
        in_grids(User.grid_id, scope),
        joins=[(User, User.id == LedgerAccount.owner_id)],
    )
    return [
        [kind.value, int(index), abs(int(total or 0)), int(count)]
        for kind, index, total, count in place + home
    ]


def _claim_task_joins():
    return [(Claim, Claim.id == LedgerTransaction.claim_id), (Task, Task.id == Claim.task_id)]
