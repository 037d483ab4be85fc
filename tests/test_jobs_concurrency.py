"""Two scheduler processes on one PostgreSQL database run each due period once.

Two real APScheduler BackgroundSchedulers, built by build_scheduler as the
`flask scheduler` process builds its own, fire a test job every second at
the same moments for a few seconds. The JobRun row claimed by INSERT (UNIQUE
job, period) lets one of them run each second and turns the other away.
The schedulers' threads need to see each other's commits, so this runs
outside the rolled-back test transaction and deletes its rows afterwards.
"""

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from app import clock, jobs
from app.extensions import db
from app.jobs import Job, Schedule
from app.models import JobOutcome, JobRun


class EverySecond(Schedule):
    """A test schedule: due at every second; the period is the UTC second."""

    misfire_grace_time = 2

    def trigger(self) -> CronTrigger:
        return CronTrigger(second="*", timezone=clock.LOCAL_TZ)

    def latest_due(self, now: datetime) -> datetime:
        return now.astimezone(UTC).replace(microsecond=0)

    def key(self, due: datetime) -> str:
        return due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def describe(self) -> str:
        return "Every second"


@pytest.fixture
def job_name(_app):
    if _app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("two schedulers racing on one database need PostgreSQL; SQLite serialises writers")
    name = f"test-tick-{uuid.uuid4().hex[:8]}"
    yield name
    with _app.app_context():
        db.session.execute(sa.delete(JobRun).where(JobRun.job == name))
        db.session.commit()
        db.session.remove()


def test_two_schedulers_run_each_period_exactly_once(_app, job_name):
    schedule = EverySecond()
    calls: list[str] = []
    lock = threading.Lock()

    def tick(now: datetime) -> str:
        with lock:
            calls.append(schedule.period(now))
        return "ticked"

    test_jobs = jobs.registry(Job(job_name, tick, schedule))
    attempts: dict[str, list[bool]] = {"a": [], "b": []}
    schedulers = {}
    for label in attempts:
        scheduler = jobs.build_scheduler(_app, BackgroundScheduler, test_jobs)
        # retval is True when this scheduler ran the period, False when it found it taken.
        scheduler.add_listener(
            lambda event, label=label: attempts[label].append(event.retval),
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
        )
        schedulers[label] = scheduler
    for scheduler in schedulers.values():
        scheduler.start()
    try:
        time.sleep(3.5)
    finally:
        for scheduler in schedulers.values():
            scheduler.shutdown(wait=True)

    with _app.app_context():
        rows = db.session.execute(
            sa.select(JobRun.period, JobRun.outcome).where(JobRun.job == job_name)
        ).all()
        db.session.remove()
    periods = [period for period, _outcome in rows]
    assert len(periods) >= 3
    assert len(set(periods)) == len(periods)
    assert all(outcome is JobOutcome.OK for _period, outcome in rows)
    assert sorted(calls) == sorted(periods)  # one call per period, none twice
    assert all(len(tries) >= 3 for tries in attempts.values())  # both schedulers fired every second
    every_try = attempts["a"] + attempts["b"]
    assert every_try.count(True) == len(periods)  # only the winners ran the job
    assert every_try.count(False) >= 1  # and the loser of a second was turned away
