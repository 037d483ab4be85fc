"""Demo data for the public welfare bank: one partner shop and three rewards with stock, made through the services."""

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Partner, PartnerKind
from app.services import bank, stock

PARTNER_NAME = "幸福超市"
# (name, description, points, items received)
REWARDS = [
    ("理发券", "社区理发店单次理发", 60, 30),
    ("大米5斤", "东北大米一袋（5斤）", 120, 20),
    ("食用油", "花生油一桶（1.8升）", 200, 10),
]


def seed_demo_bank(street_id: int, community_id: int, staff_user, partner_user) -> Partner | None:
    """A partner shop in the street, linked to the demo partner user, and three
    rewards in the community with stock received; does nothing if the shop exists.

    `staff_user` is a community worker of `community_id` or a street officer
    of `street_id`. Returns the new partner, or None when it was already there.
    """
    exists = db.session.scalar(
        sa.select(Partner.id).where(Partner.street_id == street_id, Partner.name == PARTNER_NAME)
    )
    if exists is not None:
        return None
    partner = bank.create_partner(
        staff_user,
        bank.PartnerData(
            name=PARTNER_NAME,
            kind=PartnerKind.MERCHANT,
            contact_name="周店长",
            contact_phone=partner_user.phone,
        ),
    )
    bank.link_partner_user(staff_user, partner.id, partner_user.phone)
    for name, description, price, quantity in REWARDS:
        reward = bank.create_reward(
            staff_user,
            partner.id,
            bank.RewardData(
                name=name,
                description=description,
                point_price=price,
                valid_from=clock.today(),
                community_id=community_id,
            ),
        )
        stock.receive_stock(staff_user, reward.id, quantity, "首批到货")
    return partner
