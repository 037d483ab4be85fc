"""Routes of the bank blueprint."""

from app.blueprints.bank import bp  # noqa: F401
