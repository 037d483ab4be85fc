"""The periodic-job runner (app/jobs.py): schedules and their period keys, claiming a
period once, failures, catch-up after downtime, the APScheduler wiring and the CLI.

The runner is driven with small test jobs of its own; the last tests check
the real registry against app/services/periodic.py and run the real
`flask scheduler` process on a fresh database.
"""

import inspect
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask_babel import force_locale

from app import cli, clock, jobs
from app.extensions import db as _db
from app.jobs import EveryMinutes, Job, Monthly, Weekly
from app.models import JobOutcome, JobRun
from tests.conftest import second_app

MONDAY = datetime(2026, 11, 23, 2, 12, tzinfo=UTC)  # Monday 23 November 2026, 10:12 in Beijing
TEN = EveryMinutes(10)
PERIODIC_JOBS = (
    "escalate_unclaimed_tasks",
    "remind_claimants",
    "expire_unclaimed_tasks",
    "release_no_shows",
    "expire_confirmation_links",
    "remind_reviews",
    "freeze_honour_rolls",
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def calls():
    return []


@pytest.fixture
def test_jobs(calls):
    """A job that fails after leaving uncommitted work, then one that works."""

    def boom(now):
        calls.append(("boom", now))
        _db.session.add(JobRun(job="half-done", period="x"))
        _db.session.flush()
        raise RuntimeError("boom")

    def tick(now):
        calls.append(("tick", now))
        return "3 things done"

    return jobs.registry(Job("boom", boom, TEN), Job("tick", tick, TEN))


def runs_of(name: str) -> list[tuple[str, JobOutcome]]:
    stmt = sa.select(JobRun.period, JobRun.outcome).where(JobRun.job == name).order_by(JobRun.id)
    return [tuple(row) for row in _db.session.execute(stmt)]


# --- schedules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "now", "period", "due"),
    [
        (TEN, utc(2026, 11, 23, 2, 10), "2026-11-23T10:10", utc(2026, 11, 23, 2, 10)),
        (TEN, utc(2026, 11, 23, 2, 9, 59, 999999), "2026-11-23T10:00", utc(2026, 11, 23, 2, 0)),
        # 00:05 in Beijing is still the previous UTC day
        (TEN, utc(2026, 11, 22, 16, 5), "2026-11-23T00:00", utc(2026, 11, 22, 16, 0)),
        # Monday 08:00 in Beijing is 00:00 UTC; a minute before is last week's period
        (Weekly(), utc(2026, 11, 23, 0, 0), "2026-W48", utc(2026, 11, 23, 0, 0)),
        (Weekly(), utc(2026, 11, 22, 23, 59, 59), "2026-W47", utc(2026, 11, 16, 0, 0)),
        (Weekly(), utc(2026, 11, 29, 15, 0), "2026-W48", utc(2026, 11, 23, 0, 0)),  # Sunday 23:00
        (Weekly(), utc(2027, 1, 1, 4, 0), "2026-W53", utc(2026, 12, 28, 0, 0)),  # ISO year ≠ calendar year
        # local midnight on the 1st is 16:00 UTC the day before; the job is due at 00:10
        (Monthly(), utc(2026, 10, 31, 16, 0), "2026-10", utc(2026, 9, 30, 16, 10)),
        (Monthly(), utc(2026, 10, 31, 16, 10), "2026-11", utc(2026, 10, 31, 16, 10)),
        (Monthly(), utc(2026, 11, 30, 15, 59), "2026-11", utc(2026, 10, 31, 16, 10)),
        (Monthly(), utc(2026, 12, 31, 16, 5), "2026-12", utc(2026, 11, 30, 16, 10)),  # 1 Jan, 00:05
    ],
)
def test_period_keys_and_latest_due_at_boundaries(schedule, now, period, due):
    assert schedule.period(now) == period
    assert schedule.latest_due(now) == due
    assert schedule.latest_due(due) == due  # a due moment starts its own period


@pytest.mark.parametrize("name", PERIODIC_JOBS)
def test_each_trigger_fires_exactly_when_a_new_period_starts(name):
    schedule = jobs.JOBS[name].schedule
    trigger = schedule.trigger()
    fire = trigger.get_next_fire_time(None, MONDAY)
    for _ in range(3):
        assert schedule.latest_due(fire) == fire
        assert schedule.period(fire) != schedule.period(fire - timedelta(microseconds=1))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))


def test_the_real_schedules_and_their_words(app):
    with app.app_context(), force_locale("en"):
        words = {name: str(job.schedule.describe()) for name, job in jobs.JOBS.items()}
        grace = {name: job.schedule.misfire_grace_time for name, job in jobs.JOBS.items()}
    assert words == dict.fromkeys(PERIODIC_JOBS[:5], "Every 10 minutes") | {
        "remind_reviews": "Every Monday at 08:00",
        "freeze_honour_rolls": "On day 1 of every month at 00:10",
    }
    assert grace == dict.fromkeys(PERIODIC_JOBS[:5], 15 * 60) | dict.fromkeys(PERIODIC_JOBS[5:], 86400)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        TEN.period(datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001  (naive on purpose)


# --- run_job ------------------------------------------------------------------------------


def test_run_job_records_ok_with_its_summary(db, test_jobs, calls):
    run = jobs.run_job("tick", MONDAY, test_jobs)
    assert (run.job, run.period, run.outcome, run.summary) == (
        "tick",
        "2026-11-23T10:10",
        JobOutcome.OK,
        "3 things done",
    )
    assert run.finished_at is not None and run.error == ""
    assert calls == [("tick", MONDAY)]
    assert runs_of("tick") == [("2026-11-23T10:10", JobOutcome.OK)]


def test_a_second_run_for_the_same_period_does_nothing(db, test_jobs, calls, caplog):
    caplog.set_level(logging.INFO, logger="app.jobs")
    assert jobs.run_job("tick", MONDAY, test_jobs) is not None
    assert jobs.run_job("tick", MONDAY + timedelta(minutes=7), test_jobs) is None  # still the 10:10 slot
    assert calls == [("tick", MONDAY)]
    assert runs_of("tick") == [("2026-11-23T10:10", JobOutcome.OK)]
    assert "job tick (2026-11-23T10:10): already ran" in caplog.text


def test_a_raising_job_is_failed_logged_rolled_back_and_stops_nothing(db, test_jobs, calls, caplog):
    caplog.set_level(logging.INFO, logger="app.jobs")
    run = jobs.run_job("boom", MONDAY, test_jobs)
    assert run.outcome is JobOutcome.FAILED and run.error == "RuntimeError: boom"
    assert run.finished_at is not None
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "job boom (2026-11-23T10:10) failed"
    assert isinstance(record.exc_info[1], RuntimeError)  # logged with its traceback
    assert runs_of("half-done") == []  # the job's uncommitted work was rolled back
    # the next job runs right after
    assert jobs.run_job("tick", MONDAY, test_jobs).outcome is JobOutcome.OK
    # not again in the same period, but again at the next one
    assert jobs.run_job("boom", MONDAY, test_jobs) is None
    assert jobs.run_job("boom", MONDAY + timedelta(minutes=10), test_jobs).outcome is JobOutcome.FAILED
    assert [name for name, _now in calls] == ["boom", "tick", "boom"]
    assert runs_of("boom") == [
        ("2026-11-23T10:10", JobOutcome.FAILED),
        ("2026-11-23T10:20", JobOutcome.FAILED),
    ]


def test_a_long_error_is_truncated(db, calls):
    def shout(now):
        raise ValueError("x" * 5000)

    run = jobs.run_job("shout", MONDAY, jobs.registry(Job("shout", shout, TEN)))
    assert run.error.startswith("ValueError: xxx") and len(run.error) == jobs.ERROR_LIMIT


def test_a_database_error_is_recorded_without_its_sql_parameters(db):
    def duplicate(now):
        _db.session.add_all(
            [JobRun(job="twice", period="13912345678"), JobRun(job="twice", period="13912345678")]
        )
        _db.session.flush()

    run = jobs.run_job("dup", MONDAY, jobs.registry(Job("dup", duplicate, TEN)))
    assert run.outcome is JobOutcome.FAILED and run.error.startswith("IntegrityError: ")
    assert "13912345678" not in run.error and "[SQL" not in run.error
    assert runs_of("twice") == []


def test_run_job_defaults_to_the_clock(db, test_jobs, calls):
    clock.freeze(MONDAY)
    try:
        jobs.run_job("tick", jobs=test_jobs)
    finally:
        clock.freeze(None)
    assert calls == [("tick", MONDAY)]


# --- catch-up -----------------------------------------------------------------------------


def test_catch_up_after_days_down_runs_each_job_once(db, calls):
    def recorder(name):
        def job(now):
            calls.append((name, now))
            return name

        return job

    mixed = jobs.registry(
        Job("slot", recorder("slot"), TEN),
        Job("weekly", recorder("weekly"), Weekly()),
        Job("monthly", recorder("monthly"), Monthly()),
    )
    assert [run.job for run in jobs.catch_up(MONDAY, mixed)] == ["slot", "weekly", "monthly"]
    assert jobs.catch_up(MONDAY + timedelta(minutes=5), mixed) == []  # every period taken
    calls.clear()

    later = MONDAY + timedelta(days=40, hours=3)  # Saturday 2 January 2027, 13:12: many periods missed
    runs = jobs.catch_up(later, mixed)
    assert [(run.job, run.period, run.outcome) for run in runs] == [
        ("slot", "2027-01-02T13:10", JobOutcome.OK),
        ("weekly", "2026-W53", JobOutcome.OK),
        ("monthly", "2027-01", JobOutcome.OK),
    ]
    assert calls == [("slot", later), ("weekly", later), ("monthly", later)]
    assert jobs.catch_up(later, mixed) == []
    assert len(calls) == 3


def test_catch_up_goes_on_after_a_failing_job(db, test_jobs, calls):
    runs = jobs.catch_up(MONDAY, test_jobs)
    assert [(run.job, run.outcome) for run in runs] == [("boom", JobOutcome.FAILED), ("tick", JobOutcome.OK)]


# --- the scheduler ------------------------------------------------------------------------


def test_build_scheduler_adds_every_job_with_safe_options(app):
    scheduler = jobs.build_scheduler(app, BackgroundScheduler)
    added = {job.id: job for job in scheduler.get_jobs()}
    assert list(added) == list(PERIODIC_JOBS)
    assert str(scheduler.timezone) == "Asia/Shanghai"
    for name, job in added.items():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == jobs.JOBS[name].schedule.misfire_grace_time
    assert str(added["remind_reviews"].trigger) == "cron[day_of_week='mon', hour='8', minute='0']"
    assert str(added["freeze_honour_rolls"].trigger) == "cron[day='1', hour='0', minute='10']"
    assert str(added["release_no_shows"].trigger) == "cron[minute='*/10']"
    assert not scheduler.running


def test_the_scheduled_call_brings_its_own_app_context(app, test_jobs, calls):
    answers = []

    def scheduler_thread():  # like APScheduler's worker thread: no app context
        answers.append(jobs._run_scheduled(app, "tick", test_jobs))

    for _ in range(2):
        thread = threading.Thread(target=scheduler_thread)
        thread.start()
        thread.join(10)
    assert answers == [True, False]  # ran once; the second found the period taken
    assert len(calls) == 1


def test_creating_the_app_starts_no_scheduler(app):
    before = set(threading.enumerate())
    with second_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]) as web:
        assert web.test_client().get("/healthz").status_code == 200
        started = set(threading.enumerate()) - before
    assert started == set()


# --- the CLI --------------------------------------------------------------------------------


@pytest.fixture
def cli_jobs(monkeypatch, test_jobs):
    monkeypatch.setattr(jobs, "JOBS", test_jobs)
    return test_jobs


def test_run_job_command_runs_once_per_period(runner, cli_jobs, calls):
    result = runner.invoke(args=["run-job", "tick", "--at", "2026-11-23T10:12+08:00"])
    assert result.exit_code == 0, result.output
    assert result.output == "tick (2026-11-23T10:10): ok: 3 things done\n"
    result = runner.invoke(args=["run-job", "tick", "--at", "2026-11-23T10:19"])  # no offset: Beijing time
    assert result.exit_code == 0
    assert result.output == "tick (2026-11-23T10:10): already ran (ok); not run again.\n"
    assert calls == [("tick", MONDAY)]


def test_run_job_command_exits_1_when_the_job_fails(app, runner, cli_jobs):
    result = runner.invoke(args=["run-job", "boom", "--at", "2026-11-23T02:12:00Z"])
    assert result.exit_code == 1
    assert result.output == "boom (2026-11-23T10:10): FAILED: RuntimeError: boom\n"
    with app.app_context():
        assert runs_of("boom") == [("2026-11-23T10:10", JobOutcome.FAILED)]


def test_run_job_command_refuses_bad_input(runner, cli_jobs, calls):
    result = runner.invoke(args=["run-job", "nosuch"])
    assert result.exit_code == 2 and "no such job; one of: boom, tick" in result.output
    result = runner.invoke(args=["run-job", "tick", "--at", "next tuesday"])
    assert result.exit_code == 2 and "2026-11-23T10:00+08:00" in result.output
    assert calls == []


def test_jobs_command_lists_schedule_last_run_and_outcome(app, runner, cli_jobs):
    clock.freeze(MONDAY)
    try:
        assert runner.invoke(args=["run-job", "boom"]).exit_code == 1
        clock.freeze(MONDAY + timedelta(minutes=20))
        result = runner.invoke(args=["jobs"])
    finally:
        clock.freeze(None)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "boom: Every 10 minutes"
    assert lines[1] == "  last run: 2026-11-23 10:12 (2026-11-23T10:10) failed: RuntimeError: boom"
    assert lines[2] == "  next due: 2026-11-23 10:40"
    assert lines[3] == "tick: Every 10 minutes  LATE: is the scheduler running?"
    assert lines[4] == "  last run: never"


def test_scheduler_command_catches_up_and_stops_cleanly_on_sigterm(runner, monkeypatch, calls):
    def monthly(now):
        calls.append(("monthly", now))
        return "frozen"

    # A schedule that cannot fire during the test: only the catch-up runs.
    monkeypatch.setattr(
        jobs, "JOBS", jobs.registry(Job("monthly", monthly, Monthly(day=28, hour=3, minute=33)))
    )

    def send_sigterm_once_running():
        deadline = time.monotonic() + 60
        while signal.getsignal(signal.SIGTERM) is not cli._stop_on_sigterm:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=send_sigterm_once_running, daemon=True).start()
    result = runner.invoke(args=["scheduler"])
    assert result.exit_code == 0, result.output
    assert "Caught up monthly (" in result.output and "): ok" in result.output
    assert result.output.endswith("Scheduler stopped.\n")
    assert len(calls) == 1
    assert signal.getsignal(signal.SIGTERM) is not cli._stop_on_sigterm  # put back


# --- the real jobs --------------------------------------------------------------------------


def test_the_registry_names_exactly_the_seven_periodic_functions():
    from app.services import periodic

    assert tuple(jobs.JOBS) == PERIODIC_JOBS
    for name, job in jobs.JOBS.items():
        assert job.name == name and job.func is getattr(periodic, name)
        assert callable(job.func) and list(inspect.signature(job.func).parameters) == ["now"]


def test_the_scheduler_process_catches_up_every_job_and_stops_on_sigterm(tmp_path):
    """`flask scheduler` as deployed, on a fresh database of its own (it commits for real)."""
    root = Path(__file__).resolve().parent.parent
    database = tmp_path / "scheduler.db"
    env = os.environ | {
        "APP_ENV": "development",  # "testing" means an in-memory database
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "scheduler-test",
        "DATA_KEY": "scheduler-test",
        "PYTHONUNBUFFERED": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=root, env=env, check=True, capture_output=True, timeout=120)
    process = subprocess.Popen(
        [*flask, "scheduler"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        output = []
        for line in process.stdout:
            output.append(line)
            if line.startswith("Scheduler running"):
                break
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
    output = "".join(output) + rest
    assert process.returncode == 0, output
    assert "Scheduler running 7 jobs" in output and output.endswith("Scheduler stopped.\n")
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT job, outcome, error FROM job_run ORDER BY id").fetchall()
    assert [(job, outcome) for job, outcome, _error in rows] == [(name, "OK") for name in PERIODIC_JOBS], rows
