"""Weekly series of tasks (任务系列) and paired volunteers (一帮一结对)."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.models import Claim, ClaimStatus, Community, Grid, Role, Task, TaskSeries, TaskStatus
from app.services import series, tasks
from app.services.errors import Conflict, Forbidden, InvalidInput
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, make_user, user_by_phone


def worker():
    return user_by_phone(DEMO.grid_worker)


def weekly_data(household=None, starts_in=timedelta(days=1), hours=1, **fields) -> tasks.TaskData:
    household = household or make_household(worker(), building="系列楼")
    starts = (clock.now() + starts_in).replace(microsecond=0)
    return tasks.TaskData(
        household_id=household.id,
        service_type_code=fields.pop("service_type_code", "housekeeping"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        description=fields.pop("description", "每周探望"),
        **fields,
    )


def test_a_weekly_series_posts_every_occurrence(db):
    data = weekly_data()
    until = clock.local_date(data.starts_at) + timedelta(weeks=3)
    made, posted = series.create_series(worker(), data, 7, until)
    assert len(posted) == 4
    assert [t.starts_at - posted[0].starts_at for t in posted] == [timedelta(weeks=k) for k in range(4)]
    assert all(t.series_id == made.id and t.status is TaskStatus.OPEN for t in posted)
    assert made.duration_minutes == 60 and made.until == until and made.paired_volunteer_id is None


def test_local_date_decides_the_last_occurrence(db):
    # 23:30 UTC is 07:30 the next day in Beijing: `until` is compared with that local day.
    tomorrow = clock.now() + timedelta(days=2)
    first = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 23, 30, tzinfo=tomorrow.tzinfo)
    local_day = clock.local_date(first)
    starts = series.occurrence_starts(first, 7, local_day + timedelta(days=7))
    assert len(starts) == 2
    assert series.occurrence_starts(first, 7, local_day - timedelta(days=1)) == []


def test_a_paired_volunteer_holds_every_occurrence(db):
    volunteer = user_by_phone(DEMO.volunteer)
    data = weekly_data()
    made, posted = series.create_series(
        worker(),
        data,
        7,
        clock.local_date(data.starts_at) + timedelta(weeks=2),
        paired_volunteer_id=volunteer.id,
    )
    assert made.paired_volunteer_id == volunteer.id
    claims = db.session.scalars(sa.select(Claim).where(Claim.task_id.in_([t.id for t in posted]))).all()
    assert len(claims) == 3 and {c.volunteer_id for c in claims} == {volunteer.id}
    assert all(c.status is ClaimStatus.ACTIVE for c in claims)
    for task in posted:
        db.session.refresh(task)
        assert task.status is TaskStatus.CLAIMED and task.taken == 1


def test_a_refused_claim_refuses_the_whole_series(db):
    volunteer = user_by_phone(DEMO.volunteer)
    data = weekly_data()
    # The volunteer is busy at the time of the third visit.
    busy = weekly_data(starts_in=data.starts_at - clock.now() + timedelta(weeks=2))
    tasks.claim_task(volunteer, tasks.create_task(worker(), busy).id)
    before = (count_rows(Task), count_rows(TaskSeries), count_rows(Claim))
    with pytest.raises(Conflict) as error:
        series.create_series(
            worker(),
            data,
            7,
            clock.local_date(data.starts_at) + timedelta(weeks=3),
            paired_volunteer_id=volunteer.id,
        )
    assert error.value.code == "overlapping_task"
    assert (count_rows(Task), count_rows(TaskSeries), count_rows(Claim)) == before


def test_a_paired_volunteer_must_be_a_volunteer_of_the_community(db):
    data = weekly_data()
    until = clock.local_date(data.starts_at) + timedelta(weeks=1)
    before = count_rows(Task)
    with pytest.raises(InvalidInput) as error:
        series.create_series(worker(), data, 7, until, paired_volunteer_id=user_by_phone(DEMO.resident).id)
    assert error.value.field == "paired_volunteer"
    other_grid = db.session.scalar(sa.select(Grid.id).join(Community).where(Community.name == "和谐社区"))
    outsider = make_user(Role.VOLUNTEER, grid_id=other_grid)
    with pytest.raises(InvalidInput) as error:
        series.create_series(worker(), data, 7, until, paired_volunteer_id=outsider.id)
    assert error.value.code == "volunteer_out_of_area"
    assert count_rows(Task) == before


@pytest.mark.parametrize(
    ("weeks", "every_days", "code"),
    [(26, 7, "too_many_occurrences"), (-1, 7, "invalid_until"), (2, 0, "invalid_interval")],
)
def test_bad_series_write_nothing(db, weeks, every_days, code):
    data = weekly_data()
    before = (count_rows(Task), count_rows(TaskSeries))
    with pytest.raises(InvalidInput) as error:
        series.create_series(
            worker(), data, every_days, clock.local_date(data.starts_at) + timedelta(weeks=weeks)
        )
    assert error.value.code == code
    assert (count_rows(Task), count_rows(TaskSeries)) == before


def test_twenty_six_occurrences_are_allowed(db):
    data = weekly_data()
    _, posted = series.create_series(
        worker(), data, 7, clock.local_date(data.starts_at) + timedelta(weeks=25)
    )
    assert len(posted) == 26


def test_a_bad_occurrence_writes_nothing(db):
    data = weekly_data(slots=0)
    before = (count_rows(Task), count_rows(TaskSeries))
    with pytest.raises(InvalidInput) as error:
        series.create_series(worker(), data, 7, clock.local_date(data.starts_at) + timedelta(weeks=2))
    assert error.value.code == "invalid_slots"
    assert (count_rows(Task), count_rows(TaskSeries)) == before


def test_only_staff_who_write_the_ledger_post_series(db):
    data = weekly_data()
    with pytest.raises(Forbidden):
        series.create_series(user_by_phone(DEMO.volunteer), data, 7, clock.local_date(data.starts_at))
