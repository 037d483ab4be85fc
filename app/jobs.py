"""The periodic-job runner: the registry, claiming a due period, APScheduler wiring and catch-up.

The job functions live in app/services/periodic.py (`job(now) -> summary`);
this module decides when they run and makes each due period run once. A
period is claimed by INSERTing its JobRun row (UNIQUE job, period) before
the job starts, so a second scheduler process, a restart or a manual
`flask run-job` for the same period finds it taken (ENGINEERING.md
"APScheduler"). Only the `flask scheduler` process starts a scheduler; the
web workers never do.
"""

import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, StatementError

from app import clock
from app.extensions import db
from app.models.jobs import JobOutcome, JobRun

logger = logging.getLogger(__name__)

ERROR_LIMIT = 2000  # characters of an error kept on the run; the log has the traceback
SUMMARY_LIMIT = 300  # JobRun.summary's length
RECENT_RUNS = 50


# --- schedules ----------------------------------------------------------------------------


class Schedule(ABC):
    """When a job falls due, in Asia/Shanghai time.

    A due period runs from one due moment to the next; its key names it.
    `period(now)` is the key of the period containing `now`, so a run late
    within its period (a misfire, a catch-up, a manual run) takes the same
    key as one on time.
    """

    misfire_grace_time: int  # seconds a late firing may still run

    @abstractmethod
    def trigger(self) -> CronTrigger: ...

    @abstractmethod
    def latest_due(self, now: datetime) -> datetime:
        """The latest due moment at or before `now`, aware UTC."""
        ...

    @abstractmethod
    def key(self, due: datetime) -> str:
        """The key of the period starting at the due moment `due`."""
        ...

    @abstractmethod
    def describe(self) -> str:
        """The schedule in words, translatable."""
        ...

    def period(self, now: datetime) -> str:
        return self.key(self.latest_due(now))


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("schedules need an aware datetime")
    return moment.astimezone(clock.LOCAL_TZ)


@dataclass(frozen=True)
class EveryMinutes(Schedule):
    """Every `minutes` minutes on the local clock's slots (:00, :10, … for 10)."""

    minutes: int = 10

    def __post_init__(self):
        if 60 % self.minutes:
            raise ValueError("minutes must divide an hour")

    @property
    def misfire_grace_time(self) -> int:
        return int(self.minutes * 1.5 * 60)  # 15 minutes for the 10-minute jobs

    def trigger(self) -> CronTrigger:
        return CronTrigger(minute=f"*/{self.minutes}", timezone=clock.LOCAL_TZ)

    def latest_due(self, now: datetime) -> datetime:
        local = _local(now)
        slot = local.replace(minute=local.minute - local.minute % self.minutes, second=0, microsecond=0)
        return slot.astimezone(UTC)

    def key(self, due: datetime) -> str:
        return _local(due).strftime("%Y-%m-%dT%H:%M")

    def describe(self) -> str:
        return _l("Every %(num)d minutes", num=self.minutes)


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


@dataclass(frozen=True)
class Weekly(Schedule):
    """Every week on `weekday` (0 = Monday) at hour:minute local; keyed by ISO week."""

    weekday: int = 0
    hour: int = 8
    minute: int = 0
    misfire_grace_time: int = 24 * 3600

    def trigger(self) -> CronTrigger:
        return CronTrigger(
            day_of_week=DAY_NAMES[self.weekday], hour=self.hour, minute=self.minute, timezone=clock.LOCAL_TZ
        )

    def latest_due(self, now: datetime) -> datetime:
        local = _local(now)
        due = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        due -= timedelta(days=(local.weekday() - self.weekday) % 7)
        if due > local:
            due -= timedelta(days=7)
        return due.astimezone(UTC)

    def key(self, due: datetime) -> str:
        year, week, _day = _local(due).isocalendar()
        return f"{year}-W{week:02d}"

    def describe(self) -> str:
        return _l(
            "Every %(day)s at %(time)s",
            day=WEEKDAYS[self.weekday],
            time=f"{self.hour:02d}:{self.minute:02d}",
        )


@dataclass(frozen=True)
class Monthly(Schedule):
    """Every month on `day` at hour:minute local; keyed by the local month."""

    day: int = 1
    hour: int = 0
    minute: int = 10
    misfire_grace_time: int = 24 * 3600

    def __post_init__(self):
        if not 1 <= self.day <= 28:
            raise ValueError("day must exist in every month (1–28)")

    def trigger(self) -> CronTrigger:
        return CronTrigger(day=self.day, hour=self.hour, minute=self.minute, timezone=clock.LOCAL_TZ)

    def latest_due(self, now: datetime) -> datetime:
        local = _local(now)
        due = local.replace(day=self.day, hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if due > local:
            year, month = (due.year, due.month - 1) if due.month > 1 else (due.year - 1, 12)
            due = due.replace(year=year, month=month)
        return due.astimezone(UTC)

    def key(self, due: datetime) -> str:
        return _local(due).strftime("%Y-%m")

    def describe(self) -> str:
        return _l(
            "On day %(day)d of every month at %(time)s",
            day=self.day,
            time=f"{self.hour:02d}:{self.minute:02d}",
        )


# --- the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A job: its name, its function (or the function's dotted path) and when it runs."""

    name: str
    target: str | Callable[[datetime], str]
    schedule: Schedule
    title: str = ""

    @property
    def func(self) -> Callable[[datetime], str]:
        """The function, imported on first use so that this module imports on its own."""
        if callable(self.target):
            return self.target
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


def registry(*jobs: Job) -> dict[str, Job]:
    return {job.name: job for job in jobs}


def _periodic(name: str, schedule: Schedule, title: str) -> Job:
    return Job(name, f"app.services.periodic:{name}", schedule, title)


TEN_MINUTES = EveryMinutes(10)

JOBS: dict[str, Job] = registry(
    _periodic("escalate_unclaimed_tasks", TEN_MINUTES, _l("Escalate tasks nobody has claimed")),
    _periodic("remind_claimants", TEN_MINUTES, _l("Remind volunteers of their visits")),
    _periodic("expire_unclaimed_tasks", TEN_MINUTES, _l("Expire tasks left unclaimed")),
    _periodic("release_no_shows", TEN_MINUTES, _l("Release claims of volunteers who did not come")),
    _periodic("expire_confirmation_links", TEN_MINUTES, _l("Expire confirmation links and vouchers")),
    _periodic(
        "remind_reviews", Weekly(weekday=0, hour=8, minute=0), _l("Remind grid workers of reviews due")
    ),
    _periodic(
        "freeze_honour_rolls", Monthly(day=1, hour=0, minute=10), _l("Freeze last month's honour roll")
    ),
)


def _jobs(jobs: Mapping[str, Job] | None) -> Mapping[str, Job]:
    # Looked up at call time, so tests can swap the module's registry.
    return JOBS if jobs is None else jobs


# --- running one period -------------------------------------------------------------------


def find_run(name: str, period: str) -> JobRun | None:
    return db.session.scalar(sa.select(JobRun).where(JobRun.job == name, JobRun.period == period))


def run_job(name: str, now: datetime | None = None, jobs: Mapping[str, Job] | None = None) -> JobRun | None:
    """Run job `name` for the period containing `now` (default: the clock's now), once.

    Returns the finished JobRun (OK or FAILED), or None when the period was
    already claimed (by another scheduler process or an earlier run). An
    exception from the job is logged and recorded as FAILED, never raised:
    one failing job must not stop the others; it runs again next period.
    Needs an app context. Raises KeyError for an unknown job name.
    """
    job = _jobs(jobs)[name]
    now = _local(now or clock.now()).astimezone(UTC)
    period = job.schedule.period(now)
    run_id = _claim(name, period)
    if run_id is None:
        return None
    try:
        summary = job.func(now)
    except Exception as error:
        db.session.rollback()  # whatever the job left uncommitted
        logger.exception("job %s (%s) failed", name, period)
        return _finish(run_id, JobOutcome.FAILED, error=_error_text(error))
    summary = str(summary or "")[:SUMMARY_LIMIT]
    logger.info("job %s (%s): %s", name, period, summary or "done")
    return _finish(run_id, JobOutcome.OK, summary=summary)


def _error_text(error: Exception) -> str:
    """The error for the admin page: type and message, without SQL parameters (they may name people)."""
    if isinstance(error, StatementError) and error.orig is not None:
        message = (str(error.orig).splitlines() or [""])[0]  # the driver's DETAIL lines may hold values
    else:
        message = str(error)
    return f"{type(error).__name__}: {message}"[:ERROR_LIMIT]


def _claim(name: str, period: str) -> int | None:
    """INSERT the period's row and commit it; None if another run holds it already."""
    run = JobRun(job=name, period=period, outcome=JobOutcome.RUNNING)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if find_run(name, period) is None:
            raise  # not the unique key: a real fault
        logger.info("job %s (%s): already ran, skipped", name, period)
        return None
    return run.id


def _finish(run_id: int, outcome: JobOutcome, summary: str = "", error: str = "") -> JobRun | None:
    try:
        # Fetched again: the job may have committed, rolled back or ended the session.
        run = db.session.get(JobRun, run_id)
        run.outcome, run.summary, run.error = outcome, summary, error
        run.finished_at = clock.now()
        db.session.commit()
        return run
    except Exception:
        # The database itself failed; the row stays RUNNING and the next period runs anyway.
        db.session.rollback()
        logger.exception("could not record the end of job run %s", run_id)
        return None


def catch_up(now: datetime | None = None, jobs: Mapping[str, Job] | None = None) -> list[JobRun]:
    """Run, once, every job whose latest due period has no run yet (after downtime).

    A scheduler that was down for days runs each missed job once, for the
    period containing now, not once per missed period. Needs an app context.
    """
    runs = []
    for job in _jobs(jobs).values():
        moment = now or clock.now()
        if find_run(job.name, job.schedule.period(job.schedule.latest_due(moment))) is None:
            logger.info("catching up job %s", job.name)
            run = run_job(job.name, moment, jobs)
            if run is not None:
                runs.append(run)
    return runs


# --- the scheduler ------------------------------------------------------------------------


def build_scheduler(app: Flask, scheduler_class=BlockingScheduler, jobs: Mapping[str, Job] | None = None):
    """An APScheduler 3 scheduler (not started) that runs every job through run_job.

    coalesce=True and max_instances=1 make a backlog one run, and an explicit
    misfire_grace_time lets a late firing still run (3.x's default of one
    second silently skips it). Jobs live in memory: the JobRun table, not
    the job store, is what makes each period run once.
    """
    jobs = _jobs(jobs)
    scheduler = scheduler_class(timezone=clock.LOCAL_TZ, jobstores={"default": MemoryJobStore()})
    for job in jobs.values():
        scheduler.add_job(
            _run_scheduled,
            trigger=job.schedule.trigger(),
            args=(app, job.name, jobs),
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.schedule.misfire_grace_time,
        )
    return scheduler


def _run_scheduled(app: Flask, name: str, jobs: Mapping[str, Job]) -> bool:
    """What the scheduler's thread calls: True if this process ran the period."""
    with app.app_context():  # the scheduler's threads have none of their own
        return run_job(name, jobs=jobs) is not None


# --- for the administrator's page and `flask jobs` ----------------------------------------


@dataclass
class JobStatus:
    job: Job
    last: JobRun | None
    next_due: datetime
    late: bool  # nothing ran since a due time past its grace: is the scheduler running?


def job_statuses(now: datetime | None = None, jobs: Mapping[str, Job] | None = None) -> list[JobStatus]:
    """Each job with its last run, its next due time and whether it is late."""
    now = now or clock.now()
    statuses = []
    for job in _jobs(jobs).values():
        last = db.session.scalar(
            sa.select(JobRun)
            .where(JobRun.job == job.name)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        schedule = job.schedule
        overdue = schedule.latest_due(now - timedelta(seconds=schedule.misfire_grace_time))
        next_due = schedule.trigger().get_next_fire_time(None, now).astimezone(UTC)
        statuses.append(JobStatus(job, last, next_due, last is None or last.started_at < overdue))
    return statuses


def recent_runs(limit: int = RECENT_RUNS) -> list[JobRun]:
    return list(
        db.session.scalars(
            sa.select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        )
    )
