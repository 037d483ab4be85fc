"""Twenty confirmations of one visit at once pay it once (PostgreSQL, real commits).

The resident's phone, a family member's and a retrying network can all send
the same confirmation together. The claim's conditional UPDATE lets one win;
the award's unique idempotency key would stop a second payment even if it
did not. The threads need to see each other's commits, so this runs outside
the rolled-back test transaction and removes what it made.
"""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AccountKind,
    AuditEntry,
    Claim,
    Household,
    LedgerTransaction,
    Notification,
    Role,
    Task,
    TaskEvent,
    TxKind,
    User,
)
from app.services import ledger, points, tasks, visits
from app.services.accounts import create_user, find_by_phone
from tests.conftest import DEMO
from tests.factories import at_once, purge_ledger

THREADS = 20


@pytest.fixture
def checked_out_visit(_app):
    if _app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a race between connections needs PostgreSQL; SQLite serialises writers")
    with _app.app_context(), _app.test_request_context():
        worker = find_by_phone(DEMO.grid_worker)
        volunteer = create_user(
            "并发志愿者", "17700009999", "test-pass-8642", [Role.VOLUNTEER], grid_id=worker.grid_id
        )
        db.session.commit()
        household_id = db.session.scalar(
            sa.select(Household.id).where(Household.grid_id == worker.grid_id).order_by(Household.id)
        )
        card = visits.current_card(household_id) or visits.issue_door_card(worker, household_id)
        starts = clock.now() + timedelta(days=3)
        task = tasks.create_task(
            worker,
            tasks.TaskData(household_id, "visiting", starts, starts + timedelta(hours=1), "陪老人聊天"),
        )
        tasks.claim_task(volunteer, task.id)
        clock.freeze(starts + timedelta(minutes=1))
        visits.check_in(volunteer, task.id, visits.door_token(card))
        clock.freeze(starts + timedelta(minutes=50))
        visits.check_out(volunteer, task.id, visits.door_token(card))
        url, _expires = visits.confirmation_link(volunteer, task.id)
        token = urlsplit(url).path.removeprefix("/c/")
        ids = (task.id, volunteer.id)
        db.session.remove()
    try:
        yield _app, token, *ids
    finally:
        clock.freeze(None)
        with _app.app_context():
            task_id, volunteer_id = ids
            claim_ids = db.session.scalars(sa.select(Claim.id).where(Claim.task_id == task_id)).all()
            purge_ledger(
                db.session.scalars(
                    sa.select(LedgerTransaction.id).where(LedgerTransaction.claim_id.in_(claim_ids))
                ).all()
            )
            db.session.execute(sa.delete(Notification).where(Notification.task_id == task_id))
            db.session.execute(sa.delete(Claim).where(Claim.task_id == task_id))
            db.session.execute(sa.delete(TaskEvent).where(TaskEvent.task_id == task_id))
            db.session.execute(
                sa.delete(AuditEntry).where(AuditEntry.object_type == "task", AuditEntry.object_id == task_id)
            )
            db.session.execute(sa.delete(Task).where(Task.id == task_id))
            db.session.execute(
                sa.delete(ledger.LedgerAccount).where(
                    ledger.LedgerAccount.kind == AccountKind.VOLUNTEER,
                    ledger.LedgerAccount.owner_id == volunteer_id,
                )
            )
            db.session.delete(db.session.get(User, volunteer_id))
            db.session.commit()
            assert ledger.check_books().ok
            db.session.remove()


def test_twenty_confirmations_of_one_visit_pay_it_once(checked_out_visit):
    app, token, task_id, volunteer_id = checked_out_visit

    def confirm() -> str:
        visits.confirm_visit(token, 5, "谢谢")
        return "confirmed"

    answers = at_once(app, [confirm] * THREADS)

    assert sorted(answers) == ["confirmed"] + ["token_used"] * (THREADS - 1)
    with app.app_context():
        claim = db.session.scalar(sa.select(Claim).where(Claim.task_id == task_id))
        awards = db.session.scalars(
            sa.select(LedgerTransaction).where(
                LedgerTransaction.claim_id == claim.id, LedgerTransaction.kind == TxKind.AWARD
            )
        ).all()
        assert len(awards) == 1
        paid = points.award_of(claim.id)
        assert paid.id == awards[0].id and paid.details["minutes_paid"] == 49
        # 陪伴/visiting: the seeded rate, 49 minutes, no urgency bonus.
        expected = paid.details["points_per_visit"] + paid.details["hour_points"]
        assert ledger.balance_of(AccountKind.VOLUNTEER, volunteer_id) == expected > 0
        assert ledger.check_books().ok
        db.session.remove()
