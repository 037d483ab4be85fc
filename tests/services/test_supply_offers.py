"""Offers (供给清单): who publishes them, what is checked, editing while
unused, closing and withdrawing; every write audit-logged."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.models import AuditEntry, OfferCommunity, OfferStatus, Role, SupplyOffer
from app.services import supply
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import make_tree, make_user, user_by_phone
from tests.services.supply_builders import communities, offer, org, street_officer


def audit_actions(db, offer_id):
    return db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "supply_offer", AuditEntry.object_id == offer_id)
        .order_by(AuditEntry.id)
    ).all()


def data(**changes) -> supply.OfferData:
    today = clock.today()
    values = {
        "service_type_code": "meals",
        "capacity": 10,
        "valid_from": today,
        "valid_until": today + timedelta(days=60),
        "description": "午餐送餐上门",
    }
    values.update(changes)
    return supply.OfferData(**values)


def test_the_organisation_publishes_an_offer_for_chosen_communities(db):
    partner, user = org()
    first, _second = communities()
    made = supply.create_offer(user, partner.id, data(whole_street=False, community_ids=[first.id]))
    assert (made.partner_id, made.capacity, made.used, made.status) == (partner.id, 10, 0, OfferStatus.ACTIVE)
    assert made.whole_street is False
    rows = db.session.scalars(
        sa.select(OfferCommunity.community_id).where(OfferCommunity.offer_id == made.id)
    )
    assert list(rows) == [first.id]
    assert audit_actions(db, made.id) == ["create"]


def test_a_street_officer_records_an_offer_on_behalf_and_others_cannot(db):
    partner, user = org()
    before = count_rows(SupplyOffer)
    made = supply.create_offer(street_officer(), partner.id, data())
    assert made.created_by_id == street_officer().id
    # Another organisation's user, a community worker, a volunteer, another street's officer.
    _other_partner, stranger = org()
    with pytest.raises(NotFound):
        supply.create_offer(stranger, partner.id, data())
    with pytest.raises(Forbidden):
        supply.create_offer(user_by_phone(DEMO.community_worker), partner.id, data())
    with pytest.raises(Forbidden):
        supply.create_offer(user_by_phone(DEMO.volunteer), partner.id, data())
    tree = make_tree("别处")
    foreign_officer = make_user(Role.STREET_OFFICER, street_id=tree["street"].id)
    with pytest.raises(NotFound):
        supply.create_offer(foreign_officer, partner.id, data())
    with pytest.raises(NotFound):
        supply.create_offer(street_officer(), 999_999, data())
    assert count_rows(SupplyOffer) == before + 1


@pytest.mark.parametrize(
    "changes, code, field",
    [
        ({"service_type_code": "nonsense"}, "unknown_service_type", "service_type_code"),
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": 1001}, "invalid_capacity", "capacity"),
        ({"capacity": True}, "invalid_capacity", "capacity"),
        ({"valid_until": None}, "invalid_date", "valid_until"),
        ({"valid_until": "2026-01-01"}, "invalid_date", "valid_until"),
        ({"description": "   "}, "invalid_text", "description"),
        ({"description": "x" * 501}, "invalid_text", "description"),
        ({"whole_street": False, "community_ids": []}, "invalid_area", "community_ids"),
    ],
)
def test_bad_offers_are_refused_with_a_field_and_nothing_is_written(db, changes, code, field):
    partner, user = org()
    before = count_rows(SupplyOffer)
    with pytest.raises(InvalidInput) as refused:
        supply.create_offer(user, partner.id, data(**changes))
    assert (refused.value.code, refused.value.field) == (code, field)
    assert count_rows(SupplyOffer) == before


def test_the_period_must_be_in_order_and_not_over(db):
    partner, user = org()
    today = clock.today()
    with pytest.raises(InvalidInput) as backwards:
        supply.create_offer(user, partner.id, data(valid_from=today, valid_until=today - timedelta(days=1)))
    assert backwards.value.code == "invalid_period"
    with pytest.raises(InvalidInput) as over:
        supply.create_offer(
            user,
            partner.id,
            data(valid_from=today - timedelta(days=9), valid_until=today - timedelta(days=1)),
        )
    assert over.value.code == "period_over"


def test_an_offer_covers_only_communities_of_its_street(db):
    partner, user = org()
    foreign = make_tree("外街")["community"]
    with pytest.raises(InvalidInput) as refused:
        supply.create_offer(user, partner.id, data(whole_street=False, community_ids=[foreign.id]))
    assert refused.value.code == "invalid_area"


def test_an_inactive_organisation_publishes_nothing(db):
    from app.services import bank

    partner, user = org()
    bank.update_partner(
        street_officer(), partner.id, bank.PartnerData(name=partner.name, kind=partner.kind, active=False)
    )
    with pytest.raises(Conflict) as refused:
        supply.create_offer(user, partner.id, data())
    assert refused.value.code == "partner_inactive"


def test_an_unused_offer_can_be_changed_including_its_area(db):
    partner, user = org()
    first, second = communities()
    made = offer(user, partner, communities=[first])
    changed = supply.update_offer(
        user, made.id, data(service_type_code="cleaning", whole_street=False, community_ids=[second.id])
    )
    assert (changed.service_type_code, changed.capacity) == ("cleaning", 10)
    assert supply._community_ids(made.id) == [second.id]
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.object_type == "supply_offer", AuditEntry.object_id == made.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert "communities" in entries[1].fields and "service_type_code" in entries[1].fields


def test_a_used_offer_cannot_be_changed_but_can_be_closed(db):
    partner, user = org()
    made = offer(user, partner)
    db.session.execute(sa.update(SupplyOffer).where(SupplyOffer.id == made.id).values(used=1))
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        supply.update_offer(user, made.id, data())
    assert refused.value.code == "offer_in_use"
    assert db.session.get(SupplyOffer, made.id).service_type_code == "housekeeping"
    closed = supply.close_offer(user, made.id, "人手不足")
    assert (closed.status, closed.close_reason, closed.closed_by_id) == (
        OfferStatus.CLOSED,
        "人手不足",
        user.id,
    )
    assert audit_actions(db, made.id) == ["create", "close"]
    with pytest.raises(Conflict) as again:
        supply.close_offer(user, made.id)
    assert again.value.code == "offer_closed"
    with pytest.raises(Conflict) as edit_closed:
        supply.update_offer(user, made.id, data())
    assert edit_closed.value.code == "offer_closed"


def test_closing_an_unused_offer_withdraws_it(db):
    partner, user = org()
    made = offer(user, partner)
    assert supply.close_offer(street_officer(), made.id).status is OfferStatus.WITHDRAWN
    assert audit_actions(db, made.id) == ["create", "withdraw"]


def test_offer_phases(db):
    partner, user = org()
    today = clock.today()
    made = offer(user, partner, capacity=2)
    assert supply.offer_phase(made, today) == "open"
    assert supply.offer_phase(made, today - timedelta(days=1)) == "upcoming"
    assert supply.offer_phase(made, made.valid_until + timedelta(days=1)) == "ended"
    made.used = 2
    assert supply.offer_phase(made, today) == "full"
    db.session.rollback()
