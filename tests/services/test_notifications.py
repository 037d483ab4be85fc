"""The notification centre: texts in both languages, opt-outs, unread counts."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.models import Notification, NotificationKind, Role
from app.services import notifications, tasks
from app.services.notifications import notification_text, notify, render_page
from tests.conftest import DEMO
from tests.factories import make_household, make_user, user_by_phone


def make_task(starts_at: datetime | None = None, hours=2, household=None, worker=None, **fields):
    """A task posted by the grid-1 worker (or `worker`) through the real service."""
    worker = worker or user_by_phone(DEMO.grid_worker)
    household = household or make_household(worker, building="任务楼")
    starts = starts_at or clock.now() + timedelta(days=1)
    data = tasks.TaskData(
        household_id=household.id,
        service_type_code=fields.pop("service_type_code", "housekeeping"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        description=fields.pop("description", "打扫厨房"),
        **fields,
    )
    return tasks.create_task(worker, data)


def local(moment: datetime) -> str:
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def notes_of(user, kind=None, task=None) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    if task is not None:  # the demo data has notifications of its own
        stmt = stmt.where(Notification.task_id == task.id)
    return list(notifications.db.session.scalars(stmt))


def test_claim_notifies_the_creator_in_the_readers_language(db):
    task = make_task()
    worker = user_by_phone(DEMO.grid_worker)
    tasks.claim_task(user_by_phone(DEMO.volunteer), task.id)
    [note] = notes_of(worker, NotificationKind.TASK_CLAIMED, task)
    assert note.params == {}  # nothing translated or personal is stored
    with force_locale("en"):
        assert notification_text(note) == (
            f"A volunteer claimed a place on the Housekeeping visit on {local(task.starts_at)}."
        )
    with force_locale("zh"):
        text = notification_text(note)
    assert "家政" in text and local(task.starts_at) in text and "Housekeeping" not in text


def test_every_kind_renders_plainly_in_english(db):
    task = make_task()
    volunteer = user_by_phone(DEMO.volunteer)
    when = local(task.starts_at)
    expected = {
        NotificationKind.INVITATION: f"You are invited to the Housekeeping visit on {when}.",
        NotificationKind.TASK_UNCLAIMED: "Reason: 生病",
        NotificationKind.TASK_CANCELLED: f"The Housekeeping visit on {when} was cancelled. Reason: 生病",
        NotificationKind.SLOT_OFFERED: "You were on the waiting list, so the place is now yours.",
        NotificationKind.VISIT_CONFIRMED: f"The resident confirmed your Housekeeping visit on {when}.",
        NotificationKind.VISIT_FLAGGED: "unsatisfied or recorded a complaint",
        NotificationKind.REMINDER: f"Reminder: your Housekeeping visit starts on {when}.",
    }
    for kind, words in expected.items():
        note = notify(volunteer.id, kind, task.id, reason="生病")
        with force_locale("en"):
            assert words in notification_text(note), kind
    released = notify(volunteer.id, NotificationKind.CLAIM_RELEASED, task.id, minutes=30)
    with force_locale("en"):
        assert notification_text(released) == (
            f"Your place on the Housekeeping visit on {when} was given back because nobody "
            "checked in within 30 minutes of its start."
        )


def test_a_page_of_notifications_renders_in_one_query(db):
    from app.extensions import db as ext

    volunteer = user_by_phone(DEMO.volunteer)
    made = [make_task(clock.now() + timedelta(days=d)) for d in (1, 2, 3)]
    for task in made:
        notify(volunteer.id, NotificationKind.REMINDER, task.id)
        notify(volunteer.id, NotificationKind.INVITATION, task.id)
    ext.session.commit()
    page = notes_of(volunteer)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(ext.engine, "before_cursor_execute", listener)
    try:
        with force_locale("en"):
            rendered = render_page(page)
    finally:
        sa.event.remove(ext.engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert len(rendered) == 6 and all("Housekeeping" in text for _, text in rendered)


def test_turning_a_kind_off_stops_storing_it(db):
    worker = user_by_phone(DEMO.grid_worker)
    notifications.set_preference(worker, NotificationKind.TASK_CLAIMED, False)
    assert notifications.preferences(worker)[NotificationKind.TASK_CLAIMED] is False
    task = make_task()
    tasks.claim_task(user_by_phone(DEMO.volunteer), task.id)
    assert notes_of(worker, NotificationKind.TASK_CLAIMED, task) == []
    notifications.set_preference(worker, NotificationKind.TASK_CLAIMED, True)
    second = make_task()
    tasks.claim_task(user_by_phone(DEMO.volunteer_2), second.id)
    assert len(notes_of(worker, NotificationKind.TASK_CLAIMED, second)) == 1


def test_unread_count_and_marking_read(db):
    volunteer = make_user(Role.VOLUNTEER, grid_id=user_by_phone(DEMO.volunteer).grid_id)
    other = user_by_phone(DEMO.volunteer_2)
    task = make_task()
    first = notify(volunteer.id, NotificationKind.REMINDER, task.id)
    notify(volunteer.id, NotificationKind.INVITATION, task.id)
    theirs = notify(other.id, NotificationKind.REMINDER, task.id)
    db.session.commit()
    assert notifications.unread_count(volunteer) == 2
    assert notifications.unread_count(volunteer.id) == 2
    assert notifications.mark_read(volunteer, [first.id, theirs.id]) == 1  # not someone else's
    assert notifications.unread_count(volunteer) == 1
    assert notifications.unread_count(other) >= 1
    assert notifications.mark_all_read(volunteer) == 1
    assert notifications.unread_count(volunteer) == 0


def test_anonymous_has_no_unread(db):
    from flask_login import AnonymousUserMixin

    assert notifications.unread_count(AnonymousUserMixin()) == 0


def test_settings_offer_the_kinds_a_role_receives(db):
    volunteer_kinds = notifications.kinds_for(user_by_phone(DEMO.volunteer))
    staff_kinds = notifications.kinds_for(user_by_phone(DEMO.grid_worker))
    assert (
        NotificationKind.INVITATION in volunteer_kinds
        and NotificationKind.TASK_CLAIMED not in volunteer_kinds
    )
    assert NotificationKind.VISIT_FLAGGED in staff_kinds and NotificationKind.INVITATION not in staff_kinds
