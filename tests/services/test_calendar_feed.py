"""The calendar feed: strict iCalendar text, no address, tokens on and off."""

import re
from datetime import UTC, timedelta

import pytest

from app import clock
from app.models import ClaimStatus
from app.services import calendar_feed, tasks
from app.services.calendar_feed import escape_text, fold
from app.services.errors import NotFound
from tests.conftest import DEMO
from tests.factories import make_household, user_by_phone
from tests.services.test_notifications import make_task

NOTE = "带上拖把, 扫帚; 还有\\工具\n第二行：" + "请先敲门再进屋，老人耳背。" * 6


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_escape_and_fold_follow_rfc_5545():
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    ascii_line = "DESCRIPTION:" + "x" * 200
    folded = fold(ascii_line).split("\r\n")
    assert len(folded[0]) == 75 and all(len(p) == 75 for p in folded[1:-1])
    assert all(p.startswith(" ") for p in folded[1:])
    assert "".join([folded[0]] + [p[1:] for p in folded[1:]]) == ascii_line
    chinese = "SUMMARY:" + "邻里互助" * 20
    parts = fold(chinese).split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert "".join([parts[0]] + [p[1:] for p in parts[1:]]) == chinese
    assert fold("SHORT:x") == "SHORT:x"


def test_feed_lists_live_claims_without_the_address(db):
    volunteer = user_by_phone(DEMO.volunteer)
    household = make_household(user_by_phone(DEMO.grid_worker), building="保密楼", room="9x09")
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    task = make_task(start, household=household, description=NOTE)
    claim = tasks.claim_task(volunteer, task.id)
    released = make_task(start + timedelta(days=1))
    tasks.claim_task(volunteer, released.id)
    tasks.unclaim_task(volunteer, released.id, "有事")
    far = make_task(clock.now() + timedelta(days=120))
    tasks.claim_task(volunteer, far.id)
    token = calendar_feed.enable_feed(volunteer)
    assert len(token) >= 43

    text = calendar_feed.feed_for_token(token)

    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)  # the long note was folded
    lines = unfold(text)[:-1]
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"] and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1  # not the released one, not the one in 120 days
    event = dict(
        line.split(":", 1) for line in lines[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]
    )
    assert event["UID"] == f"claim-{claim.id}-task-{task.id}@linli-huzhu"
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
    assert event["DTSTART"] == start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == (start + timedelta(hours=2)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["SUMMARY"] == "家政"
    assert event["LOCATION"] == "阳光社区 第一网格"
    assert event["DESCRIPTION"].startswith("带上拖把\\, 扫帚\\; 还有\\\\工具\\n第二行：请先敲门")
    assert "保密楼" not in text and "9x09" not in text


def test_checked_in_claims_stay_and_english_summaries(db):
    volunteer = user_by_phone(DEMO.volunteer_2)
    volunteer.locale = "en"
    task = make_task()
    claim = tasks.claim_task(volunteer, task.id)
    claim.status = ClaimStatus.CHECKED_IN
    db.session.commit()
    text = calendar_feed.feed_for_token(calendar_feed.enable_feed(volunteer))
    assert "SUMMARY:Housekeeping\r\n" in text and "X-WR-CALNAME:Neighbourhood Mutual Aid\r\n" in text


def test_unknown_disabled_and_renewed_tokens_are_not_found(db):
    volunteer = user_by_phone(DEMO.volunteer)
    old = calendar_feed.enable_feed(volunteer)
    new = calendar_feed.enable_feed(volunteer)
    assert new != old
    for token in (old, "x" * 43, "", "短"):
        with pytest.raises(NotFound):
            calendar_feed.feed_for_token(token)
    calendar_feed.feed_for_token(new)
    calendar_feed.disable_feed(volunteer)
    assert volunteer.calendar_token is None
    with pytest.raises(NotFound):
        calendar_feed.feed_for_token(new)
