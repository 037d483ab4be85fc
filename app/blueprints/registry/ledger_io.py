"""Registry views (being written)."""

from app.blueprints.registry import bp  # noqa: F401
