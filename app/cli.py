"""Flask CLI commands (`flask --app wsgi …`); each calls a service."""

import logging
import os
import re
import signal
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from app import clock, jobs
from app.extensions import db
from app.models import JobOutcome
from app.services import accounts, credit_export, demo, honour_tally, key_rotation, ledger, scale_seed
from app.services.errors import DomainError

logger = logging.getLogger(__name__)


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(ledger_check_command)
    app.cli.add_command(rebuild_tallies_command)
    app.cli.add_command(points_export_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(run_job_command)
    app.cli.add_command(jobs_command)
    app.cli.add_command(rotate_data_key_command)
    app.cli.add_command(seed_scale_command)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no users.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo street, its people and their data (idempotent)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run in production.")
    if if_empty and not demo.database_is_empty():
        click.echo("The database already has data; demo data not loaded.")
        return
    logins = demo.seed_demo()
    click.echo(f"Demo data ready. Every demo login uses the password {demo.DEMO_PASSWORD}:")
    for login in logins:
        click.echo(f"  {login.phone}  {login.role.value:<17} {login.name}  ({login.note})")


@click.command("create-admin")
@click.option("--phone", required=True, help="Mainland mobile number of the administrator.")
@click.option("--name", default="管理员", show_default=True)
@with_appcontext
def create_admin_command(phone: str, name: str) -> None:
    """Make an administrator; the password comes from ADMIN_PASSWORD or a prompt."""
    password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        user = accounts.create_admin(phone, password, name=name)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Administrator {user.phone} (id {user.id}) is ready.")


@click.command("ledger-check")
@with_appcontext
def ledger_check_command() -> None:
    """Prove the points books: exit 1 and list every problem if they do not balance."""
    report = ledger.check_books()
    click.echo(f"{report.transactions} transactions, {report.accounts} accounts checked.")
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}")
    if not report.ok:
        click.echo(f"{len(report.problems)} problems found.")
        raise SystemExit(1)
    click.echo("The books balance.")


@click.command("rebuild-tallies")
@with_appcontext
def rebuild_tallies_command() -> None:
    """Recompute the honour board's tallies from the ledger (after a bulk load, or if ledger-check found them off)."""
    volunteer_rows, team_rows = honour_tally.rebuild_tallies()
    db.session.commit()
    click.echo(
        f"Honour tallies rebuilt from the ledger: {volunteer_rows} volunteer-day rows, {team_rows} team-day rows."
    )


def _month(_ctx, _param, value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not match:
        raise click.BadParameter("give the month as YYYY-MM, such as 2026-10")
    return int(match.group(1)), int(match.group(2))


@click.command("points-export")
@click.option("--month", required=True, callback=_month, help="The local month, YYYY-MM.")
@click.option("--format", "fmt", type=click.Choice(credit_export.FORMATS), default="csv", show_default=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout."
)
@with_appcontext
def points_export_command(month: tuple[int, int], fmt: str, output: str | None) -> None:
    """Points per volunteer for one month, for the city credit system (海贝分)."""
    try:
        data = credit_export.export_month(None, *month, fmt)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if output:
        with open(output, "wb") as file:
            file.write(data)
        click.echo(f"Wrote {len(data)} bytes to {output}.", err=True)
    else:
        click.echo(data, nl=False)  # bytes go to the binary stream as they are (the BOM included)


# --- periodic jobs (app/jobs.py) -------------------------------------------------------------


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _stop_on_sigterm(_signum, _frame) -> None:
    # Unwinds BlockingScheduler.start() like Ctrl-C does, so the same clean shutdown follows.
    raise SystemExit(0)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the periodic jobs in the foreground: one such process beside the web workers.

    Catches up first: each job whose latest due time passed while no
    scheduler ran runs once. Ctrl-C or SIGTERM stops it after the jobs
    running at that moment finish.
    """
    for run in jobs.catch_up():
        click.echo(f"Caught up {run.job} ({run.period}): {run.outcome.value}")
    db.session.remove()  # hold no connection while waiting; each run opens its own
    scheduler = jobs.build_scheduler(current_app._get_current_object())
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        logger.info("scheduler starting with %d jobs", len(jobs.JOBS))
        click.echo(f"Scheduler running {len(jobs.JOBS)} jobs (Asia/Shanghai time); Ctrl-C stops it.")
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        logger.info("scheduler stopping: waiting for running jobs")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        signal.signal(signal.SIGTERM, previous)
    logger.info("scheduler stopped")
    click.echo("Scheduler stopped.")


def _moment(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give a moment such as 2026-11-23T10:00+08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.LOCAL_TZ)  # people here mean Beijing time
    return moment.astimezone(UTC)


@click.command("run-job")
@click.argument("name")
@click.option(
    "--at",
    callback=_moment,
    help="Run as at this moment, e.g. 2026-11-23T10:00+08:00 (no offset: Asia/Shanghai). Default: now.",
)
@with_appcontext
def run_job_command(name: str, at: datetime | None) -> None:
    """Run one periodic job for the period containing now (or --at), once, like the scheduler.

    Exits 1 if the job failed; 0 if it ran or had already run for that period.
    """
    if name not in jobs.JOBS:
        raise click.BadParameter(f"no such job; one of: {', '.join(jobs.JOBS)}", param_hint="NAME")
    moment = at or clock.now()
    period = jobs.JOBS[name].schedule.period(moment)
    run = jobs.run_job(name, moment)
    if run is None:
        earlier = jobs.find_run(name, period)
        outcome = earlier.outcome.value if earlier else "unknown"
        click.echo(f"{name} ({period}): already ran ({outcome}); not run again.")
    elif run.outcome is JobOutcome.FAILED:
        click.echo(f"{name} ({period}): FAILED: {run.error}")
        raise SystemExit(1)
    else:
        click.echo(f"{name} ({period}): ok: {run.summary or 'done'}")


@click.command("jobs")
@with_appcontext
def jobs_command() -> None:
    """List the periodic jobs with their schedule, last run, outcome and summary."""
    with force_locale("en"):
        for status in jobs.job_statuses():
            late = "  LATE: is the scheduler running?" if status.late else ""
            click.echo(f"{status.job.name}: {status.job.schedule.describe()}{late}")
            last = status.last
            if last is None:
                click.echo("  last run: never")
            else:
                detail = last.error if last.outcome is JobOutcome.FAILED else last.summary
                started = _local(last.started_at)
                click.echo(f"  last run: {started} ({last.period}) {last.outcome.value}: {detail}")
            click.echo(f"  next due: {_local(status.next_due)}")


@click.command("rotate-data-key")
@with_appcontext
def rotate_data_key_command() -> None:
    """Rewrite every encrypted value under DATA_KEY; DATA_KEY_OLD holds the old key.

    Stop the web processes first (README.md, "Security"); it is one transaction.
    """
    try:
        report = key_rotation.rotate_data_key()
    except (DomainError, ValueError) as error:
        db.session.rollback()
        raise click.ClickException(str(getattr(error, "message", error))) from None
    click.echo(f"Rewrote {report.values} encrypted values and {report.indexes} blind indexes under DATA_KEY.")
    click.echo("Now restart the web processes without DATA_KEY_OLD.")


# --- city-scale synthetic data (benchmarks) ---------------------------------------------------


class _ClickProgress(scale_seed.Progress):
    """A bar per phase on stderr, then the phase's time."""

    @contextmanager
    def phase(self, label: str, total: int):
        started = time.monotonic()
        with click.progressbar(length=total, label=f"{label:<26}", file=sys.stderr, show_pos=True) as bar:
            yield bar.update
        click.echo(f"  {label}: {time.monotonic() - started:.1f} s", err=True)


def _as_of(_ctx, _param, value: str | None) -> date:
    if value is None:
        return clock.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give the date as YYYY-MM-DD, such as 2026-11-23") from None
    if not scale_seed.EARLIEST_AS_OF <= day <= scale_seed.LATEST_AS_OF:
        raise click.BadParameter(
            f"choose a day from {scale_seed.EARLIEST_AS_OF} to {scale_seed.LATEST_AS_OF}"
            " (the history reaches three years back, and the first point rules start in 2000)"
        )
    return day


@click.command("seed-scale")
@click.option(
    "--households",
    required=True,
    type=click.IntRange(1, scale_seed.MAX_HOUSEHOLDS),
    help="How many households; the city, its staff and 4 volunteers a household follow.",
)
@click.option("--seed", default=1, show_default=True, help="The same seed (and N, date) gives the same data.")
@click.option("--as-of", callback=_as_of, help="The day the data leads up to, YYYY-MM-DD. Default: today.")
@with_appcontext
def seed_scale_command(households: int, seed: int, as_of: date) -> None:
    """Fill an empty database with a city-scale synthetic data set (for benchmarks)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-scale refuses to run in production.")
    try:
        report = scale_seed.seed_scale(households, seed, as_of, _ClickProgress())
    except scale_seed.SeedRefused as error:
        raise click.ClickException(str(error)) from None
    plan = report.plan
    click.echo(
        f"A city of {plan.households} households (streets {plan.streets}, communities {plan.communities},"
        f" grids {plan.grids}, volunteers {plan.volunteers}) as of {report.as_of}, seed {report.seed},"
        f" in {report.seconds:.0f} s."
    )
    if report.dialect == "postgresql" and not report.fast_path:
        click.echo("(Not a superuser: foreign keys were checked row by row, one writer, so slower.)")
    click.echo("Rows written:")
    for table, count in report.rows.items():
        click.echo(f"  {table:<26}{count:>12,}")
    click.echo(f"  {'total':<26}{sum(report.rows.values()):>12,}")
    click.echo("Tasks by status: " + ", ".join(f"{s} {n:,}" for s, n in sorted(report.statuses.items())))
    click.echo(f"Every synthetic user's password is {report.password}. Some logins:")
    for login in report.logins:
        click.echo(f"  {login.phone}  {login.role:<17} {login.note}")
