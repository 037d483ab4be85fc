"""Routes of the board blueprint."""

from app.blueprints.board import bp  # noqa: F401
