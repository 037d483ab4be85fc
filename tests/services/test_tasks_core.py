"""The task state machine and claiming, without HTTP."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.models import ClaimStatus, Role, Task, TaskEvent, TaskStatus, Urgency
from app.services import tasks
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, make_user, user_by_phone


def a_task(slots=1, starts_in=timedelta(days=1), hours=2, household=None, **fields) -> Task:
    worker = user_by_phone(DEMO.grid_worker)
    household = household or make_household(worker, building="任务楼")
    starts = clock.now() + starts_in
    data = tasks.TaskData(
        household_id=household.id,
        service_type_code=fields.pop("service_type_code", "housekeeping"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        description=fields.pop("description", "打扫厨房"),
        slots=slots,
        **fields,
    )
    return tasks.create_task(worker, data)


def volunteer(n=1):
    return user_by_phone(DEMO.volunteer if n == 1 else DEMO.volunteer_2)


def test_post_and_claim_a_one_slot_task(db):
    task = a_task()
    assert task.status is TaskStatus.OPEN and task.taken == 0
    claim = tasks.claim_task(volunteer(), task.id)
    db.session.refresh(task)
    assert claim.status is ClaimStatus.ACTIVE
    assert task.status is TaskStatus.CLAIMED and task.taken == 1
    events = db.session.scalars(
        sa.select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, TaskStatus.OPEN),
        (TaskStatus.OPEN, TaskStatus.CLAIMED),
    ]


def test_full_task_and_second_claim_are_refused_and_change_nothing(db):
    task = a_task()
    tasks.claim_task(volunteer(1), task.id)
    with pytest.raises(Conflict) as error:
        tasks.claim_task(volunteer(1), task.id)
    assert error.value.code == "already_claimed"
    with pytest.raises(Conflict) as error:
        tasks.claim_task(volunteer(2), task.id)
    assert error.value.code == "task_full"
    db.session.refresh(task)
    assert task.taken == 1 and task.status is TaskStatus.CLAIMED


def test_two_slots_fill_in_turn(db):
    task = a_task(slots=2)
    tasks.claim_task(volunteer(1), task.id)
    db.session.refresh(task)
    assert task.status is TaskStatus.OPEN and task.taken == 1
    tasks.claim_task(volunteer(2), task.id)
    db.session.refresh(task)
    assert task.status is TaskStatus.CLAIMED and task.taken == 2


def test_unclaim_reopens_and_the_waiting_list_gets_the_place(db):
    task = a_task()
    tasks.claim_task(volunteer(1), task.id)
    tasks.join_waitlist(volunteer(2), task.id)
    tasks.unclaim_task(volunteer(1), task.id, "临时加班")
    db.session.refresh(task)
    assert task.status is TaskStatus.CLAIMED and task.taken == 1
    holders = [
        c.volunteer_id
        for c in db.session.scalars(
            sa.select(tasks.Claim).where(
                tasks.Claim.task_id == task.id, tasks.Claim.status == ClaimStatus.ACTIVE
            )
        )
    ]
    assert holders == [volunteer(2).id]


def test_unclaim_without_waiting_list_reopens(db):
    task = a_task()
    tasks.claim_task(volunteer(1), task.id)
    tasks.unclaim_task(volunteer(1), task.id, "生病")
    db.session.refresh(task)
    assert task.status is TaskStatus.OPEN and task.taken == 0
    tasks.claim_task(volunteer(1), task.id)  # may claim again


def test_overlapping_tasks_are_refused(db):
    first, second = a_task(), a_task(starts_in=timedelta(days=1, hours=1))
    tasks.claim_task(volunteer(), first.id)
    with pytest.raises(Conflict) as error:
        tasks.claim_task(volunteer(), second.id)
    assert error.value.code == "overlapping_task"


def test_own_household_is_refused(db):
    from app.models import Member

    household = make_household(user_by_phone(DEMO.grid_worker), building="自家楼")
    head = db.session.scalar(sa.select(Member).where(Member.household_id == household.id))
    head.user_id = volunteer().id
    db.session.commit()
    task = a_task(household=household)
    with pytest.raises(Conflict) as error:
        tasks.claim_task(volunteer(), task.id)
    assert error.value.code == "own_household"


def test_cancelled_and_past_tasks_cannot_be_claimed(db):
    task = a_task()
    tasks.cancel_task(user_by_phone(DEMO.grid_worker), task.id, "居民住院")
    with pytest.raises(Conflict) as error:
        tasks.claim_task(volunteer(), task.id)
    assert error.value.code == "task_not_open"
    soon = a_task(starts_in=timedelta(minutes=5))
    clock.freeze(clock.now() + timedelta(minutes=10))
    try:
        with pytest.raises(Conflict) as error:
            tasks.claim_task(volunteer(), soon.id)
        assert error.value.code == "task_started"
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("huge", [2**31, 10**20])
def test_giving_back_a_task_id_that_cannot_exist_is_not_claimed(db, huge):
    with pytest.raises(NotFound) as error:
        tasks.unclaim_task(volunteer(), huge, "临时有事")
    assert error.value.code == "not_claimed"


def test_every_illegal_transition_is_refused(db):
    for start, allowed in tasks.TRANSITIONS.items():
        for target in TaskStatus:
            if target in allowed:
                continue
            task = Task(status=start)
            with pytest.raises(Conflict):
                tasks.transition(task, target)
            assert task.status is start


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"slots": 0}, "invalid_slots"),
        ({"slots": 21}, "invalid_slots"),
        ({"hours": -1}, "invalid_window"),
        ({"starts_in": timedelta(hours=-1)}, "start_in_past"),
        ({"service_type_code": "juggling"}, "unknown_service_type"),
        ({"description": "  "}, "invalid_text"),
        ({"expected_minutes": 5}, "invalid_duration"),
        ({"starts_in": tasks.LATEST_TIME - clock.now()}, "invalid_time"),
        ({"starts_in": tasks.LATEST_TIME - clock.now() - timedelta(hours=1)}, "invalid_time"),  # ends in 2100
    ],
)
def test_bad_tasks_are_refused(db, change, code):
    before = count_rows(Task)
    with pytest.raises(InvalidInput) as error:
        a_task(**change)
    assert error.value.code == code and count_rows(Task) == before


def test_only_volunteers_claim_and_only_in_their_community(db):
    task = a_task()
    with pytest.raises(Forbidden):
        tasks.claim_task(user_by_phone(DEMO.resident), task.id)
    from app.models import Community, Grid

    other_grid = db.session.scalar(sa.select(Grid.id).join(Community).where(Community.name == "和谐社区"))
    outsider = make_user(Role.VOLUNTEER, grid_id=other_grid)
    with pytest.raises(NotFound):
        tasks.claim_task(outsider, task.id)


def test_board_sorts_by_urgency_then_start(db):
    later_critical = a_task(starts_in=timedelta(days=3), urgency=Urgency.CRITICAL)
    sooner_normal = a_task(starts_in=timedelta(days=2))
    ids = [t.id for t in db.session.scalars(tasks.board_stmt(volunteer()))]
    assert ids.index(later_critical.id) < ids.index(sooner_normal.id)
