"""Flask CLI commands (`flask --app wsgi …`); each calls a service."""

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.services import accounts, demo
from app.services.errors import DomainError


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)


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
