"""The notification centre, calendar and matching pages through the client."""

import sqlalchemy as sa

from app.models import ClaimStatus, Notification, NotificationKind, NotificationPreference
from app.services import notifications, tasks
from tests.conftest import DEMO
from tests.factories import user_by_phone
from tests.services.test_matching import weekday_morning
from tests.services.test_notifications import make_task


def english(client):
    client.post("/lang/en")


def test_pages_need_a_login(client):
    for path in (
        "/me/notifications",
        "/me/notifications/settings",
        "/me/calendar",
        "/staff/matching/tasks/1",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_notification_list_highlights_unread_links_the_task_and_marks_read(app, client, auth):
    with app.app_context():
        task = make_task()
        tasks.claim_task(user_by_phone(DEMO.volunteer), task.id)
        task_id = task.id
        worker_id = user_by_phone(DEMO.grid_worker).id
    auth.login(DEMO.grid_worker)
    english(client)
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "A volunteer claimed a place on the Housekeeping visit on" in page
    assert 'class="unread"' in page and f"/staff/tasks/{task_id}" in page
    assert client.post("/me/notifications/read").status_code == 302
    with app.app_context():
        assert notifications.unread_count(worker_id) == 0
    assert 'class="unread"' not in client.get("/me/notifications").get_data(as_text=True)


def test_volunteer_sees_invitation_in_chinese_by_default(app, client, auth):
    with app.app_context():
        task = make_task()
        notifications.notify(user_by_phone(DEMO.volunteer).id, NotificationKind.INVITATION, task.id)
        notifications.db.session.commit()
        task_id = task.id
    auth.login(DEMO.volunteer)
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "家政" in page and f"/tasks/{task_id}" in page


def test_settings_turn_kinds_off(app, client, auth):
    auth.login(DEMO.volunteer)
    english(client)
    page = client.get("/me/notifications/settings").get_data(as_text=True)
    assert "A grid worker invites me to a task" in page and 'name="invitation"' in page
    response = client.post("/me/notifications/settings", data={"reminder": "y", "slot_offered": "y"})
    assert response.status_code == 302
    with app.app_context():
        user_id = user_by_phone(DEMO.volunteer).id
        off = set(
            notifications.db.session.scalars(
                sa.select(NotificationPreference.kind).where(
                    NotificationPreference.user_id == user_id, NotificationPreference.enabled.is_(False)
                )
            )
        )
    assert NotificationKind.INVITATION in off and NotificationKind.REMINDER not in off


def test_calendar_page_and_public_feed(app, client, auth):
    auth.login(DEMO.volunteer)
    assert ".ics" not in client.get("/me/calendar").get_data(as_text=True)
    client.post("/me/calendar/enable")
    with app.app_context():
        token = user_by_phone(DEMO.volunteer).calendar_token
    assert f"/calendar/{token}.ics" in client.get("/me/calendar").get_data(as_text=True)
    auth.logout()
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.get_data(as_text=True).startswith("BEGIN:VCALENDAR\r\n")
    assert client.get("/calendar/" + "x" * 43 + ".ics").status_code == 404
    auth.login(DEMO.volunteer)
    client.post("/me/calendar/disable")
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_calendar_page_is_for_volunteers(client, auth):
    auth.login(DEMO.grid_worker)
    assert client.get("/me/calendar").status_code == 403


def test_matching_page_lists_and_invites(app, client, auth):
    with app.app_context():
        task_id = make_task(weekday_morning()).id
        volunteer_id = user_by_phone(DEMO.volunteer).id
    auth.login(DEMO.grid_worker)
    english(client)
    page = client.get(f"/staff/matching/tasks/{task_id}").get_data(as_text=True)
    assert "Offers Housekeeping" in page and f'value="{volunteer_id}"' in page
    response = client.post(f"/staff/matching/tasks/{task_id}/invite", data={"volunteer_id": volunteer_id})
    assert response.status_code == 302
    assert "Invitation sent." in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        sent = notifications.db.session.scalar(
            sa.select(Notification).where(
                Notification.user_id == volunteer_id, Notification.kind == NotificationKind.INVITATION
            )
        )
        assert sent.task_id == task_id
    again = client.post(f"/staff/matching/tasks/{task_id}/invite", data={"volunteer_id": volunteer_id})
    assert "already been invited" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_matching_page_scope_and_roles(app, client, auth):
    with app.app_context():
        task_id = make_task().id
    auth.login(DEMO.grid_worker_2)
    assert client.get(f"/staff/matching/tasks/{task_id}").status_code == 404
    assert client.post(f"/staff/matching/tasks/{task_id}/invite", data={"volunteer_id": 1}).status_code == 404
    auth.logout()
    auth.login(DEMO.volunteer)
    assert client.get(f"/staff/matching/tasks/{task_id}").status_code == 403


def test_follow_up_form_flags_a_visit(app, client, auth):
    with app.app_context():
        task = make_task()
        claim = tasks.claim_task(user_by_phone(DEMO.volunteer), task.id)
        claim.status = ClaimStatus.CONFIRMED
        notifications.db.session.commit()
        claim_id = claim.id
    auth.login(DEMO.grid_worker)
    english(client)
    form = client.get(f"/staff/matching/claims/{claim_id}/follow-up").get_data(as_text=True)
    assert "How satisfied is the household with the visit?" in form
    response = client.post(
        f"/staff/matching/claims/{claim_id}/follow-up", data={"satisfaction": "1", "note": "没来"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Satisfaction: 1 of 5" in page and "Flagged for a closer look" in page
    assert "1 visit flagged" in page
    auth.logout()
    auth.login(DEMO.grid_worker_2)
    assert client.get(f"/staff/matching/claims/{claim_id}/follow-up").status_code == 404
