"""Builders for the supply tests: organisations, offers, needs and members,
all made through the real services; call them inside an app context."""

import itertools
from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Community, Grid, PartnerKind, Role, Urgency
from app.services import bank, casework, supply, supply_members
from tests.conftest import DEMO
from tests.factories import make_household, make_user, user_by_phone

_names = itertools.count(1)


def street_officer():
    return user_by_phone(DEMO.street_officer)


def grid_worker():
    return user_by_phone(DEMO.grid_worker)


def communities() -> tuple[Community, Community]:
    """The demo street's two communities (阳光社区 with grids 1–2, 和谐社区)."""
    street_id = street_officer().street_id
    found = db.session.scalars(
        sa.select(Community).where(Community.street_id == street_id).order_by(Community.id)
    ).all()
    return found[0], found[1]


def community_of(grid_id: int) -> int:
    return db.session.scalar(sa.select(Grid.community_id).where(Grid.id == grid_id))


def org(name: str | None = None, kind=PartnerKind.SOCIAL_WORK):
    """(partner, its own user): an organisation of the demo street, added by
    the street officer, with a partner account linked to it."""
    officer = street_officer()
    partner = bank.create_partner(
        officer, bank.PartnerData(name=name or f"测试社工站{next(_names)}", kind=kind)
    )
    user = make_user(Role.PARTNER)
    bank.link_partner_user(officer, partner.id, user.phone)
    return partner, user


def offer(
    actor,
    partner,
    service: str = "housekeeping",
    capacity: int = 5,
    communities=(),
    start=None,
    days: int = 30,
    description: str = "每周上门家政服务",
):
    """An offer through supply.create_offer: the whole street unless `communities` are given."""
    start = start or clock.today()
    data = supply.OfferData(
        service_type_code=service,
        capacity=capacity,
        valid_from=start,
        valid_until=start + timedelta(days=days),
        description=description,
        whole_street=not communities,
        community_ids=[c if isinstance(c, int) else c.id for c in communities],
    )
    return supply.create_offer(actor, partner.id, data)


def need(
    worker=None, service: str = "housekeeping", urgency=Urgency.NORMAL, household=None, text="厨房需要打扫"
):
    """An open need of a new household in the worker's grid (grid 1 by default)."""
    worker = worker or grid_worker()
    household = household or make_household(worker, building="供需楼", head_name="秘密户主")
    return casework.add_need(worker, household.id, casework.NeedData(service, text, urgency))


def volunteer(grid_id: int | None = None, skills=("housekeeping",)):
    from app.models.user import user_skill

    user = make_user(Role.VOLUNTEER, grid_id=grid_id or grid_worker().grid_id)
    for code in skills:
        db.session.execute(user_skill.insert().values(user_id=user.id, skill_code=code))
    db.session.commit()
    return user


def member(partner, partner_user, user):
    """`user` invited by the organisation and accepted: a member."""
    invitation = supply_members.invite(partner_user, partner.id, user.phone)
    return supply_members.answer(user, invitation.id, True)
