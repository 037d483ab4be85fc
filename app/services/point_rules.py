"""The issuing rules page (积分规则): rate and policy history, what is in force, and adding rules.

The rules themselves (what a rate may be, from when) live in
app/services/points.py; this module reads their history for the page and
gives adding a rate its commit.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app import clock
from app.auth_scope import require_role
from app.extensions import db
from app.models import PointPolicy, PointRate, Role, ServiceType
from app.services import points
from app.services.tx import atomic


@dataclass(frozen=True)
class RateHistory:
    service: ServiceType
    rates: list[PointRate]  # newest first
    in_force_id: int | None  # the rate in force today


@dataclass(frozen=True)
class Rules:
    today: date
    services: list[RateHistory]
    policies: list[PointPolicy]  # newest first
    policy_in_force_id: int | None


def rules_overview(actor) -> Rules:
    """Every service type's rate history and the policy history, with what is in force today.

    Raises Forbidden for anyone but administrators.
    """
    require_role(actor, Role.ADMIN)
    today = clock.today()
    services = db.session.scalars(
        sa.select(ServiceType).order_by(ServiceType.position, ServiceType.code)
    ).all()
    by_code: dict[str, list[PointRate]] = {}
    for rate in db.session.scalars(
        sa.select(PointRate).order_by(PointRate.effective_from.desc(), PointRate.id.desc())
    ):
        by_code.setdefault(rate.service_type_code, []).append(rate)
    in_force = points.rates_in_force(today)
    policies = db.session.scalars(
        sa.select(PointPolicy).order_by(PointPolicy.effective_from.desc(), PointPolicy.id.desc())
    ).all()
    policy = points.policy_in_force(today)
    return Rules(
        today=today,
        services=[
            RateHistory(s, by_code.get(s.code, []), in_force[s.code].id if s.code in in_force else None)
            for s in services
        ],
        policies=list(policies),
        policy_in_force_id=policy.id if policy else None,
    )


def add_rate(actor, service_type_code: str, effective_from: date, per_visit, per_hour) -> PointRate:
    """A new rate for a service type from a date on (today or later); commit.

    Raises what points.add_rate raises: Forbidden, InvalidInput
    `invalid_points` / `invalid_date`, NotFound (no such service type).
    """
    with atomic():
        return points.add_rate(actor, service_type_code, effective_from, per_visit, per_hour)


def add_policy(actor, effective_from: date, urgent_bonus, critical_bonus, daily_cap, rounding) -> PointPolicy:
    """A new policy from a date on (today or later); commit. Raises what points.add_policy raises."""
    with atomic():
        return points.add_policy(actor, effective_from, urgent_bonus, critical_bonus, daily_cap, rounding)
