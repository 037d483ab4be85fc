"""Accepting offers under contention, with real commits and one connection
per thread: an offer is never used beyond its capacity, and a need and an
offer are decided once. On PostgreSQL this is the race the conditional
UPDATE in app/services/supply_decisions.py exists for; on SQLite writers are
serialised by BEGIN IMMEDIATE and must give the same answers.

These tests cannot run inside the rolled-back test transaction, so they
use the session's app directly and delete what they made afterwards.
"""

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditEntry,
    Household,
    HouseholdStatus,
    MatchOutcome,
    Measure,
    Need,
    OfferCommunity,
    Partner,
    PartnerKind,
    SupplyMatch,
    SupplyOffer,
    Task,
    TaskEvent,
)
from app.services import bank, casework, supply, supply_decisions
from app.services.accounts import find_by_phone
from tests.conftest import DEMO
from tests.factories import at_once

THREADS = 12
CAPACITY = 3


@pytest.fixture
def contested(_app):
    """An offer of CAPACITY units and THREADS open needs of one demo household, committed; removed afterwards."""
    with _app.app_context():
        last_audit = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
        officer, worker = find_by_phone(DEMO.street_officer), find_by_phone(DEMO.grid_worker)
        household_id = db.session.scalar(
            sa.select(Household.id)
            .where(Household.grid_id == worker.grid_id, Household.status == HouseholdStatus.ACTIVE)
            .order_by(Household.id)
        )
        partner = bank.create_partner(
            officer, bank.PartnerData(name="抢单社工站", kind=PartnerKind.SOCIAL_WORK)
        )
        today = clock.today()
        offer = supply.create_offer(
            officer,
            partner.id,
            supply.OfferData("housekeeping", CAPACITY, today, today + timedelta(days=30), "上门家政"),
        )
        need_ids = [
            casework.add_need(worker, household_id, casework.NeedData("housekeeping", f"需要打扫 {i}")).id
            for i in range(THREADS)
        ]
        ids = (partner.id, offer.id, need_ids)
        db.session.remove()
    try:
        yield _app, *ids
    finally:
        with _app.app_context():
            partner_id, offer_id, need_ids = ids
            task_ids = db.session.scalars(sa.select(Task.id).where(Task.partner_id == partner_id)).all()
            db.session.execute(sa.delete(SupplyMatch).where(SupplyMatch.offer_id == offer_id))
            db.session.execute(sa.delete(TaskEvent).where(TaskEvent.task_id.in_(task_ids)))
            db.session.execute(sa.delete(Task).where(Task.id.in_(task_ids)))
            db.session.execute(sa.delete(Measure).where(Measure.need_id.in_(need_ids)))
            db.session.execute(sa.delete(Need).where(Need.id.in_(need_ids)))
            db.session.execute(sa.delete(OfferCommunity).where(OfferCommunity.offer_id == offer_id))
            db.session.execute(sa.delete(SupplyOffer).where(SupplyOffer.id == offer_id))
            db.session.execute(sa.delete(Partner).where(Partner.id == partner_id))
            db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id > last_audit))
            db.session.commit()
            db.session.remove()


def accept(need_id: int, offer_id: int, outcome: MatchOutcome, day_offset: int = 2):
    def call() -> str:
        starts = datetime.combine(clock.today() + timedelta(days=day_offset), time(10), clock.LOCAL_TZ)
        data = supply_decisions.AcceptData(outcome, "需要打扫", starts, starts + timedelta(hours=1))
        supply_decisions.accept_match(find_by_phone(DEMO.grid_worker), need_id, offer_id, data)
        return "accepted"

    return call


def test_many_acceptances_never_use_an_offer_beyond_its_capacity(contested):
    app, _partner_id, offer_id, need_ids = contested
    outcomes = [MatchOutcome.TASK, MatchOutcome.MEASURE]
    answers = at_once(app, [accept(n, offer_id, outcomes[i % 2]) for i, n in enumerate(need_ids)])

    assert answers == ["accepted"] * CAPACITY + ["offer_full"] * (THREADS - CAPACITY)
    with app.app_context():
        assert db.session.get(SupplyOffer, offer_id).used == CAPACITY
        matches = db.session.scalars(sa.select(SupplyMatch).where(SupplyMatch.offer_id == offer_id)).all()
        assert len(matches) == CAPACITY
        made = sum(1 for m in matches if m.task_id) + sum(1 for m in matches if m.measure_id)
        assert made == CAPACITY
        tasks_made = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Task)
            .where(Task.id.in_([m.task_id for m in matches if m.task_id]))
        )
        measures_made = db.session.scalar(
            sa.select(sa.func.count()).select_from(Measure).where(Measure.need_id.in_(need_ids))
        )
        assert tasks_made + measures_made == CAPACITY  # nothing half-written by the refused ones
        db.session.remove()


def test_the_same_need_and_offer_accepted_at_once_is_decided_once(contested):
    app, _partner_id, offer_id, need_ids = contested
    calls = [accept(need_ids[0], offer_id, MatchOutcome.MEASURE) for _ in range(6)]
    answers = at_once(app, calls)

    assert answers == ["accepted"] + ["already_decided"] * 5
    with app.app_context():
        assert db.session.get(SupplyOffer, offer_id).used == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Measure).where(Measure.need_id == need_ids[0])
            )
            == 1
        )
        db.session.remove()
