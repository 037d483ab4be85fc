"""Routes of the points blueprint."""

from app.blueprints.points import bp  # noqa: F401
