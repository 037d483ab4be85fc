"""Demo tasks for `seed-demo`: one in every state, made through the real
services (claims, door-card check-in/out, a follow-up-call confirmation),
with the clock set back where a state needs a past window."""

from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Claim, Household, Need, NeedStatus, Task, TaskStatus
from app.services import proxy_confirmations, tasks, visits
from app.services.accounts import find_by_phone

GRID_WORKER, VOLUNTEER = "13800000003", "13800000024"
HISTORY_MARK = "（往期服务）"  # ends the description of demo_history's past visits


@contextmanager
def clock_at(moment: datetime):
    clock.freeze(moment)
    try:
        yield
    finally:
        clock.freeze(None)


def seed_demo_tasks(grid_id: int) -> int:
    """Tasks in every state for the households of one demo grid, unless it has tasks already."""
    mine = sa.select(Task.id).where(Task.grid_id == grid_id, ~Task.description.endswith(HISTORY_MARK))
    if db.session.scalar(mine.limit(1)):
        return 0
    worker, volunteer = find_by_phone(GRID_WORKER), find_by_phone(VOLUNTEER)
    needs = list(
        db.session.scalars(
            sa.select(Need)
            .join(Household)
            .where(Household.grid_id == grid_id, Need.status == NeedStatus.OPEN)
            .order_by(Need.id)
        )
    )
    now = clock.now().replace(second=0, microsecond=0)
    # Visits at 9:00 and 14:00 Beijing time, today's date as the base.
    morning = datetime.combine(clock.today(), time(9), clock.LOCAL_TZ).astimezone(UTC)
    afternoon = morning + timedelta(hours=5)

    def post(need: Need, starts: datetime, hours: int = 2, slots: int = 1) -> Task:
        data = tasks.TaskData(
            household_id=need.household_id,
            service_type_code=need.service_type_code,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            description=need.description,
            slots=slots,
            urgency=need.urgency,
            need_id=need.id,
        )
        return tasks.create_task(worker, data)

    def visited(need: Need, starts: datetime) -> Claim:
        """Posted, claimed, checked in and out in the past."""
        card = visits.current_card(need.household_id) or visits.issue_door_card(worker, need.household_id)
        token = visits.door_token(card)
        with clock_at(starts - timedelta(days=1)):
            task = post(need, starts)
            tasks.claim_task(volunteer, task.id)
        with clock_at(starts + timedelta(minutes=5)):
            visits.check_in(volunteer, task.id, token)
        with clock_at(starts + timedelta(minutes=80)):
            return visits.check_out(volunteer, task.id, token)

    first, second, third = needs[0], needs[1 % len(needs)], needs[2 % len(needs)]
    post(first, morning + timedelta(days=2))  # open
    tasks.claim_task(volunteer, post(second, afternoon + timedelta(days=3)).id)  # claimed
    cancelled = post(third, morning + timedelta(days=4))
    tasks.cancel_task(worker, cancelled.id, "居民临时外出")
    with clock_at(morning - timedelta(days=12)):
        expired = post(first, morning - timedelta(days=10))
    with clock_at(morning - timedelta(days=9)):
        tasks.transition(expired, TaskStatus.EXPIRED, None, "无人认领，时段已过")
        db.session.commit()
    # In progress: the window opened half an hour ago and the volunteer is inside.
    card = visits.current_card(second.household_id) or visits.issue_door_card(worker, second.household_id)
    with clock_at(now - timedelta(hours=2)):
        in_progress = post(second, now - timedelta(minutes=30))
        tasks.claim_task(volunteer, in_progress.id)
    visits.check_in(volunteer, in_progress.id, visits.door_token(card))
    visited(third, afternoon - timedelta(days=1))  # awaiting the resident's confirmation
    done = visited(first, morning - timedelta(days=3))
    proxy_confirmations.confirm_by_follow_up_call(worker, done.id, "电话回访：老人说服务很好", 5)  # verified
    return 7
