"""The community notice-board display (社区公示屏): what the screen in the community hall shows.

Public: nothing here names a household, an address, a phone or an ID
number. Volunteers appear as on the honour board; residents' thank-you
comments lose any run of digits that could be a phone or ID number; the
community's public notices (公示) show as their public page does, names
masked (services/public_notice_display.py).
"""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.models import (
    Claim,
    ClaimStatus,
    Community,
    Grid,
    Household,
    LedgerTransaction,
    Need,
    NeedStatus,
    ServiceType,
    Task,
    TxKind,
    User,
)
from app.services import honour, qr
from app.services.errors import NotFound
from app.services.privacy import mask_name
from app.services.public_notice_display import board_panel

TOP_VOLUNTEERS, TOP_TEAMS, COMMENTS = 10, 5, 10
COMMENT_DAYS, COMMENT_MIN_RATING, COMMENT_LENGTH = 30, 4, 60
QR_TARGETS = ("join", "help", "notice")
# Five or more digits, also when written in groups ("138 0013 8000",
# "138-0013-8000"): a phone or ID number never reaches the public screen.
_NUMBER = re.compile(r"\d(?:[\s\-－]*\d){4,}")
ELLIPSIS = "…"


class seconds_between(FunctionElement):
    """Seconds from the first timestamp to the second, as a number."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # julianday() is a float of days: round to whole seconds, or 5.75 h sums to 5.7499….
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def sanitise_comment(text: str) -> str:
    """A resident's comment fit for a public screen: numbers replaced by "…",
    at most COMMENT_LENGTH characters."""
    text = _NUMBER.sub(ELLIPSIS, (text or "").strip())
    if len(text) > COMMENT_LENGTH:
        text = text[: COMMENT_LENGTH - 1] + ELLIPSIS
    return text


def get_community(community_id) -> Community:
    community = db.session.get(Community, community_id) if is_valid_id(community_id) else None
    if community is None:
        raise NotFound()
    return community


def _unreversed_visit():
    """WHERE clause: the claim's award, if any, has not been reversed."""
    award, reversal = sa.orm.aliased(LedgerTransaction), sa.orm.aliased(LedgerTransaction)
    return ~sa.exists().where(
        award.claim_id == Claim.id, award.kind == TxKind.AWARD, reversal.reverses_id == award.id
    )


def _confirmed_in(community_id: int):
    return (
        sa.select()
        .select_from(Claim)
        .join(Task, Task.id == Claim.task_id)
        .join(Grid, Grid.id == Task.grid_id)
        .where(Grid.community_id == community_id, Claim.status == ClaimStatus.CONFIRMED, _unreversed_visit())
    )


def thank_you_comments(community_id: int, limit: int = COMMENTS) -> list[dict]:
    """The newest residents' comments (rating ≥ 4, last 30 days) of confirmed
    visits in the community, sanitised, with the volunteer's masked name, the
    service and the local date. A visit whose points were reversed (found
    false) is left out."""
    since = clock.now() - timedelta(days=COMMENT_DAYS)
    stmt = (
        _confirmed_in(community_id)
        .add_columns(Claim.comment, Claim.confirmed_at, User.name, ServiceType)
        .join(User, User.id == Claim.volunteer_id)
        .join(ServiceType, ServiceType.code == Task.service_type_code)
        .where(
            Claim.confirmed_at >= since,
            Claim.rating >= COMMENT_MIN_RATING,
            sa.func.trim(Claim.comment) != "",
        )
        .order_by(Claim.confirmed_at.desc(), Claim.id.desc())
        .limit(limit)
    )
    return [
        {
            "text": sanitise_comment(comment),
            "volunteer": mask_name(name),
            "service": service.name,
            "date": clock.local_date(confirmed_at).isoformat(),
        }
        for comment, confirmed_at, name, service in db.session.execute(stmt)
    ]


def month_totals(community_id: int, today=None) -> dict:
    """This month's confirmed visits (not reversed) in the community: how
    many, the volunteer hours checked in (one decimal), the households
    helped; and the community's open needs now."""
    start, end = honour.period_bounds("month", today)
    visits = db.session.execute(
        _confirmed_in(community_id)
        .add_columns(
            sa.func.count(Claim.id),
            sa.func.coalesce(sa.func.sum(seconds_between(Claim.check_in_at, Claim.check_out_at)), 0),
            sa.func.count(sa.distinct(Task.household_id)),
        )
        .where(Claim.confirmed_at >= start, Claim.confirmed_at < end)
    ).one()
    open_needs = db.session.scalar(
        sa.select(sa.func.count(Need.id))
        .join(Household, Household.id == Need.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(Grid.community_id == community_id, Need.status == NeedStatus.OPEN)
    )
    services, seconds, households = visits
    return {
        "services": int(services),
        "hours": float((Decimal(str(seconds)) / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)),
        "households": int(households),
        "open_needs": int(open_needs),
    }


def qr_url(community: Community, which: str) -> str:
    """The URL a QR code on the screen carries: join as a volunteer, ask for help
    (the community's first grid's help form, or the general one), or read the
    community's public notices (and object to an entry).

    Raises NotFound for another `which`.
    """
    if which == "join":
        return url_for("auth.register", _external=True)
    if which == "notice":
        return url_for("notice.public_notices", community_id=community.id, _external=True)
    if which == "help":
        grid_id = db.session.scalar(
            sa.select(Grid.id).where(Grid.community_id == community.id).order_by(Grid.id).limit(1)
        )
        if grid_id is None:
            return url_for("help.choose", _external=True)
        return url_for("help.ask", grid_id=grid_id, _external=True)
    raise NotFound()


def qr_png(community_id, which: str) -> bytes:
    """The PNG of a QR code on the screen (`join` or `help`); NotFound otherwise."""
    return qr.png(qr_url(get_community(community_id), which), box_size=10)


def _volunteer_out(row: honour.VolunteerRow) -> dict:
    streak = row.streak_months
    return {
        "rank": row.rank,
        "name": row.name,
        "points": row.points,
        "team": row.team,
        "streak_months": streak,
        "streak_label": ngettext("%(num)d month in a row", "%(num)d months in a row", streak)
        if streak
        else "",
    }


def _team_out(row: honour.TeamRow) -> dict:
    return {
        "rank": row.rank,
        "name": row.name,
        "points": row.points,
        "members": row.members,
        "members_label": ngettext("%(num)d member", "%(num)d members", row.members),
    }


def display_data(community_id) -> dict:
    """Everything the notice-board screen shows, as a JSON-able dict (in the
    request's language): the honour board, thank-you notes, the month's
    totals, QR codes and the public notices shown now (`notice_titles`,
    `notice_rows`, `notice_more`). Raises NotFound for a community that does
    not exist."""
    community = get_community(community_id)
    today = clock.today()
    scope = honour.BoardScope("community", community.id, community.name)
    volunteers = honour.board(scope, "month", "volunteers", TOP_VOLUNTEERS, today)
    teams = honour.board(scope, "month", "teams", TOP_TEAMS, today)
    now = clock.now()
    return {
        "community": {"id": community.id, "name": community.name},
        "month": f"{today.year:04d}-{today.month:02d}",
        "month_label": _("%(year)d/%(month)d", year=today.year, month=today.month),
        "volunteers": [_volunteer_out(row) for row in volunteers],
        "teams": [_team_out(row) for row in teams],
        "comments": thank_you_comments(community.id),
        "totals": month_totals(community.id, today),
        "qr": {which: qr_url(community, which) for which in QR_TARGETS},
        **board_panel(community.id),
        "generated_at": now.isoformat(),
        "generated_at_local": now.astimezone(clock.LOCAL_TZ).strftime("%H:%M"),
    }
