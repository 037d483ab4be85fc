"""Point rules and paying for verified visits (积分规则与发放).

A verified visit pays, from the issuing account to the volunteer:

    base points per visit (by service type)
  + points per hour × the checked-in time, capped at 1.5 × the task's
    expected duration, rounded to whole points by the policy's rounding
  + the urgency bonus (urgent or critical tasks)

limited by the policy's daily cap: what the volunteer has already been
paid (and not had reversed) for visits begun on the same local day counts
against it. The rate and policy in force are those of the day the visit
began; their ids and the arithmetic are stored with the transaction, so
every point can be explained later. Each visit is paid at most once
(idempotency key `award:visit:<claim id>`) and reversed at most once.
"""

import math
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from app import clock
from app.auth_scope import get_scoped_or_404, require_role, unscoped_get
from app.extensions import db
from app.models import (
    AccountKind,
    Claim,
    ClaimStatus,
    Grid,
    LedgerEntry,
    LedgerTransaction,
    NotificationKind,
    PointPolicy,
    PointRate,
    Role,
    Rounding,
    Task,
    TxKind,
    Urgency,
)
from app.services import audit, ledger
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.notifications import notify

DURATION_CAP = 1.5  # paid time is at most 1.5 × the expected duration
REVERSERS = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
MIN_REASON, MAX_REASON = 4, 300


def award_key(claim_id: int) -> str:
    return f"award:visit:{claim_id}"


def reversal_key(transaction_id: int) -> str:
    return f"reversal:{transaction_id}"


# --- rules in force -----------------------------------------------------------------


def _newest_first(model):
    return (model.effective_from.desc(), model.id.desc())


def rate_in_force(service_type_code: str, day: date) -> PointRate | None:
    return db.session.scalar(
        sa.select(PointRate)
        .where(PointRate.service_type_code == service_type_code, PointRate.effective_from <= day)
        .order_by(*_newest_first(PointRate))
        .limit(1)
    )


def rates_in_force(day: date | None = None) -> dict[str, PointRate]:
    """The rate in force on `day` (today) for every service type that has one, in one query."""
    day = day or clock.today()
    ranked = (
        sa.select(
            PointRate.id,
            sa.func.row_number()
            .over(partition_by=PointRate.service_type_code, order_by=_newest_first(PointRate))
            .label("n"),
        )
        .where(PointRate.effective_from <= day)
        .subquery()
    )
    rates = db.session.scalars(
        sa.select(PointRate).join(ranked, ranked.c.id == PointRate.id).where(ranked.c.n == 1)
    )
    return {rate.service_type_code: rate for rate in rates}


def policy_in_force(day: date) -> PointPolicy:
    """The policy in force on `day`; the migration installs one from 2000-01-01."""
    return db.session.scalar(
        sa.select(PointPolicy)
        .where(PointPolicy.effective_from <= day)
        .order_by(*_newest_first(PointPolicy))
        .limit(1)
    )


def _check_points(value, field: str, low: int = 0, high: int = 1000) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(
            _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high),
            code="invalid_points",
            field=field,
        )
    return value


def add_rate(actor, service_type_code: str, effective_from: date, per_visit, per_hour) -> PointRate:
    """A new rate for a service type from a date on (today or later); flush only.

    Raises Forbidden, InvalidInput `invalid_points`, `invalid_date`, NotFound.
    """
    from app.models import ServiceType

    require_role(actor, Role.ADMIN)
    if db.session.get(ServiceType, service_type_code) is None:
        raise NotFound()
    _check_future(effective_from)
    rate = PointRate(
        service_type_code=service_type_code,
        effective_from=effective_from,
        points_per_visit=_check_points(per_visit, "points_per_visit"),
        points_per_hour=_check_points(per_hour, "points_per_hour"),
        created_by_id=actor.id,
    )
    db.session.add(rate)
    db.session.flush()
    audit.record(actor, "create", "point_rate", rate.id, note=service_type_code)
    return rate


def add_policy(actor, effective_from: date, urgent_bonus, critical_bonus, daily_cap, rounding) -> PointPolicy:
    """A new policy from a date on (today or later); flush only.

    Raises Forbidden, InvalidInput `invalid_points`, `invalid_date`, `invalid_rounding`.
    """
    require_role(actor, Role.ADMIN)
    _check_future(effective_from)
    if not isinstance(rounding, Rounding):
        raise InvalidInput(_l("Choose how to round."), code="invalid_rounding", field="rounding")
    policy = PointPolicy(
        effective_from=effective_from,
        urgent_bonus=_check_points(urgent_bonus, "urgent_bonus"),
        critical_bonus=_check_points(critical_bonus, "critical_bonus"),
        daily_cap=_check_points(daily_cap, "daily_cap", 1, 100000),
        rounding=rounding,
        created_by_id=actor.id,
    )
    db.session.add(policy)
    db.session.flush()
    audit.record(actor, "create", "point_policy", policy.id)
    return policy


def _check_future(day) -> None:
    if not isinstance(day, date) or day < clock.today():
        raise InvalidInput(
            _l("A rule can start today or later; past visits keep the rule they were paid by."),
            code="invalid_date",
            field="effective_from",
        )


# --- paying a visit -----------------------------------------------------------------


@dataclass(frozen=True)
class Award:
    points: int
    details: dict


def _round(value_times_60: int, rounding: Rounding) -> int:
    """Round n/60 to a whole number."""
    if rounding is Rounding.DOWN:
        return value_times_60 // 60
    if rounding is Rounding.UP:
        return -(-value_times_60 // 60)
    return (value_times_60 + 30) // 60


def compute_award(
    task: Task, claim: Claim, rate: PointRate | None, policy: PointPolicy, already_today: int
) -> Award:
    """The points a verified visit earns and how they were reached (pure)."""
    worked = max(0, math.floor((claim.check_out_at - claim.check_in_at).total_seconds() / 60))
    paid_minutes = min(worked, math.floor(task.expected_minutes * DURATION_CAP))
    per_visit = rate.points_per_visit if rate else 0
    per_hour = rate.points_per_hour if rate else 0
    hour_points = _round(per_hour * paid_minutes, policy.rounding)
    bonus = {Urgency.URGENT: policy.urgent_bonus, Urgency.CRITICAL: policy.critical_bonus}.get(
        task.urgency, 0
    )
    before_cap = per_visit + hour_points + bonus
    points = max(0, min(before_cap, policy.daily_cap - already_today))
    return Award(
        points,
        {
            "rate_id": rate.id if rate else None,
            "policy_id": policy.id,
            "service_type": task.service_type_code,
            "minutes_checked_in": worked,
            "minutes_paid": paid_minutes,
            "points_per_visit": per_visit,
            "points_per_hour": per_hour,
            "hour_points": hour_points,
            "rounding": policy.rounding.value,
            "urgency": task.urgency.value,
            "urgency_bonus": bonus,
            "before_cap": before_cap,
            "daily_cap": policy.daily_cap,
            "already_today": already_today,
            "points": points,
        },
    )


def _earned_on(volunteer_id: int, day: date) -> int:
    """Points paid (and not reversed) for this volunteer's visits begun on local `day`."""
    start, end = clock.local_day_bounds(day)
    reversal = sa.orm.aliased(LedgerTransaction)
    award = LedgerTransaction
    paid = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
        .select_from(award)
        .join(LedgerEntry, LedgerEntry.transaction_id == award.id)
        .join(Claim, Claim.id == award.claim_id)
        .outerjoin(reversal, reversal.reverses_id == award.id)
        .where(
            award.kind == TxKind.AWARD,
            award.earner_id == volunteer_id,
            LedgerEntry.amount > 0,
            Claim.check_in_at >= start,
            Claim.check_in_at < end,
            reversal.id.is_(None),
        )
    )
    return int(paid)


def award_visit(claim_id: int) -> LedgerTransaction:
    """Pay a confirmed visit once (a second call returns the first payment); flush only."""
    existing = ledger.by_key(award_key(claim_id))
    if existing is not None:
        return existing
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.status is not ClaimStatus.CONFIRMED or claim.check_in_at is None:
        raise Conflict(_l("Only a confirmed visit earns points."), code="not_confirmed")
    task = db.session.get(Task, claim.task_id)
    community_id = db.session.scalar(sa.select(Grid.community_id).where(Grid.id == task.grid_id))
    issue = ledger.account(AccountKind.ISSUE)
    earner = ledger.account(AccountKind.VOLUNTEER, claim.volunteer_id)
    ledger.lock(earner)  # visits of one volunteer are paid one at a time: the daily cap holds
    day = clock.local_date(claim.check_in_at)
    award = compute_award(
        task,
        claim,
        rate_in_force(task.service_type_code, day),
        policy_in_force(day),
        _earned_on(claim.volunteer_id, day),
    )
    return ledger.post(
        TxKind.AWARD,
        award_key(claim_id),
        f"visit {claim_id}",
        [(issue, -award.points), (earner, award.points)],
        claim_id=claim_id,
        earner_id=claim.volunteer_id,
        community_id=community_id,
        details=award.details,
    )


def award_of(claim_id: int) -> LedgerTransaction | None:
    return ledger.by_key(award_key(claim_id))


def reversal_of(transaction_id: int) -> LedgerTransaction | None:
    return db.session.scalar(
        sa.select(LedgerTransaction).where(LedgerTransaction.reverses_id == transaction_id)
    )


def reverse_visit(actor, claim_id: int, reason: str, password: str) -> LedgerTransaction:
    """Take back the points of a visit found false; audit-logged, the volunteer told; commit.

    Takes back what the volunteer still holds, at most the award (points
    already spent on handed-over rewards cannot be un-spent; the shortfall
    is recorded). The whole award stops counting on the honour board.

    Raises Forbidden (role, `reauth_required`), NotFound (not in scope, or
    never paid), InvalidInput `invalid_reason`, Conflict `already_reversed`.
    """
    require_role(actor, *REVERSERS)
    if not check_password_hash(actor.password_hash, password or ""):
        raise Forbidden(
            _l("Re-enter your password to reverse points."), code="reauth_required", field="password"
        )
    reason = (reason or "").strip() if isinstance(reason, str | None) else ""
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidInput(
            _l("Give the reason in %(low)d to %(high)d characters.", low=MIN_REASON, high=MAX_REASON),
            code="invalid_reason",
            field="reason",
        )
    claim = unscoped_get(Claim, claim_id)  # its scope is checked on its task
    if claim is None:
        raise NotFound()
    task = get_scoped_or_404(Task, claim.task_id, actor)
    award = award_of(claim.id)
    if award is None:
        raise NotFound(_l("This visit has not been paid any points."), code="not_paid")
    if reversal_of(award.id) is not None:
        raise Conflict(_l("These points have already been reversed."), code="already_reversed")
    issue = ledger.account(AccountKind.ISSUE)
    earner = ledger.account(AccountKind.VOLUNTEER, claim.volunteer_id)
    ledger.lock(issue, earner)
    awarded = sum(e.amount for e in _entries(award.id) if e.account_id == earner.id)
    taken = min(awarded, earner.balance)
    tx = ledger.post(
        TxKind.REVERSAL,
        reversal_key(award.id),
        reason,
        [(earner, -taken), (issue, taken)],
        actor=actor,
        claim_id=claim.id,
        earner_id=claim.volunteer_id,
        community_id=award.community_id,
        reverses_id=award.id,
        details={"awarded": awarded, "taken_back": taken, "shortfall": awarded - taken},
    )
    audit.record(
        actor, "reverse_points", "claim", claim.id, grid_id=task.grid_id, note=f"transaction {tx.id}"
    )
    notify(claim.volunteer_id, NotificationKind.POINTS_REVERSED, task.id, points=awarded, reason=reason)
    db.session.commit()
    return tx


def _entries(transaction_id: int) -> list[LedgerEntry]:
    return list(
        db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.transaction_id == transaction_id))
    )
