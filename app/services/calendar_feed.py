"""A volunteer's calendar feed (iCalendar, RFC 5545) of the visits they hold.

The feed lives in third-party calendar apps, reachable by anyone who has its
URL, so it says only what the service is, in which community and grid, and
the task's note: never the household's address, name or phone. The secret
in the URL is `User.calendar_token`; turning the feed off or on again makes
the old URL stop working.
"""

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Claim, ClaimStatus, Community, Grid, ServiceType, Task, User
from app.services.errors import NotFound

HORIZON_DAYS = 90
LIVE = (ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN)
PRODID = "-//Linli Huzhu//Neighbourhood Mutual Aid//ZH"
MAX_LINE_OCTETS = 75


def enable_feed(user) -> str:
    """Give the user a new secret feed URL token (the old one stops working); commit."""
    user.calendar_token = secrets.token_urlsafe(32)
    db.session.commit()
    return user.calendar_token


def disable_feed(user) -> None:
    """Turn the feed off: its URL answers 404 from now on; commit."""
    user.calendar_token = None
    db.session.commit()


def escape_text(value: str) -> str:
    """A TEXT value escaped per RFC 5545 3.3.11: backslash, ; , and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character.

    Continuation lines begin with one space, which counts toward their 75 octets.
    """
    parts, current, size = [], [], 0
    limit = MAX_LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(char)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def feed_events_stmt(user_id: int) -> sa.Select:
    """The user's live claims on tasks not yet over and starting within the horizon."""
    now = clock.now()
    return (
        sa.select(
            Claim.id.label("claim_id"),
            Task.id.label("task_id"),
            Task.starts_at,
            Task.ends_at,
            Task.description,
            ServiceType.name_zh,
            ServiceType.name_en,
            Grid.name.label("grid_name"),
            Community.name.label("community_name"),
        )
        .join(Task, Task.id == Claim.task_id)
        .join(ServiceType, ServiceType.code == Task.service_type_code)
        .join(Grid, Grid.id == Task.grid_id)
        .join(Community, Community.id == Grid.community_id)
        .where(
            Claim.volunteer_id == user_id,
            Claim.status.in_(LIVE),
            Task.ends_at > now,
            Task.starts_at < now + timedelta(days=HORIZON_DAYS),
        )
        .order_by(Task.starts_at, Task.id)
    )


def feed_for_token(token: str) -> str:
    """The iCalendar text of the feed with this token; NotFound for an unknown token."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound()
    user = db.session.scalar(sa.select(User).where(User.calendar_token == token, User.active.is_(True)))
    if user is None:
        raise NotFound()
    return render_calendar(user, db.session.execute(feed_events_stmt(user.id)).all())


def render_calendar(user, events) -> str:
    """The VCALENDAR for `events` (rows of feed_events_stmt), CRLF line ends."""
    english = user.locale == "en"
    stamp = _utc(clock.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + escape_text("Neighbourhood Mutual Aid" if english else "邻里互助"),
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:claim-{event.claim_id}-task-{event.task_id}@linli-huzhu",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(event.starts_at)}",
            f"DTEND:{_utc(event.ends_at)}",
            "SUMMARY:" + escape_text(event.name_en if english else event.name_zh),
            "LOCATION:" + escape_text(f"{event.community_name} {event.grid_name}"),
            "DESCRIPTION:" + escape_text(event.description),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
