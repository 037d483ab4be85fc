"""Flask CLI commands (`flask --app wsgi …`); each calls a service."""

import os
import re

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.services import accounts, credit_export, demo, ledger
from app.services.errors import DomainError


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(ledger_check_command)
    app.cli.add_command(points_export_command)


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
