"""Recurring tasks (任务系列): a weekly visit, often with one paired
volunteer (一帮一结对), posted as all its occurrences at once."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from app import clock
from app.auth_scope import require_role, unscoped_get
from app.extensions import db
from app.models import Role, Task, TaskSeries, User
from app.services import tasks
from app.services.errors import DomainError, InvalidInput, NotFound
from app.services.households import LEDGER_WRITERS

MAX_OCCURRENCES = 26
MAX_EVERY_DAYS = 31


def occurrence_starts(first: datetime, every_days: int, until: date) -> list[datetime]:
    """Start times (aware UTC) from `first`, every `every_days` days, whose
    local (Asia/Shanghai) date is on or before `until`."""
    local = first.astimezone(clock.LOCAL_TZ)
    starts = []
    while local.date() <= until and len(starts) <= MAX_OCCURRENCES:
        starts.append(local.astimezone(UTC))
        local = local + timedelta(days=every_days)
    return starts


def create_series(actor, data: tasks.TaskData, every_days: int, until: date, paired_volunteer_id=None):
    """Post a TaskSeries and every occurrence up to `until` (at most 26) in
    one transaction; commit once. With a paired volunteer, claim each
    occurrence for them under the same rules as a claim.

    Raises Forbidden, NotFound (household out of scope), InvalidInput (as
    create_task, and every_days, until, paired_volunteer) and Conflict
    (household exited, or the paired volunteer's claim refused, e.g.
    overlapping_task). Any refusal writes nothing.
    Returns (series, tasks).
    """
    require_role(actor, *LEDGER_WRITERS)
    if not isinstance(every_days, int) or not 1 <= every_days <= MAX_EVERY_DAYS:
        raise InvalidInput(
            _l("Repeat every 1 to %(n)d days.", n=MAX_EVERY_DAYS), code="invalid_interval", field="every_days"
        )
    if not isinstance(data.starts_at, datetime) or data.starts_at.tzinfo is None:
        raise InvalidInput(_l("Enter a date and time."), code="invalid_time", field="starts_at")
    if not isinstance(until, date) or until < clock.local_date(data.starts_at):
        raise InvalidInput(
            _l("The series must end on or after its first visit."), code="invalid_until", field="until"
        )
    starts = occurrence_starts(data.starts_at, every_days, until)
    if len(starts) > MAX_OCCURRENCES:
        raise InvalidInput(
            _l("A series has at most %(n)d visits; choose an earlier end date.", n=MAX_OCCURRENCES),
            code="too_many_occurrences",
            field="until",
        )
    volunteer = _paired_volunteer(paired_volunteer_id)
    try:
        series, posted = _write_series(actor, data, every_days, until, starts, volunteer)
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    return series, posted


def _paired_volunteer(user_id) -> User | None:
    if user_id is None:
        return None
    user = unscoped_get(User, user_id)
    if user is None or not user.active or not user.has_role(Role.VOLUNTEER):
        raise InvalidInput(
            _l("No volunteer has this phone number."), code="unknown_volunteer", field="paired_volunteer"
        )
    return user


def _write_series(actor, data, every_days, until, starts, volunteer) -> tuple[TaskSeries, list[Task]]:
    """The series, its tasks and the paired volunteer's claims; flush only."""
    window = data.ends_at - data.starts_at if isinstance(data.ends_at, datetime) else None
    first = tasks.new_task(actor, replace(data))  # checks household, service, window… before the series
    series = TaskSeries(
        household_id=first.household_id,
        need_id=first.need_id,
        service_type_code=first.service_type_code,
        every_days=every_days,
        first_starts_at=first.starts_at,
        duration_minutes=int(window.total_seconds() // 60),
        until=until,
        paired_volunteer_id=volunteer.id if volunteer else None,
        note=first.description,
        created_by_id=actor.id,
    )
    db.session.add(series)
    db.session.flush()
    first.series_id = series.id
    posted = [first]
    for start in starts[1:]:
        posted.append(
            tasks.new_task(actor, replace(data, starts_at=start, ends_at=start + window), series_id=series.id)
        )
    if volunteer is not None:
        for task in posted:
            _claim_for(volunteer, task)
    return series, posted


def _claim_for(volunteer: User, task: Task) -> None:
    """Claim an occurrence for the paired volunteer, as their own claim would."""
    try:
        tasks.get_task(volunteer, task.id)
    except NotFound:
        raise InvalidInput(
            _l("This volunteer is not in the household's community."),
            code="volunteer_out_of_area",
            field="paired_volunteer",
        ) from None
    tasks._place_claim(volunteer, task)
