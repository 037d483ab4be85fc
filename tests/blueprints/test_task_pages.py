"""The task pages: staff post and cancel, volunteers browse, claim, give back and wait."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    Community,
    Grid,
    Notification,
    NotificationKind,
    Role,
    Task,
    TaskSeries,
    TaskStatus,
    Urgency,
    WaitlistEntry,
)
from app.services import casework, tasks
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, make_user, user_by_phone

PHONE = "13712345678"


def household_with_need(app, head_name="张小明"):
    """A household in grid 1 with one open need; (household id, need id, address)."""
    with app.app_context():
        worker = user_by_phone(DEMO.grid_worker)
        household = make_household(worker, building="互助楼", head_name=head_name, contact_phone=PHONE)
        need = casework.add_need(
            worker, household.id, casework.NeedData("housekeeping", "老人独居，需打扫厨房", Urgency.URGENT)
        )
        return household.id, need.id, household.address


def form_data(days=2, start="09:00", end="11:00", **changes):
    day = clock.today() + timedelta(days=days)
    data = {
        "service_type": "housekeeping",
        "day": day.isoformat(),
        "starts_at": start,
        "ends_at": end,
        "expected_minutes": "",
        "slots": "1",
        "urgency": "urgent",
        "description": "打扫厨房，带上抹布",
        "until": "",
        "paired_volunteer": "",
    }
    data.update(changes)
    return data


def post_task(client, auth, household_id, need_id, **changes):
    auth.login(DEMO.grid_worker)
    response = client.post(
        f"/staff/tasks/new?household_id={household_id}", data=form_data(need_id=str(need_id), **changes)
    )
    auth.logout()
    return response


def make_task(app, household_id=None, starts_in=timedelta(days=2), slots=1, urgency=Urgency.NORMAL, **fields):
    with app.app_context():
        worker = user_by_phone(fields.pop("worker", DEMO.grid_worker))
        if household_id is None:
            household_id = make_household(worker, building="任务楼").id
        starts = clock.now() + starts_in
        task = tasks.create_task(
            worker,
            tasks.TaskData(
                household_id=household_id,
                service_type_code=fields.pop("service_type_code", "housekeeping"),
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                description=fields.pop("description", "帮忙买菜"),
                slots=slots,
                urgency=urgency,
            ),
        )
        return task.id


def claims_of(app, task_id):
    with app.app_context():
        return {
            c.volunteer_id: c.status
            for c in db.session.scalars(sa.select(Claim).where(Claim.task_id == task_id))
        }


def in_english(client):
    """Show the pages in English (the source language) to compare messages."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def user_id(app, phone):
    with app.app_context():
        return user_by_phone(phone).id


def test_the_whole_way_from_posting_to_a_freed_place(app, client, auth):
    household_id, need_id, address = household_with_need(app)

    # The grid worker opens the form from the need: the need's service is preselected.
    auth.login(DEMO.grid_worker)
    page = client.get(f"/staff/tasks/new?household_id={household_id}&need_id={need_id}").get_data(
        as_text=True
    )
    assert 'selected value="housekeeping"' in page and "老人独居，需打扫厨房" in page
    auth.logout()
    response = post_task(client, auth, household_id, need_id)
    assert response.status_code == 302
    with app.app_context():
        task = db.session.scalar(sa.select(Task).where(Task.household_id == household_id))
        task_id = task.id
        local_start = task.starts_at.astimezone(clock.LOCAL_TZ)
        assert (local_start.hour, local_start.minute) == (9, 0)  # typed in Beijing time, stored in UTC
        assert task.need_id == need_id and task.urgency is Urgency.URGENT and task.expected_minutes == 120

    # The volunteer sees it on the board and on its page, without the address.
    auth.login(DEMO.volunteer)
    board = client.get("/tasks/").get_data(as_text=True)
    assert f"/tasks/{task_id}" in board and "打扫厨房，带上抹布" in board
    assert address not in board and PHONE not in board
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "第一网格" in page and "09:00–11:00" in page
    assert address not in page and PHONE not in page and "张*明" not in page

    # Claims it, then sees the address, the phone and the masked name.
    response = client.post(f"/tasks/{task_id}/claim", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert address in page and PHONE in page and "张*明" in page and "张小明" not in page
    mine = client.get("/tasks/mine").get_data(as_text=True)
    assert f"/tasks/{task_id}" in mine
    auth.logout()

    # The second volunteer (grid 2, same community) finds it full and waits.
    auth.login(DEMO.volunteer_2)
    in_english(client)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert address not in page and "Join the waiting list" in page
    response = client.post(f"/tasks/{task_id}/claim", follow_redirects=True)
    assert response.status_code == 200
    assert "Every place on this task is taken." in response.get_data(as_text=True)
    response = client.post(f"/tasks/{task_id}/waitlist", follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert count_rows(WaitlistEntry) >= 1
    auth.logout()

    # The first gives the place back with a reason; the second now holds it.
    auth.login(DEMO.volunteer)
    response = client.post(f"/tasks/{task_id}/unclaim", data={"reason": ""}, follow_redirects=True)
    assert response.status_code == 200
    assert claims_of(app, task_id)[user_id(app, DEMO.volunteer)] is ClaimStatus.ACTIVE  # no reason, no change
    client.post(f"/tasks/{task_id}/unclaim", data={"reason": "临时要加班"})
    history = client.get("/tasks/history").get_data(as_text=True)
    assert f"/tasks/{task_id}" in history and "临时要加班" in history
    auth.logout()
    claims = claims_of(app, task_id)
    assert claims[user_id(app, DEMO.volunteer)] is ClaimStatus.RELEASED
    assert claims[user_id(app, DEMO.volunteer_2)] is ClaimStatus.ACTIVE

    # Staff see every step and every claim.
    auth.login(DEMO.grid_worker)
    page = client.get(f"/staff/tasks/{task_id}").get_data(as_text=True)
    assert "临时要加班" in page and address in page
    assert client.get("/staff/tasks/").get_data(as_text=True).count(f"/staff/tasks/{task_id}") == 1


CENTURY, PLAUSIBLE = "Choose a time in the years 2000 to 2099.", "Enter a date from 1900-01-01 to 2099-12-31."


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("0001-01-01", PLAUSIBLE),
        ("1999-12-31", CENTURY),
        ("2100-01-01", PLAUSIBLE),
        ("9999-12-31", PLAUSIBLE),
    ],
)
def test_a_day_outside_this_century_is_a_form_error(app, client, auth, day, message):
    household_id, need_id, _ = household_with_need(app)
    with app.app_context():
        before = count_rows(Task)
    in_english(client)
    response = post_task(client, auth, household_id, need_id, day=day, start="00:00", end="23:55")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert count_rows(Task) == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_board_refuses_a_day_it_cannot_place(client, auth, day):
    auth.login(DEMO.volunteer)
    in_english(client)
    response = client.get(f"/tasks/?day={day}")
    assert response.status_code == 200
    assert "Enter a date from 1900-01-01 to 2099-12-31." in response.get_data(as_text=True)


def test_refusals_are_flashed_not_errors(app, client, auth):
    task_id = make_task(app)
    auth.login(DEMO.volunteer)
    client.post(f"/tasks/{task_id}/claim")
    for url in (f"/tasks/{task_id}/claim", f"/tasks/{task_id}/waitlist/leave", f"/tasks/{task_id}/waitlist"):
        response = client.post(url)
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}")
    auth.logout()
    auth.login(DEMO.volunteer_2)
    assert client.post(f"/tasks/{task_id}/unclaim", data={"reason": "x"}).status_code == 302


def test_board_filters_and_order(app, client, auth):
    later_critical = make_task(
        app, starts_in=timedelta(days=4), urgency=Urgency.CRITICAL, description="甲任务"
    )
    sooner_normal = make_task(app, starts_in=timedelta(days=3), description="乙任务")
    tutoring = make_task(app, starts_in=timedelta(days=5), service_type_code="tutoring", description="丙任务")
    auth.login(DEMO.volunteer)
    board = client.get("/tasks/?skill=&service_type=&day=").get_data(as_text=True)
    assert board.index("甲任务") < board.index("乙任务")
    only_tutoring = client.get("/tasks/?service_type=tutoring").get_data(as_text=True)
    assert f"/tasks/{tutoring}" in only_tutoring and f"/tasks/{sooner_normal}" not in only_tutoring
    by_skill = client.get("/tasks/?skill=tutoring").get_data(as_text=True)
    assert f"/tasks/{tutoring}" in by_skill and f"/tasks/{later_critical}" not in by_skill
    day = (clock.now() + timedelta(days=3)).astimezone(clock.LOCAL_TZ).date()
    on_day = client.get(f"/tasks/?day={day.isoformat()}").get_data(as_text=True)
    assert f"/tasks/{sooner_normal}" in on_day and f"/tasks/{later_critical}" not in on_day
    assert client.get("/tasks/?day=not-a-date").status_code == 200


@pytest.mark.parametrize("url", ["/staff/tasks/", "/staff/tasks/new?household_id=1", "/staff/tasks/{id}"])
def test_volunteers_get_403_on_staff_pages(app, client, auth, url):
    task_id = make_task(app)
    auth.login(DEMO.volunteer)
    assert client.get(url.format(id=task_id)).status_code == 403
    assert client.post(f"/staff/tasks/{task_id}/cancel", data={"reason": "x"}).status_code == 403


def test_staff_get_403_on_volunteer_pages(app, client, auth):
    auth.login(DEMO.grid_worker)
    assert client.get("/tasks/").status_code == 403


def test_other_grids_and_communities_get_404(app, client, auth):
    task_id = make_task(app)
    auth.login(DEMO.grid_worker_2)
    assert client.get(f"/staff/tasks/{task_id}").status_code == 404
    assert client.post(f"/staff/tasks/{task_id}/cancel", data={"reason": "x"}).status_code == 404
    assert f"/staff/tasks/{task_id}" not in client.get("/staff/tasks/").get_data(as_text=True)
    auth.logout()
    with app.app_context():
        grid = db.session.scalar(sa.select(Grid.id).join(Community).where(Community.name == "和谐社区"))
        outsider = make_user(Role.VOLUNTEER, grid_id=grid)
        phone = outsider.phone
    auth.login(phone, "test-pass-8642")
    assert client.get(f"/tasks/{task_id}").status_code == 404
    assert client.post(f"/tasks/{task_id}/claim").status_code == 404
    assert f"/tasks/{task_id}" not in client.get("/tasks/").get_data(as_text=True)
    assert claims_of(app, task_id) == {}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": "11:00", "end": "09:00"}, "The window must end after it starts."),
        ({"days": -1}, "The task must start in the future."),
        ({"slots": "0"}, "A task needs 1 to 20 volunteers."),
        ({"description": ""}, "Please fill this in."),
        ({"repeat": "y", "until": ""}, "Enter the date of the last visit."),
    ],
)
def test_bad_input_re_renders_and_writes_nothing(app, client, auth, changes, message):
    household_id, need_id, _ = household_with_need(app)
    with app.app_context():
        before = (count_rows(Task), count_rows(TaskSeries))
    in_english(client)
    response = post_task(client, auth, household_id, need_id, **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert (count_rows(Task), count_rows(TaskSeries)) == before


def test_a_weekly_series_with_a_paired_volunteer(app, client, auth):
    household_id, need_id, _ = household_with_need(app)
    until = (clock.today() + timedelta(days=2 + 14)).isoformat()
    response = post_task(
        client, auth, household_id, need_id, repeat="y", until=until, paired_volunteer=DEMO.volunteer
    )
    assert response.status_code == 302
    with app.app_context():
        posted = db.session.scalars(sa.select(Task).where(Task.household_id == household_id)).all()
        assert len(posted) == 3 and len({t.series_id for t in posted}) == 1
    for task in posted:
        assert claims_of(app, task.id) == {user_id(app, DEMO.volunteer): ClaimStatus.ACTIVE}


def test_unknown_paired_volunteer_is_shown_on_the_form(app, client, auth):
    household_id, need_id, _ = household_with_need(app)
    in_english(client)
    until = (clock.today() + timedelta(days=9)).isoformat()
    response = post_task(
        client, auth, household_id, need_id, repeat="y", until=until, paired_volunteer="13999999999"
    )
    assert response.status_code == 200 and "No volunteer has this phone number." in response.get_data(
        as_text=True
    )


def test_cancelling_tells_the_claimants_and_frees_their_places(app, client, auth):
    task_id = make_task(app, slots=2)
    for phone in (DEMO.volunteer, DEMO.volunteer_2):
        auth.login(phone)
        client.post(f"/tasks/{task_id}/claim")
        auth.logout()
    auth.login(DEMO.grid_worker)
    response = client.post(f"/staff/tasks/{task_id}/cancel", data={"reason": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Task, task_id).status is TaskStatus.CLAIMED  # no reason, not cancelled
    response = client.post(
        f"/staff/tasks/{task_id}/cancel", data={"reason": "老人住院了"}, follow_redirects=True
    )
    assert response.status_code == 200 and "老人住院了" in response.get_data(as_text=True)
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task.status is TaskStatus.CANCELLED and task.taken == 0
        told = db.session.scalars(
            sa.select(Notification.user_id).where(
                Notification.task_id == task_id, Notification.kind == NotificationKind.TASK_CANCELLED
            )
        ).all()
    assert sorted(told) == sorted([user_id(app, DEMO.volunteer), user_id(app, DEMO.volunteer_2)])
    assert set(claims_of(app, task_id).values()) == {ClaimStatus.CANCELLED}
    # Cancelling twice is refused with a message, not an error.
    assert client.post(f"/staff/tasks/{task_id}/cancel", data={"reason": "再取消"}).status_code == 302
    auth.logout()
    auth.login(DEMO.volunteer)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert PHONE not in page


def test_the_task_page_leads_a_claimant_through_the_visit(app, client, auth):
    """Claimed: how to check in (scan, or type the short code); checked out: the confirmation QR."""
    from app.models import Claim, ClaimStatus
    from app.services import visits

    task_id = make_task(app)
    auth.login(DEMO.volunteer)
    client.post(f"/tasks/{task_id}/claim")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'name="code"' in page and "/visits/" not in page
    with app.app_context():
        household_id = db.session.get(Task, task_id).household_id
        card = visits.issue_door_card(user_by_phone(DEMO.grid_worker), household_id)
        code = card.code
    response = client.get("/d", query_string={"code": code.lower()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/d/{code.lower()}")
    with app.app_context():
        claim = db.session.scalar(sa.select(Claim).where(Claim.task_id == task_id))
        claim.status = ClaimStatus.CHECKED_OUT
        db.session.commit()
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f"/visits/{task_id}/confirm-qr" in page
