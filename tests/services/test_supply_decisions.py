"""Accepting an offer for a need (a reserved task or a measure, one unit of
capacity), refusals that leave nothing written, declining, and what the
organisation sees of its accepted matches."""

from dataclasses import fields
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditEntry,
    MatchOutcome,
    MatchStatus,
    Measure,
    MeasureKind,
    NeedStatus,
    SupplyMatch,
    SupplyOffer,
    Task,
    TaskStatus,
    Urgency,
)
from app.services import casework, supply, supply_decisions, supply_org, tasks
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import user_by_phone
from tests.services.supply_builders import communities, grid_worker, member, need, offer, org, volunteer


def visit_window(days: int = 3) -> tuple[datetime, datetime]:
    starts = datetime.combine(clock.today() + timedelta(days=days), time(9, 30), clock.LOCAL_TZ)
    return starts, starts + timedelta(hours=2)


def as_task(text: str = "", days: int = 3) -> supply_decisions.AcceptData:
    starts, ends = visit_window(days)
    return supply_decisions.AcceptData(MatchOutcome.TASK, text, starts, ends)


def used(offer_row) -> int:
    return db.session.scalar(sa.select(SupplyOffer.used).where(SupplyOffer.id == offer_row.id))


def written() -> tuple[int, int, int]:
    return count_rows(SupplyMatch), count_rows(Task), count_rows(Measure)


def test_accepting_as_a_task_posts_a_task_for_the_organisations_volunteers(db):
    worker = grid_worker()
    wanted = need(urgency=Urgency.URGENT)
    partner, user = org()
    made = offer(user, partner, capacity=3)
    match = supply_decisions.accept_match(worker, wanted.id, made.id, as_task("老人需要每周打扫一次厨房"))
    task = db.session.get(Task, match.task_id)
    assert (match.status, match.outcome, match.org_description) == (
        MatchStatus.ACCEPTED,
        MatchOutcome.TASK,
        "老人需要每周打扫一次厨房",
    )
    assert (task.partner_id, task.created_by_id, task.need_id, task.household_id) == (
        partner.id,
        worker.id,
        wanted.id,
        wanted.household_id,
    )
    assert (task.slots, task.urgency, task.status, task.description) == (
        1,
        Urgency.URGENT,
        TaskStatus.OPEN,
        "老人需要每周打扫一次厨房",
    )
    assert used(made) == 1
    audit = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.object_type, AuditEntry.household_id).where(
            AuditEntry.actor_id == worker.id, AuditEntry.household_id == wanted.household_id
        )
    ).all()
    assert ("accept", "supply_match", wanted.household_id) in audit
    assert ("create", "task", wanted.household_id) in audit
    # The need stays open until it is met; the task is the organisation's volunteers' to claim.
    assert db.session.get(type(wanted), wanted.id).status is NeedStatus.OPEN
    insider = volunteer()
    member(partner, user, insider)
    with pytest.raises(Conflict) as refused:
        tasks.claim_task(user_by_phone(DEMO.volunteer), task.id)
    assert refused.value.code == "partner_volunteers_only"
    assert tasks.claim_task(insider, task.id).volunteer_id == insider.id


def test_accepting_as_a_measure_records_it_in_the_households_ledger(db):
    worker = user_by_phone(DEMO.community_worker)
    wanted = need()
    partner, user = org()
    made = offer(user, partner)
    data = supply_decisions.AcceptData(MatchOutcome.MEASURE, "")
    match = supply_decisions.accept_match(worker, wanted.id, made.id, data)
    measure = db.session.get(Measure, match.measure_id)
    assert (measure.household_id, measure.need_id, measure.kind, measure.on) == (
        wanted.household_id,
        wanted.id,
        MeasureKind.MEASURE,
        clock.today(),
    )
    assert measure.description.startswith(partner.name)
    assert match.org_description.startswith("家政 · ")  # the default: service · urgency
    assert match.task_id is None and used(made) == 1
    assert measure.id in [m.id for m in casework.records_of(wanted.household_id).measures]


def test_the_default_description_says_only_the_service_and_urgency(db):
    wanted = need(urgency=Urgency.CRITICAL, text="秘密户主 身患重病 住3号楼")
    partner, user = org()
    made = offer(user, partner)
    match = supply_decisions.accept_match(
        grid_worker(), wanted.id, made.id, supply_decisions.AcceptData(MatchOutcome.MEASURE, "   ")
    )
    assert "秘密" not in match.org_description and "3号楼" not in match.org_description
    assert match.org_description.split(" · ")[0] == "家政"


@pytest.mark.parametrize("setup, code", [("full", "offer_full"), ("closed", "offer_closed")])
def test_an_unusable_offer_is_refused_and_nothing_is_written(db, setup, code):
    wanted = need()
    partner, user = org()
    made = offer(user, partner, capacity=1)
    if setup == "full":
        db.session.execute(sa.update(SupplyOffer).where(SupplyOffer.id == made.id).values(used=1))
        db.session.commit()
    else:
        supply.close_offer(user, made.id)
    before = written()
    with pytest.raises(Conflict) as refused:
        supply_decisions.accept_match(grid_worker(), wanted.id, made.id, as_task())
    assert refused.value.code == code
    assert written() == before


def test_an_offer_for_another_community_or_out_of_its_period_is_refused(db):
    _first, second = communities()
    wanted = need()
    partner, user = org()
    elsewhere = offer(user, partner, communities=[second])
    with pytest.raises(Conflict) as not_here:
        supply_decisions.accept_match(grid_worker(), wanted.id, elsewhere.id, as_task())
    assert not_here.value.code == "offer_not_here"
    later = offer(user, partner, start=clock.today() + timedelta(days=2))
    with pytest.raises(Conflict) as early:
        supply_decisions.accept_match(grid_worker(), wanted.id, later.id, as_task())
    assert early.value.code == "offer_out_of_period"


def test_a_task_outside_the_offers_period_or_in_the_past_is_refused_and_capacity_stays(db):
    wanted = need()
    partner, user = org()
    made = offer(user, partner, days=5)
    before = written()
    with pytest.raises(InvalidInput) as outside:
        supply_decisions.accept_match(grid_worker(), wanted.id, made.id, as_task(days=9))
    assert (outside.value.code, outside.value.field) == ("outside_offer_period", "day")
    starts = clock.now() - timedelta(hours=1)
    past = supply_decisions.AcceptData(MatchOutcome.TASK, "打扫", starts, starts + timedelta(hours=2))
    with pytest.raises(InvalidInput) as in_past:
        supply_decisions.accept_match(grid_worker(), wanted.id, made.id, past)
    assert in_past.value.code == "start_in_past"
    # new_task refused after the unit was taken: the whole transaction rolled back.
    assert used(made) == 0 and written() == before


def test_a_pair_is_decided_once_and_a_closed_need_takes_no_offer(db):
    wanted = need()
    partner, user = org()
    made = offer(user, partner)
    supply_decisions.accept_match(grid_worker(), wanted.id, made.id, as_task())
    with pytest.raises(Conflict) as twice:
        supply_decisions.accept_match(grid_worker(), wanted.id, made.id, as_task(days=4))
    assert twice.value.code == "already_decided"
    with pytest.raises(Conflict) as declined:
        supply_decisions.decline_match(grid_worker(), wanted.id, made.id, "重复")
    assert declined.value.code == "already_decided"
    assert used(made) == 1
    closed = need()
    casework.close_need(grid_worker(), closed.id, NeedStatus.MET, "已解决")
    with pytest.raises(Conflict) as not_open:
        supply_decisions.accept_match(grid_worker(), closed.id, made.id, as_task())
    assert not_open.value.code == "need_not_open"


def test_who_may_decide(db):
    wanted = need()
    partner, user = org()
    made = offer(user, partner)
    data = supply_decisions.AcceptData(MatchOutcome.MEASURE, "打扫")
    with pytest.raises(NotFound):  # another grid's household
        supply_decisions.accept_match(user_by_phone(DEMO.grid_worker_2), wanted.id, made.id, data)
    with pytest.raises(NotFound):  # another community's worker
        supply_decisions.accept_match(user_by_phone(DEMO.community_worker_2), wanted.id, made.id, data)
    with pytest.raises(Forbidden):  # street officers see, community and grid staff decide
        supply_decisions.accept_match(user_by_phone(DEMO.street_officer), wanted.id, made.id, data)
    with pytest.raises(Forbidden):
        supply_decisions.accept_match(user, wanted.id, made.id, data)
    with pytest.raises(NotFound):  # an offer of another service
        supply_decisions.accept_match(
            grid_worker(), wanted.id, offer(user, partner, service="meals").id, data
        )
    with pytest.raises(NotFound):
        supply_decisions.decline_match(grid_worker(), wanted.id, 999_999, "不合适")
    assert used(made) == 0


def test_declining_needs_a_reason_and_is_audit_logged(db):
    wanted = need()
    partner, user = org()
    made = offer(user, partner)
    with pytest.raises(InvalidInput) as blank:
        supply_decisions.decline_match(grid_worker(), wanted.id, made.id, "  ")
    assert (blank.value.code, blank.value.field) == ("invalid_text", "reason")
    match = supply_decisions.decline_match(grid_worker(), wanted.id, made.id, "时间不合适")
    assert (match.status, match.outcome, match.reason) == (MatchStatus.DECLINED, None, "时间不合适")
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.object_type == "supply_match", AuditEntry.object_id == match.id
        )
    )
    assert (entry.action, entry.household_id) == ("decline", wanted.household_id)
    assert used(made) == 0


def test_the_organisation_sees_no_household_details_of_its_matches(db):
    wanted = need(text="秘密户主 住供需楼 电话保密")
    partner, user = org()
    made = offer(user, partner)
    supply_decisions.accept_match(grid_worker(), wanted.id, made.id, as_task("独居老人需要打扫"))
    page = supply_org.org_matches(user, partner.id)
    assert page.total == 1
    (row,) = page.items
    assert {f.name for f in fields(row)} == {
        "match_id",
        "offer_id",
        "service",
        "community",
        "description",
        "outcome",
        "accepted_at",
        "task_starts_at",
        "task_ends_at",
        "task_status",
        "measure_on",
    }
    assert (row.community, row.description, row.service.code) == (
        communities()[0].name,
        "独居老人需要打扫",
        "housekeeping",
    )
    flat = " ".join(str(getattr(row, f.name)) for f in fields(row))
    assert "秘密" not in flat and "供需楼" not in flat
    _other, stranger = org()
    with pytest.raises(NotFound):
        supply_org.org_matches(stranger, partner.id)
