"""The app survives PostgreSQL dropping its connections (a restart, a failover,
an administrator's pg_terminate_backend): pooled connections are pinged before
use, so the next request gets a fresh one, and everything committed before is
still there. Real commits, on the session's app; cleaned up afterwards."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import HelpRequest

NEED = "断线测试：帮忙买菜"


@pytest.fixture
def pg_app(_app):
    if not _app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("dropping server connections needs PostgreSQL")
    yield _app
    with _app.app_context():
        db.session.execute(sa.delete(HelpRequest).where(HelpRequest.need == NEED))
        db.session.commit()
        db.session.remove()


def _terminate_every_other_connection(app) -> int:
    """What a restart does to the app's pool: every server connection but this one ends."""
    with app.app_context():
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
        with engine.connect() as admin:
            ended = admin.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        engine.dispose()
    return ended


def test_requests_after_the_connections_were_dropped_succeed_and_keep_committed_data(pg_app):
    client = pg_app.test_client()
    grid_id = 1
    form = {"name": "孙桂兰", "phone": "13912345678", "address": "3号楼2单元301", "need": NEED}
    assert client.post(f"/help/g/{grid_id}", data=form | {"service_type_code": ""}).status_code == 302
    assert client.get("/healthz").status_code == 200  # the pool now holds live connections

    assert _terminate_every_other_connection(pg_app) >= 1

    assert client.get("/healthz").status_code == 200  # pinged, reconnected, answered
    assert client.get("/honour-board").status_code == 200
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(HelpRequest.need == NEED)) == 1
        db.session.remove()
