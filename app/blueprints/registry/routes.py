"""Registry pages (filled in below by the household, casework and review views)."""

from app.blueprints.registry import bp  # noqa: F401
