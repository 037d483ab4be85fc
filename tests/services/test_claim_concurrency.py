"""Claiming under contention, with real commits and one connection per thread.

These tests cannot run inside the rolled-back test transaction (the threads
need to see each other's commits), so they use the session's app directly
and delete what they made afterwards. On PostgreSQL this is the race the
conditional UPDATE in app/services/tasks.py exists for; on SQLite the
writers are serialised by BEGIN IMMEDIATE and must give the same answer.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditEntry,
    Claim,
    Household,
    Notification,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    User,
)
from app.services import tasks
from app.services.accounts import create_user, find_by_phone
from tests.conftest import DEMO
from tests.factories import at_once

THREADS = 50


@pytest.fixture
def race(_app):
    """A one-slot task and THREADS volunteers, committed for real; removed afterwards."""
    with _app.app_context():
        worker = find_by_phone(DEMO.grid_worker)
        household_id = db.session.scalar(
            sa.select(Household.id).where(Household.grid_id == worker.grid_id).order_by(Household.id)
        )
        volunteer_ids = [
            create_user(
                f"抢单{i}", f"1770000{i:04d}", "test-pass-8642", [Role.VOLUNTEER], grid_id=worker.grid_id
            ).id
            for i in range(THREADS)
        ]
        db.session.commit()
        starts = clock.now() + timedelta(days=2)
        task = tasks.create_task(
            worker,
            tasks.TaskData(household_id, "visiting", starts, starts + timedelta(hours=1), "陪老人聊天"),
        )
        task_id = task.id
        db.session.remove()
    try:
        yield _app, task_id, volunteer_ids
    finally:
        with _app.app_context():
            db.session.execute(sa.delete(Notification).where(Notification.task_id == task_id))
            db.session.execute(sa.delete(Claim).where(Claim.task_id == task_id))
            db.session.execute(sa.delete(TaskEvent).where(TaskEvent.task_id == task_id))
            db.session.execute(
                sa.delete(AuditEntry).where(AuditEntry.object_type == "task", AuditEntry.object_id == task_id)
            )
            db.session.execute(sa.delete(Task).where(Task.id == task_id))
            for user in db.session.scalars(sa.select(User).where(User.id.in_(volunteer_ids))):
                db.session.delete(user)
            db.session.commit()
            db.session.remove()


def test_many_volunteers_claiming_one_slot_leave_exactly_one_claim(race):
    app, task_id, volunteer_ids = race

    def claim(volunteer_id: int):
        def call() -> str:
            tasks.claim_task(db.session.get(User, volunteer_id), task_id)
            return "claimed"

        return call

    answers = at_once(app, [claim(v) for v in volunteer_ids])

    assert sorted(answers) == ["claimed"] + ["task_full"] * (THREADS - 1)
    with app.app_context():
        task = db.session.get(Task, task_id)
        holders = db.session.scalars(sa.select(Claim).where(Claim.task_id == task_id)).all()
        assert task.taken == 1 and task.status is TaskStatus.CLAIMED
        assert len(holders) == 1
        events = db.session.scalars(sa.select(TaskEvent.to_status).where(TaskEvent.task_id == task_id)).all()
        assert events == [TaskStatus.OPEN, TaskStatus.CLAIMED]
        db.session.remove()
