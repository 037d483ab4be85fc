"""Matching the supply list to needs: which offers are suggested for a need
and why, in what order; the volunteers suggested beside them; scope."""

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.extensions import db
from app.models import FreeTime, Member, PartnerKind, Relation, Role, SupplyOffer, Urgency, VolunteerFreeTime
from app.services import bank, matching, supply, supply_decisions, supply_matching, tasks
from app.services.errors import Forbidden, NotFound
from tests.conftest import DEMO
from tests.factories import make_household, make_tree, make_user, user_by_phone
from tests.services.supply_builders import (
    communities,
    grid_worker,
    need,
    offer,
    org,
    street_officer,
    volunteer,
)

EVERYTHING = 1000  # one page holding every open need of the demo community too


def card_for(actor, need_id, community_id=None):
    community_id = community_id or communities()[0].id
    with force_locale("en"):  # names in reasons are taken in the reader's language
        _community, _page, cards = supply_matching.community_needs(actor, community_id, per_page=EVERYTHING)
    return next(c for c in cards if c.need.id == need_id)


def texts(reasons) -> list[str]:
    with force_locale("en"):
        return [str(r) for r in reasons]


def set_used(offer_row, used: int) -> None:
    db.session.execute(sa.update(SupplyOffer).where(SupplyOffer.id == offer_row.id).values(used=used))
    db.session.commit()


def foreign_offer():
    """A street-wide housekeeping offer of an organisation of another street."""
    tree = make_tree("邻街")
    officer = make_user(Role.STREET_OFFICER, street_id=tree["street"].id)
    partner = bank.create_partner(officer, bank.PartnerData(name="邻街社工", kind=PartnerKind.SOCIAL_WORK))
    return offer(officer, partner)


def test_which_offers_are_suggested_why_and_in_what_order(db):
    first, second = communities()
    wanted = need()
    today = clock.today()
    partner, user = org()
    street_wide = offer(user, partner, capacity=10, days=60)
    half_used = offer(user, partner, capacity=10, days=60)
    set_used(half_used, 4)
    local_long = offer(user, partner, capacity=5, days=90, communities=[first])
    local_soon = offer(user, partner, capacity=3, days=30, communities=[first])
    # None of these fits:
    other_community = offer(user, partner, communities=[second])
    other_service = offer(user, partner, service="meals")
    upcoming = offer(user, partner, start=today + timedelta(days=1))
    full = offer(user, partner, capacity=1)
    set_used(full, 1)
    closed = supply.close_offer(user, offer(user, partner).id)
    inactive, inactive_user = org()
    offer(inactive_user, inactive)
    bank.update_partner(
        street_officer(), inactive.id, bank.PartnerData(name=inactive.name, kind=inactive.kind, active=False)
    )
    foreign = foreign_offer()

    card = card_for(grid_worker(), wanted.id)
    ids = [o.offer_id for o in card.offers]
    # Local offers first, the one ending soonest first; then the street's, more left first.
    assert ids == [local_soon.id, local_long.id, street_wide.id, half_used.id]
    never = {other_community.id, other_service.id, upcoming.id, full.id, closed.id, foreign.id}
    assert never.isdisjoint(ids)
    assert inactive.name not in {o.partner_name for o in card.offers}
    assert texts(card.offers[0].reasons) == [
        "Same service",
        "Covers this community",
        "3 of 3 left",
        f"Valid until {(today + timedelta(days=30)).isoformat()}",
    ]
    assert texts(card.offers[3].reasons) == [
        "Same service",
        "Covers the whole street",
        "6 of 10 left",
        f"Valid until {(today + timedelta(days=60)).isoformat()}",
    ]
    # The other community's needs get the offer made for it, not the first community's.
    theirs = need(
        user_by_phone(DEMO.admin),
        household=make_household(user_by_phone(DEMO.admin), grid_id=_grid_of(second), building="二社区楼"),
    )
    there = [o.offer_id for o in card_for(street_officer(), theirs.id, second.id).offers]
    assert other_community.id in there and local_soon.id not in there and street_wide.id in there


def _grid_of(community):
    from app.models import Grid

    return db.session.scalar(sa.select(Grid.id).where(Grid.community_id == community.id).order_by(Grid.id))


def test_an_offer_ending_today_is_still_suggested_and_one_ended_yesterday_is_not(db):
    wanted = need()
    partner, user = org()
    today = clock.today()
    last_day = offer(user, partner, start=today, days=0)
    made = offer(user, partner, start=today, days=5)
    made.valid_from, made.valid_until = today - timedelta(days=5), today - timedelta(days=1)
    db.session.commit()
    ids = [o.offer_id for o in card_for(grid_worker(), wanted.id).offers]
    assert last_day.id in ids and made.id not in ids


def test_decided_offers_are_no_longer_suggested_for_that_need_only(db):
    one, other = need(), need()
    partner, user = org()
    made = offer(user, partner)
    supply_decisions.decline_match(grid_worker(), one.id, made.id, "路程太远")
    assert made.id not in [o.offer_id for o in card_for(grid_worker(), one.id).offers]
    assert made.id in [o.offer_id for o in card_for(grid_worker(), other.id).offers]
    decisions = card_for(grid_worker(), one.id).decisions
    assert [(d.offer_id, d.status.value, d.reason) for d in decisions] == [(made.id, "declined", "路程太远")]


def test_needs_are_listed_most_urgent_then_oldest_first(db):
    normal = need(urgency=Urgency.NORMAL)
    critical = need(urgency=Urgency.CRITICAL)
    urgent = need(urgency=Urgency.URGENT)
    critical_later = need(urgency=Urgency.CRITICAL)
    _c, _p, cards = supply_matching.community_needs(grid_worker(), communities()[0].id, per_page=EVERYTHING)
    mine = {normal.id, critical.id, urgent.id, critical_later.id}
    assert [c.need.id for c in cards if c.need.id in mine] == [
        critical.id,
        critical_later.id,
        urgent.id,
        normal.id,
    ]


def test_scope_of_the_community_page(db):
    first, second = communities()
    in_grid_1 = need()
    grid_2_worker = user_by_phone(DEMO.grid_worker_2)
    _c, _p, cards = supply_matching.community_needs(grid_2_worker, first.id, per_page=EVERYTHING)
    assert in_grid_1.id not in {c.need.id for c in cards}  # another grid's household
    _c, _p, cards = supply_matching.community_needs(street_officer(), first.id, per_page=EVERYTHING)
    assert in_grid_1.id in {c.need.id for c in cards}
    with pytest.raises(NotFound):
        supply_matching.community_needs(user_by_phone(DEMO.community_worker_2), first.id)
    with pytest.raises(NotFound):
        supply_matching.community_needs(grid_worker(), second.id)
    with pytest.raises(NotFound):
        supply_matching.community_needs(grid_worker(), 999_999)
    with pytest.raises(Forbidden):
        supply_matching.community_needs(user_by_phone(DEMO.volunteer), first.id)
    with pytest.raises(Forbidden):
        supply_matching.community_needs(org()[1], first.id)


# --- volunteers ----------------------------------------------------------------------------


def weekday_morning() -> datetime:
    day = clock.today() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 0), clock.LOCAL_TZ)


def test_a_need_with_a_task_gets_the_volunteers_matching_py_suggests_for_it(db):
    worker = grid_worker()
    wanted = need()
    free = volunteer()
    db.session.add(VolunteerFreeTime(user_id=free.id, slot=FreeTime.WEEKDAY_MORNING))
    db.session.commit()
    volunteer(skills=())  # no skill: scored lower, but a candidate for a task
    starts = weekday_morning()
    task = tasks.create_task(
        worker,
        tasks.TaskData(
            wanted.household_id,
            "housekeeping",
            starts,
            starts + timedelta(hours=2),
            "打扫",
            need_id=wanted.id,
        ),
    )
    card = card_for(worker, wanted.id)
    with force_locale("en"):
        expected = matching.suggest_volunteers(worker, task.id, limit=3)
    assert card.task.id == task.id
    assert [(s.volunteer_id, s.score) for s in card.volunteers] == [
        (s.volunteer_id, s.score) for s in expected
    ]
    assert [texts(s.reasons) for s in card.volunteers] == [texts(s.reasons) for s in expected]
    assert free.id in [s.volunteer_id for s in card.volunteers]  # skill, grid, free then: 90


def test_a_need_without_a_task_gets_the_communitys_volunteers_with_the_skill(db):
    worker = grid_worker()
    household = make_household(worker, building="技能楼")
    wanted = need(household=household, service="haircut")
    barber = volunteer(skills=("haircut",))
    volunteer(skills=("tutoring",))
    relative = volunteer(skills=("haircut",))
    db.session.add(
        Member(household_id=household.id, name="亲属", relation=Relation.CHILD, user_id=relative.id)
    )
    db.session.commit()
    far = volunteer(grid_id=make_tree("外社区")["grids"][0].id, skills=("haircut",))
    card = card_for(worker, wanted.id)
    ids = [s.volunteer_id for s in card.volunteers]
    assert barber.id in ids
    assert relative.id not in ids and far.id not in ids
    for suggestion in card.volunteers:
        assert texts(suggestion.reasons)[0] == "Offers Haircut and foot care"
    barber_card = next(s for s in card.volunteers if s.volunteer_id == barber.id)
    # 40 skill + 20 same grid + 10 newcomer reliability; no free-time part without a time.
    assert barber_card.score == 70
    assert texts(barber_card.reasons) == [
        "Offers Haircut and foot care",
        "Lives in the household's grid",
        "No other visits booked",
        "No visits yet",
    ]
