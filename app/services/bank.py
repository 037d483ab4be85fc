"""The public welfare bank's shop for staff (公益银行): partners, the reward catalogue and stock.

Partners belong to one street and are managed by its street officers and
community workers. A community worker offers rewards in their own
community; a street officer in any community of the street or street-wide
(community None). Stock changes only by a recorded StockMovement together
with a conditional UPDATE of `Reward.stock` (`_change_stock`), so the stock
on hand always equals the sum of the movements (账物相符) and never goes
below zero. Redeeming and vouchers are in vouchers.py, donations in donations.py.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from app.auth_scope import Scope, is_valid_id, require_role, scope_of
from app.extensions import db
from app.models import (
    Community,
    Partner,
    PartnerKind,
    PartnerUser,
    Reward,
    Role,
    User,
)
from app.services import audit
from app.services.accounts import check_contact_phone, find_by_phone
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound

STAFF = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
MAX_PRICE = 1_000_000


# --- who manages what -----------------------------------------------------------------


def street_of(scope: Scope) -> int | None:
    """The street a staff scope lies in (None for an administrator or no staff scope)."""
    if scope.level == "street":
        return scope.unit_id
    if scope.level == "community":
        return db.session.scalar(sa.select(Community.street_id).where(Community.id == scope.unit_id))
    return None


def _partner_clause(actor):
    scope = scope_of(actor)
    if scope.level == "all":
        return sa.true()
    street_id = street_of(scope)
    return Partner.street_id == street_id if street_id else sa.false()


def _reward_clause(actor):
    """The rewards a staff user manages: their community's, or every one of their street's partners."""
    scope = scope_of(actor)
    if scope.level == "all":
        return sa.true()
    if scope.level == "street":
        return Reward.partner_id.in_(sa.select(Partner.id).where(Partner.street_id == scope.unit_id))
    if scope.level == "community":
        return Reward.community_id == scope.unit_id
    return sa.false()


# --- partners -----------------------------------------------------------------------


@dataclass
class PartnerData:
    name: str
    kind: PartnerKind
    contact_name: str = ""
    contact_phone: str = ""
    active: bool = True


def checked_text(value, field_name: str, low: int, high: int, message) -> str:
    value = value.strip() if isinstance(value, str) else None
    if value is None or not low <= len(value) <= high:
        raise InvalidInput(message, code=f"invalid_{field_name}", field=field_name)
    return value


def _check_partner(data: PartnerData) -> dict:
    if not isinstance(data.kind, PartnerKind):
        raise InvalidInput(_l("Choose what kind of partner this is."), code="invalid_kind", field="kind")
    phone = (data.contact_phone or "").strip() if isinstance(data.contact_phone, str | None) else None
    if phone is None:
        raise InvalidInput(_l("Enter a phone number."), code="invalid_phone", field="contact_phone")
    return {
        "name": checked_text(data.name, "name", 1, 80, _l("Enter a name of 1 to 80 characters.")),
        "kind": data.kind,
        "contact_name": checked_text(
            data.contact_name or "", "contact_name", 0, 50, _l("Write at most %(n)d characters.", n=50)
        ),
        "contact_phone": check_contact_phone(phone, "contact_phone") if phone else "",
        "active": bool(data.active),
    }


def _name_taken(street_id: int, name: str, partner_id: int | None = None) -> bool:
    stmt = sa.select(Partner.id).where(Partner.street_id == street_id, Partner.name == name)
    if partner_id is not None:
        stmt = stmt.where(Partner.id != partner_id)
    return db.session.scalar(stmt) is not None


def _partner_exists() -> Conflict:
    return Conflict(
        _l("A partner with this name already exists in the street."), code="partner_exists", field="name"
    )


def partners_stmt(actor) -> sa.Select:
    """The partners a staff user manages, active first, by name."""
    return sa.select(Partner).where(_partner_clause(actor)).order_by(Partner.active.desc(), Partner.name)


def get_partner(actor, partner_id) -> Partner:
    """A partner the staff user manages; NotFound otherwise (missing and foreign alike)."""
    require_role(actor, *STAFF)
    partner = None
    if is_valid_id(partner_id):
        partner = db.session.scalar(
            sa.select(Partner).where(Partner.id == partner_id, _partner_clause(actor))
        )
    if partner is None:
        raise NotFound()
    return partner


def create_partner(actor, data: PartnerData) -> Partner:
    """Add a partner in the actor's street; audit-logged; commit.

    Raises Forbidden (role, or `no_street` for a user without one),
    InvalidInput (`invalid_name`, `invalid_kind`, `invalid_phone`, …),
    Conflict `partner_exists`.
    """
    require_role(actor, *STAFF)
    street_id = street_of(scope_of(actor))
    if street_id is None:
        raise Forbidden(_l("Partners are added by the staff of their street."), code="no_street")
    values = _check_partner(data)
    if _name_taken(street_id, values["name"]):
        raise _partner_exists()
    partner = Partner(street_id=street_id, created_by_id=actor.id, **values)
    try:
        with db.session.begin_nested():
            db.session.add(partner)
    except IntegrityError:  # the same name added at the same moment
        raise _partner_exists() from None
    audit.record(actor, "create", "partner", partner.id, fields=values)
    db.session.commit()
    return partner


def update_partner(actor, partner_id, data: PartnerData) -> Partner:
    """Change a partner's details, or deactivate it (its rewards stop being offered); commit.

    Raises what create_partner raises, and NotFound.
    """
    partner = get_partner(actor, partner_id)
    values = _check_partner(data)
    if _name_taken(partner.street_id, values["name"], partner.id):
        raise _partner_exists()
    changed = [name for name, value in values.items() if getattr(partner, name) != value]
    for name in changed:
        setattr(partner, name, values[name])
    if changed:
        action = "deactivate" if changed == ["active"] and not partner.active else "update"
        audit.record(actor, action, "partner", partner.id, fields=changed)
    db.session.commit()
    return partner


def partner_users(actor, partner_id) -> list[User]:
    """The users acting for a partner, by name."""
    partner = get_partner(actor, partner_id)
    return list(
        db.session.scalars(
            sa.select(User)
            .join(PartnerUser, PartnerUser.user_id == User.id)
            .where(PartnerUser.partner_id == partner.id)
            .order_by(User.name, User.id)
        )
    )


def link_partner_user(actor, partner_id, phone) -> User:
    """Let the user with this mobile number (role partner) act for the partner; commit.

    Raises NotFound, InvalidInput `not_a_partner_user`, Conflict `already_linked`.
    """
    partner = get_partner(actor, partner_id)
    phone = phone.strip() if isinstance(phone, str) else ""
    user = find_by_phone(phone) if phone else None
    if user is None or not user.has_role(Role.PARTNER) or not user.active:
        raise InvalidInput(
            _l(
                "No partner account has this mobile number. Register the account with the partner role first."
            ),
            code="not_a_partner_user",
            field="phone",
        )
    if db.session.get(PartnerUser, (partner.id, user.id)) is not None:
        raise Conflict(_l("This account already acts for the partner."), code="already_linked", field="phone")
    db.session.add(PartnerUser(partner_id=partner.id, user_id=user.id))
    audit.record(actor, "link_user", "partner", partner.id, note=f"user {user.id}")
    db.session.commit()
    return user


def unlink_partner_user(actor, partner_id, user_id) -> None:
    """Stop a user acting for the partner; commit. Raises NotFound."""
    partner = get_partner(actor, partner_id)
    link = db.session.get(PartnerUser, (partner.id, user_id)) if is_valid_id(user_id) else None
    if link is None:
        raise NotFound()
    db.session.delete(link)
    audit.record(actor, "unlink_user", "partner", partner.id, note=f"user {user_id}")
    db.session.commit()


# --- the reward catalogue -------------------------------------------------------------


@dataclass
class RewardData:
    name: str
    point_price: int
    valid_from: date
    valid_until: date | None = None
    community_id: int | None = None  # None: the whole street (street officers only)
    description: str = ""
    active: bool = True


def _check_community(actor, partner: Partner, community_id) -> int | None:
    scope = scope_of(actor)
    if scope.level == "community":
        if community_id is None:
            return scope.unit_id  # a community worker offers in their own community
        if community_id != scope.unit_id:
            raise InvalidInput(
                _l("You can offer rewards in your own community only."),
                code="invalid_community",
                field="community_id",
            )
        return community_id
    if community_id is None:
        return None
    in_street = is_valid_id(community_id) and db.session.scalar(
        sa.select(Community.id).where(Community.id == community_id, Community.street_id == partner.street_id)
    )
    if not in_street:
        raise InvalidInput(
            _l("Choose a community of the partner's street."), code="invalid_community", field="community_id"
        )
    return community_id


def _check_reward(actor, partner: Partner, data: RewardData) -> dict:
    price = data.point_price
    if not isinstance(price, int) or isinstance(price, bool) or not 1 <= price <= MAX_PRICE:
        raise InvalidInput(
            _l("Enter a whole number from %(low)d to %(high)d.", low=1, high=MAX_PRICE),
            code="invalid_price",
            field="point_price",
        )
    if not isinstance(data.valid_from, date):
        raise InvalidInput(_l("Enter a date."), code="invalid_date", field="valid_from")
    if data.valid_until is not None and (
        not isinstance(data.valid_until, date) or data.valid_until < data.valid_from
    ):
        raise InvalidInput(
            _l("The last day cannot be before the first."), code="invalid_validity", field="valid_until"
        )
    return {
        "name": checked_text(data.name, "name", 1, 80, _l("Enter a name of 1 to 80 characters.")),
        "description": checked_text(
            data.description or "", "description", 0, 500, _l("Write at most %(n)d characters.", n=500)
        ),
        "point_price": price,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "community_id": _check_community(actor, partner, data.community_id),
        "active": bool(data.active),
    }


def rewards_stmt(actor) -> sa.Select:
    """The rewards a staff user manages, with their partners, by partner and name."""
    return (
        sa.select(Reward)
        .join(Partner, Partner.id == Reward.partner_id)
        .where(_reward_clause(actor))
        .options(contains_eager(Reward.partner), selectinload(Reward.community))
        .order_by(Partner.name, Reward.name, Reward.id)
    )


def get_reward(actor, reward_id) -> Reward:
    """A reward the staff user manages (partner loaded); NotFound otherwise."""
    require_role(actor, *STAFF)
    reward = None
    if is_valid_id(reward_id):
        reward = db.session.scalar(rewards_stmt(actor).where(Reward.id == reward_id))
    if reward is None:
        raise NotFound()
    return reward


def create_reward(actor, partner_id, data: RewardData) -> Reward:
    """Offer a new reward of an active partner of the actor's street, with no stock yet; commit.

    Raises Forbidden, InvalidInput (`invalid_partner`, `invalid_price`,
    `invalid_validity`, `invalid_community`, …).
    """
    require_role(actor, *STAFF)
    try:
        partner = get_partner(actor, partner_id)
    except NotFound:
        partner = None
    if partner is None or not partner.active:
        raise InvalidInput(_l("Choose an active partner."), code="invalid_partner", field="partner_id")
    values = _check_reward(actor, partner, data)
    reward = Reward(partner_id=partner.id, stock=0, created_by_id=actor.id, **values)
    db.session.add(reward)
    db.session.flush()
    audit.record(actor, "create", "reward", reward.id, fields=values)
    db.session.commit()
    return reward


def update_reward(actor, reward_id, data: RewardData) -> Reward:
    """Change a reward's details (not its partner, whose users hand its vouchers over,
    nor its stock); open vouchers keep the price they were bought at; commit."""
    reward = get_reward(actor, reward_id)
    values = _check_reward(actor, reward.partner, data)
    changed = [name for name, value in values.items() if getattr(reward, name) != value]
    for name in changed:
        setattr(reward, name, values[name])
    if changed:
        audit.record(actor, "update", "reward", reward.id, fields=changed)
    db.session.commit()
    return reward


def communities_for(actor) -> list[Community]:
    """The communities a staff user may offer rewards in, for the form."""
    scope = scope_of(actor)
    stmt = sa.select(Community).order_by(Community.id)
    if scope.level == "community":
        stmt = stmt.where(Community.id == scope.unit_id)
    elif scope.level == "street":
        stmt = stmt.where(Community.street_id == scope.unit_id)
    elif scope.level != "all":
        stmt = stmt.where(sa.false())
    return list(db.session.scalars(stmt))


def user_names(user_ids) -> dict[int, str]:
    """Names of the given users, for movement and voucher lists seen by staff."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
