"""Follow-up (回访) on confirmed visits: satisfaction, complaints, flags."""

import pytest
import sqlalchemy as sa

from app.models import AuditEntry, ClaimStatus, Notification, NotificationKind
from app.services import tasks
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.follow_up import record_visit_follow_up, volunteer_flags
from tests.conftest import DEMO
from tests.factories import user_by_phone
from tests.services.test_notifications import make_task


def confirmed_claim(db, phone=DEMO.volunteer):
    task = make_task()
    claim = tasks.claim_task(user_by_phone(phone), task.id)
    claim.status = ClaimStatus.CONFIRMED
    db.session.commit()
    return claim, task


def flagged_notes(task_id):
    from app.extensions import db

    return db.session.scalars(
        sa.select(Notification).where(
            Notification.task_id == task_id, Notification.kind == NotificationKind.VISIT_FLAGGED
        )
    ).all()


def test_low_satisfaction_flags_and_notifies_the_creator(db):
    worker = user_by_phone(DEMO.grid_worker)
    volunteer = user_by_phone(DEMO.volunteer)
    before = volunteer_flags(volunteer.id)
    claim, task = confirmed_claim(db)
    record_visit_follow_up(user_by_phone(DEMO.community_worker), claim.id, 2, " 来晚了 ", False)
    db.session.refresh(claim)
    db.session.refresh(task)
    assert claim.follow_up_satisfaction == 2 and claim.follow_up_note == "来晚了"
    assert claim.flagged and task.flagged
    [note] = flagged_notes(task.id)
    assert note.user_id == worker.id == task.created_by_id
    assert volunteer_flags(volunteer.id) == before + 1
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "follow_up", AuditEntry.object_id == claim.id)
    )
    assert entry.grid_id == task.grid_id and "flagged" in entry.fields and "来晚了" not in entry.note


def test_a_complaint_flags_even_when_satisfied(db):
    claim, task = confirmed_claim(db)
    record_visit_follow_up(user_by_phone(DEMO.grid_worker), claim.id, 4, "态度不好", True)
    db.session.refresh(task)
    assert claim.flagged and task.flagged and len(flagged_notes(task.id)) == 1


def test_a_good_visit_is_not_flagged(db):
    claim, task = confirmed_claim(db)
    record_visit_follow_up(user_by_phone(DEMO.grid_worker), claim.id, 5, "", False)
    db.session.refresh(task)
    assert claim.follow_up_satisfaction == 5 and not claim.flagged and not task.flagged
    assert flagged_notes(task.id) == []
    with pytest.raises(Conflict) as error:  # recorded once
        record_visit_follow_up(user_by_phone(DEMO.grid_worker), claim.id, 1, "", False)
    assert error.value.code == "follow_up_recorded"


def test_refusals(db):
    worker = user_by_phone(DEMO.grid_worker)
    claim, _ = confirmed_claim(db)
    for bad in (0, 6, "3", True, None):
        with pytest.raises(InvalidInput) as error:
            record_visit_follow_up(worker, claim.id, bad, "", False)
        assert error.value.field == "satisfaction"
    with pytest.raises(InvalidInput):
        record_visit_follow_up(worker, claim.id, 3, "长" * 501, False)
    with pytest.raises(InvalidInput) as error:
        record_visit_follow_up(worker, claim.id, 3, "", True)
    assert error.value.code == "complaint_note_required"
    with pytest.raises(NotFound):
        record_visit_follow_up(user_by_phone(DEMO.grid_worker_2), claim.id, 3, "", False)
    with pytest.raises(Forbidden):
        record_visit_follow_up(user_by_phone(DEMO.volunteer), claim.id, 3, "", False)
    with pytest.raises(NotFound):
        record_visit_follow_up(worker, 2**31 - 1, 3, "", False)
    active = tasks.claim_task(user_by_phone(DEMO.volunteer_2), make_task().id)
    with pytest.raises(Conflict) as error:
        record_visit_follow_up(worker, active.id, 3, "", False)
    assert error.value.code == "not_confirmed"
    db.session.refresh(claim)
    assert claim.follow_up_satisfaction is None and not claim.flagged
