"""Demo supply (供给清单) for `seed-demo`: two offers of the demo shop and one
of its volunteers, made through the supply rules; idempotent."""

from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import MemberStatus, Partner, PartnerMember, SupplyOffer
from app.services import supply, supply_members

# (service, capacity, description); street-wide, for 90 days from the seeding day.
OFFERS = [
    ("errands", 10, "米面油等生活用品代购，送货上门"),
    ("meals", 20, "爱心午餐：每周二、四送餐上门"),
]


def seed_demo_supply(partner: Partner, partner_user, volunteer) -> None:
    """The shop's offers, published by its own user, and `volunteer` as its
    member (invited and accepted); commit. Does nothing that already exists."""
    today = clock.today()
    for code, capacity, description in OFFERS:
        exists = db.session.scalar(
            sa.select(SupplyOffer.id).where(
                SupplyOffer.partner_id == partner.id, SupplyOffer.description == description
            )
        )
        if exists is None:
            data = supply.OfferData(code, capacity, today, today + timedelta(days=90), description)
            supply.create_offer(partner_user, partner.id, data)
    membership = db.session.scalar(
        sa.select(PartnerMember).where(
            PartnerMember.partner_id == partner.id, PartnerMember.user_id == volunteer.id
        )
    )
    if membership is None:
        invitation = supply_members.invite(partner_user, partner.id, volunteer.phone)
        supply_members.answer(volunteer, invitation.id, True)
    elif membership.status is MemberStatus.INVITED:
        supply_members.answer(volunteer, membership.id, True)
