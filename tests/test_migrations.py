"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import Migrate

from app.extensions import db as _db


def test_models_match_migrations(db):
    """Fails when a model changed without `flask db migrate` (like `flask db check`)."""
    options = current_app.extensions["migrate"].configure_args
    connection = db.session.connection()  # the test's own (SQLite allows one writer)
    context = MigrationContext.configure(connection, opts={"compare_type": options["compare_type"]})
    diff = compare_metadata(context, _db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_one_head(db):
    migrate: Migrate = current_app.extensions["migrate"].migrate
    config = migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
