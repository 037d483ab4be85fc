"""The volunteer's side of the bank: what they may redeem, and donating points (积分捐赠).

A volunteer sees the rewards of their own community and the street-wide
rewards of their street's partners. Points may be given to their
community's pool or to a household they served. A household is offered only if the volunteer has a confirmed visit there,
and is shown by the householder's masked name and the date of that visit —
never its address. Each donation form carries a random request key; the
ledger's idempotency key `donation:<volunteer id>:<request key>` makes a
double submit of the same form pay once.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from app import clock
from app.auth_scope import require_role
from app.extensions import db
from app.models import (
    AccountKind,
    Claim,
    ClaimStatus,
    Community,
    Grid,
    Household,
    HouseholdStatus,
    LedgerTransaction,
    Member,
    Partner,
    Relation,
    Reward,
    Role,
    Task,
    TxKind,
)
from app.services import ledger, tx
from app.services.errors import InvalidInput
from app.services.privacy import mask_name

POOL = "pool"
HOUSEHOLD_PREFIX = "household:"
MAX_DONATION = 100_000
REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# --- what a volunteer may redeem -----------------------------------------------------


def home_of(volunteer) -> tuple[int | None, int | None]:
    """The volunteer's (community id, street id) through their grid; (None, None) without one."""
    if not volunteer.grid_id:
        return None, None
    row = db.session.execute(
        sa.select(Community.id, Community.street_id)
        .join(Grid, Grid.community_id == Community.id)
        .where(Grid.id == volunteer.grid_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def offered_to(volunteer):
    """WHERE clause (Reward joined to Partner): rewards of the volunteer's
    community, or street-wide ones of their street's partners."""
    community_id, street_id = home_of(volunteer)
    if community_id is None:
        return sa.false()
    street_wide = sa.and_(Reward.community_id.is_(None), Partner.street_id == street_id)
    return sa.or_(Reward.community_id == community_id, street_wide)


def on_offer(reward: Reward, today: date) -> bool:
    """Active, of an active partner (loaded), and valid on `today`."""
    return (
        reward.active
        and reward.partner.active
        and reward.valid_from <= today
        and (reward.valid_until is None or reward.valid_until >= today)
    )


def catalogue(volunteer) -> list[Reward]:
    """The rewards the volunteer can redeem today (out of stock ones included), cheapest first."""
    today = clock.today()
    stmt = (
        sa.select(Reward)
        .join(Partner, Partner.id == Reward.partner_id)
        .where(
            offered_to(volunteer),
            Reward.active.is_(True),
            Partner.active.is_(True),
            Reward.valid_from <= today,
            sa.or_(Reward.valid_until.is_(None), Reward.valid_until >= today),
        )
        .options(contains_eager(Reward.partner))
        .order_by(Reward.point_price, Reward.name, Reward.id)
    )
    return list(db.session.scalars(stmt))


def balance_of(volunteer) -> int:
    return ledger.balance_of(AccountKind.VOLUNTEER, volunteer.id)


# --- donations ------------------------------------------------------------------------


@dataclass(frozen=True)
class DonationTarget:
    """Somewhere a volunteer may give points: `value` is what the form posts."""

    value: str
    kind: str  # "pool" or "household"
    name: str  # the community's name, or the householder's masked name
    served_on: date | None = None  # the last confirmed visit there (households)
    household_id: int | None = None
    community_id: int | None = None


def new_request_key() -> str:
    """A fresh random key for one donation form."""
    return secrets.token_urlsafe(18)


def donation_targets(volunteer) -> list[DonationTarget]:
    """The volunteer's community pool, then the households they served, most recent visit first."""
    targets = []
    community_id, _street_id = home_of(volunteer)
    if community_id is not None:
        name = db.session.scalar(sa.select(Community.name).where(Community.id == community_id))
        targets.append(DonationTarget(POOL, "pool", name, community_id=community_id))
    last_visit = sa.func.max(Claim.confirmed_at).label("last_visit")
    served = db.session.execute(
        sa.select(Task.household_id, last_visit)
        .join(Claim, Claim.task_id == Task.id)
        .join(Household, Household.id == Task.household_id)
        .where(
            Claim.volunteer_id == volunteer.id,
            Claim.status == ClaimStatus.CONFIRMED,
            Household.status == HouseholdStatus.ACTIVE,
        )
        .group_by(Task.household_id)
        .order_by(last_visit.desc(), Task.household_id)
    ).all()
    heads = dict(
        db.session.execute(
            sa.select(Member.household_id, Member.name).where(
                Member.household_id.in_([row.household_id for row in served]),
                Member.relation == Relation.HEAD,
            )
        ).all()
    )
    for row in served:
        targets.append(
            DonationTarget(
                f"{HOUSEHOLD_PREFIX}{row.household_id}",
                "household",
                mask_name(heads.get(row.household_id)),
                served_on=clock.local_date(row.last_visit) if row.last_visit else None,
                household_id=row.household_id,
            )
        )
    return targets


def _check_amount(amount) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_DONATION:
        raise InvalidInput(
            _l("Enter a whole number of points from %(low)d to %(high)d.", low=1, high=MAX_DONATION),
            code="invalid_amount",
            field="amount",
        )
    return amount


def donate(volunteer, target, amount, request_key) -> LedgerTransaction:
    """Give points to the community pool (`target` "pool") or a served household
    ("household:<id>"); the same request key pays once; commit.

    Raises Forbidden; InvalidInput `invalid_target`, `invalid_amount`,
    `invalid_request` (a form without its key); Conflict `insufficient_points`.
    """
    require_role(volunteer, Role.VOLUNTEER)
    amount = _check_amount(amount)
    if not isinstance(request_key, str) or not REQUEST_KEY.fullmatch(request_key):
        raise InvalidInput(_l("The form has expired. Reload the page and try again."), code="invalid_request")
    chosen = next((t for t in donation_targets(volunteer) if t.value == target), None)
    if chosen is None:
        raise InvalidInput(_l("Choose whom to give the points to."), code="invalid_target", field="target")
    if chosen.kind == "pool":
        owner, reason = (AccountKind.POOL, chosen.community_id), f"donation to the pool of {chosen.name}"
    else:
        owner, reason = (
            (AccountKind.HOUSEHOLD, chosen.household_id),
            f"donation to the household of {chosen.name}",
        )
    with tx.atomic():
        postings = [
            (ledger.account(AccountKind.VOLUNTEER, volunteer.id), -amount),
            (ledger.account(*owner), amount),
        ]
        try:
            donation = ledger.post(
                TxKind.DONATION,
                f"donation:{volunteer.id}:{request_key}",
                reason,
                postings,
                actor=volunteer,
                community_id=chosen.community_id,
                details={"target": chosen.kind, "household_id": chosen.household_id, "amount": amount},
            )
        except ledger.InsufficientPoints as error:
            raise ledger.InsufficientPoints(
                _l("You do not have that many points."), field="amount"
            ) from error
    return donation
