"""The weekly review reminder and the monthly honour roll, driven with a set
clock, each run again for the same moment to show it changes nothing more;
and how a job's items fail one by one without stopping the others."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.models import HonourRoll, Notification, NotificationKind, Role
from app.services import honour, periodic
from app.services.notifications import notification_text, notify
from app.services.periodic_reviews import JobItemsFailed, each_item, month_before, week_of
from app.services.privacy import mask_name
from tests.conftest import count_rows
from tests.factories import make_household, make_tree, make_user
from tests.services.test_honour import award, local, reverse
from tests.services.test_honour import volunteer as named_volunteer

MONDAY = date(2031, 3, 3)


@pytest.fixture
def at():
    yield clock.freeze
    clock.freeze(None)


def reviews_told(db, user) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == NotificationKind.REVIEWS_DUE)
            .order_by(Notification.id)
        )
    )


def test_week_and_month_arithmetic():
    assert week_of(date(2031, 3, 9)) == (MONDAY, date(2031, 3, 9))  # a Sunday
    assert week_of(MONDAY) == (MONDAY, date(2031, 3, 9))
    assert month_before(date(2031, 3, 1)) == ("2031-02", date(2031, 2, 28))
    assert month_before(date(2031, 1, 15)) == ("2030-12", date(2030, 12, 31))


# --- reviews due ---------------------------------------------------------------------------


def test_grid_workers_hear_of_reviews_due_this_week_and_overdue_once_a_week(db, at):
    tree = make_tree("复审提醒")
    worker = make_user(Role.GRID_WORKER, grid_id=tree["grids"][0].id)
    idle = make_user(Role.GRID_WORKER, grid_id=tree["grids"][1].id)  # nothing due in their grid
    at(local(2031, 3, 1, 9))
    reviews = {
        "overdue": MONDAY - timedelta(days=1),
        "monday": MONDAY,
        "sunday": MONDAY + timedelta(days=6),
        "next_monday": MONDAY + timedelta(days=7),  # within reviews_due's 7 days, but next week
        "later": MONDAY + timedelta(days=40),
    }
    for on in reviews.values():
        make_household(worker, building="复审楼").next_review_on = on
    db.session.commit()

    now = local(2031, 3, 3, 8, 0)  # Monday 08:00 in Beijing
    at(now)
    summary = periodic.remind_reviews(now)
    assert summary.endswith("for the week of 2031-03-03")
    [told] = reviews_told(db, worker)
    assert told.params == {"due": 2, "overdue": 1} and told.task_id is None
    with force_locale("en"):
        assert notification_text(told) == (
            "Reviews: 2 due this week, 1 overdue. Open the list of reviews due."
        )
    assert reviews_told(db, idle) == []

    total = count_rows(Notification)
    assert periodic.remind_reviews(now).startswith("0 grid workers reminded")
    at(local(2031, 3, 5, 8, 0))  # later the same week: still nothing
    assert periodic.remind_reviews(clock.now()).startswith("0 grid workers reminded")
    assert count_rows(Notification) == total

    next_week = local(2031, 3, 10, 8, 0)
    at(next_week)
    periodic.remind_reviews(next_week)
    assert [n.params for n in reviews_told(db, worker)] == [
        {"due": 2, "overdue": 1},
        {"due": 1, "overdue": 3},
    ]


# --- the monthly honour roll ---------------------------------------------------------------


def roll_of(db, community_id, month) -> HonourRoll | None:
    return db.session.scalar(
        sa.select(HonourRoll)
        .where(HonourRoll.community_id == community_id, HonourRoll.month == month)
        .execution_options(populate_existing=True)
    )


def as_rows(board_rows) -> list[dict]:
    return [
        {"rank": r.rank, "name": r.name, "points": r.points, "streak_months": r.streak_months, "team": r.team}
        for r in board_rows
    ]


def test_last_month_is_frozen_once_and_a_later_reversal_does_not_rewrite_it(db, at):
    tree = make_tree("爱心之星")
    quiet = make_tree("冷清")  # a community where nobody earned anything
    community = tree["community"]
    grid = tree["grids"][0]
    first = named_volunteer(db, grid, "张三丰")
    second = named_volunteer(db, grid, "李四", show_full_name=True)
    award(first, community.id, 10, local(2031, 1, 31, 23, 59))  # January
    award(first, community.id, 30, local(2031, 2, 10, 12))
    disputed = award(second, community.id, 50, local(2031, 2, 20, 12))
    award(second, community.id, 40, local(2031, 3, 1, 0, 5))  # March: not February's

    feb_1 = local(2031, 2, 1, 0, 10)
    at(feb_1)
    periodic.freeze_honour_rolls(feb_1)
    mar_1 = local(2031, 3, 1, 0, 10)
    at(mar_1)
    summary = periodic.freeze_honour_rolls(mar_1)
    assert summary.endswith("honour rolls frozen for 2031-02") and not summary.startswith("0 ")

    last_day = date(2031, 2, 28)
    live = honour.board(f"community:{community.id}", "month", limit=20, today=last_day)
    roll = roll_of(db, community.id, "2031-02")
    assert roll.rows == as_rows(live)
    assert roll.rows == [
        {"rank": 1, "name": "李四", "points": 50, "streak_months": 1, "team": None},
        {"rank": 2, "name": mask_name("张三丰"), "points": 30, "streak_months": 2, "team": None},
    ]
    assert roll_of(db, community.id, "2031-01").rows[0]["points"] == 10
    assert roll_of(db, quiet["community"].id, "2031-02") is None
    assert [r.month for r in periodic.honour_rolls(community.id)] == ["2031-02", "2031-01"]
    assert [r.month for r in periodic.honour_rolls(community.id, limit=1)] == ["2031-02"]

    rolls = count_rows(HonourRoll)
    assert periodic.freeze_honour_rolls(mar_1).startswith("0 honour rolls frozen")
    assert count_rows(HonourRoll) == rolls

    reverse(disputed, local(2031, 3, 2, 10))  # found false after the roll was frozen
    live = honour.board(f"community:{community.id}", "month", limit=20, today=last_day)
    assert [(r.name, r.points) for r in live] == [(mask_name("张三丰"), 30)]
    at(local(2031, 3, 2, 11))
    periodic.freeze_honour_rolls(clock.now())
    assert count_rows(HonourRoll) == rolls
    assert roll_of(db, community.id, "2031-02").rows[0] == {
        "rank": 1,
        "name": "李四",
        "points": 50,
        "streak_months": 1,
        "team": None,
    }


# --- failures, one item at a time ------------------------------------------------------------


def test_a_failing_item_is_rolled_back_alone_and_the_job_reports_it(db):
    user = make_user(Role.VOLUNTEER, grid_id=make_tree("失败")["grids"][0].id)
    done = []

    def step(n):
        notify(user.id, NotificationKind.REMINDER, n=n)
        if n == 2:
            raise ValueError("a bad row")
        db.session.commit()
        done.append(n)
        return True

    with pytest.raises(JobItemsFailed, match="2 done, 1 failed"):
        each_item("test", [1, 2, 3], step)
    assert done == [1, 3]
    stored = db.session.scalars(sa.select(Notification.params).where(Notification.user_id == user.id)).all()
    assert sorted(p["n"] for p in stored) == [1, 3]  # the failed item's write was rolled back
    assert each_item("test", [], step) == 0


def test_every_job_takes_now_and_answers_one_line(db, at):
    now = datetime(2031, 6, 2, 0, 10, tzinfo=UTC)
    at(now)
    for name in periodic.__all__:
        if name == "honour_rolls":
            continue
        summary = getattr(periodic, name)(now)
        assert isinstance(summary, str) and summary and "\n" not in summary, name
