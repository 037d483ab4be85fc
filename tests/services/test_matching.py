"""Matching (供需对接): who is suggested for a task, in what order and why; invitations."""

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.models import (
    AuditEntry,
    Claim,
    ClaimStatus,
    Community,
    FreeTime,
    Grid,
    Member,
    Notification,
    NotificationKind,
    Role,
    VolunteerFreeTime,
)
from app.models.user import user_skill
from app.services import matching, tasks
from app.services.errors import Conflict, Forbidden, NotFound
from tests.conftest import DEMO
from tests.factories import make_household, make_user, user_by_phone
from tests.services.test_notifications import make_task


def weekday_morning() -> datetime:
    """09:00 Beijing time on a weekday at least two days ahead."""
    day = clock.today() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 0), clock.LOCAL_TZ)


def grids():
    worker, other = user_by_phone(DEMO.grid_worker), user_by_phone(DEMO.grid_worker_2)
    return worker.grid_id, other.grid_id


def volunteer(db, grid_id, skills=(), free=()):
    user = make_user(Role.VOLUNTEER, grid_id=grid_id)
    for code in skills:
        db.session.execute(user_skill.insert().values(user_id=user.id, skill_code=code))
    db.session.add_all(VolunteerFreeTime(user_id=user.id, slot=slot) for slot in free)
    db.session.commit()
    return user


def by_id(suggestions):
    return {s.volunteer_id: s for s in suggestions}


def test_ranking_follows_skill_place_and_free_time(db):
    grid_1, grid_2 = grids()
    best = volunteer(db, grid_1, ["housekeeping"], [FreeTime.WEEKDAY_MORNING])
    skilled_elsewhere = volunteer(db, grid_2, ["housekeeping"], [FreeTime.WEEKEND_MORNING])
    unskilled = volunteer(db, grid_1, ["tutoring"], [FreeTime.WEEKDAY_MORNING])
    task = make_task(weekday_morning())
    with force_locale("en"):
        found = matching.suggest_volunteers(user_by_phone(DEMO.grid_worker), task.id, limit=50)
        reasons = {s.volunteer_id: [str(r) for r in s.reasons] for s in found}
    scores = {s.volunteer_id: s.score for s in found}
    # 40 skill + 20 grid + 20 free + 10 (newcomer reliability)
    assert scores[best.id] == 90
    assert scores[skilled_elsewhere.id] == 40 + 10 + 10
    assert scores[unskilled.id] == 20 + 20 + 10
    order = [s.volunteer_id for s in found]
    assert order.index(best.id) < order.index(skilled_elsewhere.id) < order.index(unskilled.id)
    assert reasons[best.id] == [
        "Offers Housekeeping",
        "Lives in the household's grid",
        "Usually free then (Weekday mornings)",
        "No other visits booked",
        "No visits yet",
    ]
    assert reasons[skilled_elsewhere.id][1] == "Lives in the same community"
    assert not any("Usually free" in r for r in reasons[skilled_elsewhere.id])


def test_load_reliability_and_flags_lower_the_score(db):
    grid_1, _ = grids()
    steady = volunteer(db, grid_1, ["housekeeping"])
    flaky = volunteer(db, grid_1, ["housekeeping"])
    busy = volunteer(db, grid_1, ["housekeeping"])
    past = [make_task(clock.now() + timedelta(days=10 + i)) for i in range(3)]
    db.session.add_all(
        Claim(task_id=t.id, volunteer_id=steady.id, status=ClaimStatus.CONFIRMED) for t in past
    )
    db.session.add_all(
        Claim(task_id=t.id, volunteer_id=flaky.id, status=ClaimStatus.NO_SHOW) for t in past[:2]
    )
    db.session.add(
        Claim(task_id=past[2].id, volunteer_id=flaky.id, status=ClaimStatus.CONFIRMED, flagged=True)
    )
    db.session.commit()
    db.session.add_all(Claim(task_id=t.id, volunteer_id=busy.id, status=ClaimStatus.ACTIVE) for t in past[:2])
    db.session.commit()
    task = make_task(weekday_morning())
    with force_locale("en"):
        found = by_id(matching.suggest_volunteers(user_by_phone(DEMO.grid_worker), task.id, limit=100))
        flaky_reasons = [str(r) for r in found[flaky.id].reasons]
        busy_reasons = [str(r) for r in found[busy.id].reasons]
    assert found[steady.id].score == 40 + 20 + round(20 * 4 / 5)
    assert found[flaky.id].score == 40 + 20 + round(20 * 2 / 5) - 10
    assert found[busy.id].score == 40 + 20 - 2 * 5 + 10
    assert "1 visits confirmed, 2 missed" in flaky_reasons
    assert "1 visit flagged at follow-up" in flaky_reasons
    assert "2 other visits booked" in busy_reasons


def test_who_is_never_suggested(db):
    grid_1, _ = grids()
    worker = user_by_phone(DEMO.grid_worker)
    household = make_household(worker, building="匹配楼")
    on_it = volunteer(db, grid_1, ["housekeeping"])
    overlapping = volunteer(db, grid_1, ["housekeeping"])
    of_household = volunteer(db, grid_1, ["housekeeping"])
    other_community = db.session.scalar(
        sa.select(Grid.id).join(Community).where(Community.name == "和谐社区")
    )
    outsider = volunteer(db, other_community, ["housekeeping"])
    resident = make_user(Role.RESIDENT, grid_id=grid_1)
    head = db.session.scalar(sa.select(Member).where(Member.household_id == household.id))
    head.user_id = of_household.id
    db.session.commit()
    start = weekday_morning()
    task = make_task(start, household=household, slots=2)
    tasks.claim_task(on_it, task.id)
    tasks.claim_task(overlapping, make_task(start + timedelta(hours=1)).id)
    found = by_id(matching.suggest_volunteers(worker, task.id, limit=1000))
    for excluded in (on_it, overlapping, of_household, outsider, resident):
        assert excluded.id not in found
    assert user_by_phone(DEMO.volunteer).id in found


def test_queries_do_not_grow_with_candidates(db):
    from app.extensions import db as ext

    grid_1, grid_2 = grids()
    task = make_task(weekday_morning())
    worker = user_by_phone(DEMO.grid_worker)

    def count_queries():
        db.session.expire_all()  # both runs start from the same session state
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(ext.engine, "before_cursor_execute", listener)
        try:
            result = matching.suggest_volunteers(worker, task.id, limit=100)
        finally:
            sa.event.remove(ext.engine, "before_cursor_execute", listener)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")]), len(result)

    before, few = count_queries()
    for i in range(6):
        volunteer(db, grid_1 if i % 2 else grid_2, ["housekeeping"], [FreeTime.WEEKDAY_MORNING])
    after, many = count_queries()
    assert many == few + 6 and after == before


def test_invite_sends_an_invitation_and_logs_it(db):
    grid_1, _ = grids()
    invitee = volunteer(db, grid_1, ["housekeeping"])
    worker = user_by_phone(DEMO.grid_worker)
    task = make_task(weekday_morning())
    sent = matching.invite(worker, task.id, invitee.id)
    assert sent.kind is NotificationKind.INVITATION and sent.user_id == invitee.id and sent.task_id == task.id
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "invite", AuditEntry.object_id == task.id)
    )
    assert entry.actor_id == worker.id and str(invitee.id) in entry.note
    with pytest.raises(Conflict) as error:
        matching.invite(worker, task.id, invitee.id)
    assert error.value.code == "already_invited"


def test_invite_refusals(db):
    grid_1, _ = grids()
    worker = user_by_phone(DEMO.grid_worker)
    task = make_task(weekday_morning())
    other_community = db.session.scalar(
        sa.select(Grid.id).join(Community).where(Community.name == "和谐社区")
    )
    outsider = volunteer(db, other_community, ["housekeeping"])
    for not_candidate in (outsider.id, worker.id, 2**31 - 1):
        with pytest.raises(Conflict) as error:
            matching.invite(worker, task.id, not_candidate)
        assert error.value.code == "not_a_candidate"
    holder = volunteer(db, grid_1)
    tasks.claim_task(holder, task.id)
    with pytest.raises(Conflict) as error:  # the task is now full
        matching.invite(worker, task.id, user_by_phone(DEMO.volunteer).id)
    assert error.value.code == "task_not_open"
    with pytest.raises(NotFound):  # another grid's task
        matching.invite(user_by_phone(DEMO.grid_worker_2), task.id, holder.id)
    with pytest.raises(NotFound):
        matching.suggest_volunteers(user_by_phone(DEMO.grid_worker_2), task.id)
    with pytest.raises(Forbidden):
        matching.suggest_volunteers(user_by_phone(DEMO.volunteer), task.id)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.kind == NotificationKind.INVITATION, Notification.task_id == task.id)
        )
        == 0
    )


def test_opted_out_volunteer_gets_nothing(db):
    from app.services.notifications import set_preference

    grid_1, _ = grids()
    invitee = volunteer(db, grid_1)
    set_preference(invitee, NotificationKind.INVITATION, False)
    task = make_task(weekday_morning())
    assert matching.invite(user_by_phone(DEMO.grid_worker), task.id, invitee.id) is None


def test_task_slot():
    from types import SimpleNamespace

    def slot(day: int, hour: int):  # 2025-03-03 is a Monday
        return matching.task_slot(
            SimpleNamespace(starts_at=datetime(2025, 3, day, hour, tzinfo=clock.LOCAL_TZ))
        )

    assert slot(3, 11) is FreeTime.WEEKDAY_MORNING
    assert slot(3, 12) is FreeTime.WEEKDAY_AFTERNOON
    assert slot(7, 18) is FreeTime.WEEKDAY_EVENING
    assert slot(8, 9) is FreeTime.WEEKEND_MORNING
    assert slot(9, 17) is FreeTime.WEEKEND_AFTERNOON
    assert slot(9, 23) is FreeTime.WEEKEND_EVENING
