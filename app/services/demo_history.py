"""Demo history for `seed-demo`: months of past visits in community 1, each
claimed, checked in and out at the door and confirmed by the resident with a
rating and a thank-you note — through the real services, with the clock set
back — so the demo's points, honour board, steadiness badges and notice
board have something true to show."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.extensions import db
from app.models import Household, Need, NeedStatus, Task
from app.services import tasks, visits
from app.services.accounts import find_by_phone
from app.services.demo_tasks import GRID_WORKER, HISTORY_MARK, clock_at

MARK = HISTORY_MARK
# Who visited how many days ago: a steady one, a regular one, one with a gap.
SCHEDULE = {
    "13800000024": [14 * k for k in range(2, 10)],
    "13800000034": [21 * k for k in range(1, 6)],
    "13800000044": [40, 55, 130],
}
THANKS = [
    "小伙子干活很细致，谢谢！",
    "陪我聊了很久，心里暖暖的。",
    "厨房打扫得很干净，太感谢了。",
    "帮我把药都分好了，非常贴心。",
    "准时到，服务周到。",
]


def seed_demo_history(grid_id: int) -> int:
    """Past confirmed visits for the demo volunteers, unless they exist; the number made."""
    if db.session.scalar(sa.select(Task.id).where(Task.description.endswith(MARK)).limit(1)):
        return 0
    worker = find_by_phone(GRID_WORKER)
    needs = list(
        db.session.scalars(
            sa.select(Need)
            .join(Household)
            .where(Household.grid_id == grid_id, Need.status == NeedStatus.OPEN)
            .order_by(Need.id)
        )
    )
    # Oldest first, so the ledger's order is the order things happened.
    planned = sorted(
        ((days, phone, n) for phone, days_ago in SCHEDULE.items() for n, days in enumerate(days_ago)),
        key=lambda plan: (-plan[0], plan[1]),
    )
    with current_app.test_request_context():  # confirmation links are absolute URLs
        for made, (days, phone, n) in enumerate(planned):
            day = clock.today() - timedelta(days=days)
            starts = datetime.combine(day, time(9 + n % 6), clock.LOCAL_TZ).astimezone(UTC)
            need = needs[made % len(needs)]
            _visit(worker, find_by_phone(phone), need, starts, THANKS[made % len(THANKS)])
    made = len(planned)
    return made


def _visit(worker, volunteer, need: Need, starts: datetime, thanks: str) -> None:
    card = visits.current_card(need.household_id) or visits.issue_door_card(worker, need.household_id)
    token = visits.door_token(card)
    with clock_at(starts - timedelta(days=2)):
        task = tasks.create_task(
            worker,
            tasks.TaskData(
                household_id=need.household_id,
                service_type_code=need.service_type_code,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                description=need.description[:480] + MARK,
                urgency=need.urgency,
                need_id=need.id,
            ),
        )
        tasks.claim_task(volunteer, task.id)
    with clock_at(starts + timedelta(minutes=3)):
        visits.check_in(volunteer, task.id, token)
    with clock_at(starts + timedelta(minutes=75)):
        visits.check_out(volunteer, task.id, token)
        url, _expires = visits.confirmation_link(volunteer, task.id)
        visits.confirm_visit(urlsplit(url).path.removeprefix("/c/"), 5, thanks)
