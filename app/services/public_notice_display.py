"""How a public notice (公示) reads: the public page, the notice-board panel
and the rows staff choose from, in the reader's language.

A row shows a masked name, a category, what help and when — nothing else.
Categories that would tell the public about a person's health, childhood or
that an old person lives alone (重残, 孤儿, 困境儿童, 独居, 高龄) are shown as
"special care" (关爱对象): posting "张*明 · 独居老人" beside a community name
tells a burglar where to go. The assistance categories (低保, 特困,
低保边缘, 收入型, 支出型) are what a 公示 is for and are shown as they are.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.labels import label
from app.models import Category, NoticeItem, NoticeItemKind, NoticeStatus, PublicNotice, ServiceType

SPECIAL_CARE = _l("Special care")
SHOWN_CATEGORIES = (
    Category.DIBAO,
    Category.TEKUN,
    Category.MARGINAL,
    Category.INCOME_TYPE,
    Category.EXPENDITURE_TYPE,
)
KIND_HEADINGS = {
    NoticeItemKind.ASSISTED: _l("Newly assisted"),
    NoticeItemKind.EXITED: _l("No longer assisted"),
    NoticeItemKind.SERVICES: _l("Neighbour services delivered"),
}
BOARD_ROWS = 24  # three panels of eight on the screen; the public page has the rest


def codes_of(value: str | tuple[str, ...]) -> list[str]:
    """Codes stored comma-separated (an item) or as a tuple (a candidate)."""
    return [c for c in (value.split(",") if isinstance(value, str) else value) if c]


def public_categories(codes: str | tuple[str, ...]) -> str:
    """Category codes as the public reads them, "、"-joined, special care last; "—" for none."""
    categories = [next((c for c in Category if c.value == code), None) for code in codes_of(codes)]
    shown = [label(c) for c in categories if c in SHOWN_CATEGORIES]
    if any(c not in SHOWN_CATEGORIES for c in categories):
        shown.append(str(SPECIAL_CARE))
    return "、".join(shown) or "—"


def local_datetime(moment: datetime | None) -> str:
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def short_period(start: date, end: date) -> str:
    """A period in a table cell: 03-01–03-31 within a year, else in full."""
    if start.year == end.year:
        return f"{start:%m-%d}–{end:%m-%d}"
    return f"{start.isoformat()}–{end.isoformat()}"


def default_wording(kind: NoticeItemKind, services: list[str], visits=None, households=None) -> str:
    """What help an item names when staff wrote nothing: from codes and counts only."""
    if kind is NoticeItemKind.EXITED:
        return _("Left the assistance list")
    if kind is NoticeItemKind.SERVICES:
        return " · ".join(
            (
                ngettext("%(num)d verified visit", "%(num)d verified visits", visits or 0),
                ngettext("%(num)d household reached", "%(num)d households reached", households or 0),
            )
        )
    if services:
        return _("Neighbour help: %(services)s", services="、".join(services))
    return _("Included in assistance")


@dataclass(frozen=True)
class Row:
    """One line as shown: name, category, help and date (all public)."""

    ref: str
    kind: NoticeItemKind
    name: str
    category: str
    help: str
    date: str

    def as_dict(self) -> dict:
        return {"name": self.name, "category": self.category, "help": self.help, "date": self.date}


def service_names(codes) -> dict[str, str]:
    """service code → name in the current language (one query)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return {
        s.code: s.name for s in db.session.scalars(sa.select(ServiceType).where(ServiceType.code.in_(codes)))
    }


def row_of(item, names: dict[str, str], period: str, wording: str | None = None) -> Row:
    """A NoticeItem or a candidate as shown; `wording` overrides the stored one."""
    services = [names.get(c, c) for c in codes_of(item.services)]
    if item.kind is NoticeItemKind.SERVICES:
        category = names.get(item.service_type_code, item.service_type_code or "—")
    else:
        category = public_categories(item.categories)
    text = wording if wording is not None else getattr(item, "wording", None)
    return Row(
        ref=item.ref,
        kind=item.kind,
        name=item.masked_name or "—",
        category=category,
        help=text or default_wording(item.kind, services, item.visits, item.households),
        date=item.on.isoformat() if item.on else period,
    )


def service_codes(items) -> set[str]:
    """Every service code named by items or candidates (None included; service_names drops it)."""
    codes = set()
    for item in items:
        codes.update(codes_of(item.services))
        codes.add(item.service_type_code)
    return codes


def rows_of(notice: PublicNotice, names: dict[str, str] | None = None) -> list[Row]:
    """The rows of a notice whose items are loaded."""
    if names is None:
        names = service_names(service_codes(notice.items))
    period = short_period(notice.period_start, notice.period_end)
    return [row_of(item, names, period) for item in notice.items]


# --- the public side -------------------------------------------------------------


def live_notices_stmt(community_id: int, now: datetime) -> sa.Select:
    """SELECT of the community's notices shown at `now`, newest first, items loaded."""
    return (
        sa.select(PublicNotice)
        .where(
            PublicNotice.community_id == community_id,
            PublicNotice.status == NoticeStatus.PUBLISHED,
            PublicNotice.publish_at <= now,
            PublicNotice.publish_until > now,
        )
        .options(selectinload(PublicNotice.items))
        .order_by(PublicNotice.publish_at.desc(), PublicNotice.id.desc())
    )


@dataclass(frozen=True)
class LiveNotice:
    notice: PublicNotice
    rows: list[Row]

    def sections(self) -> list[tuple[str, list[Row]]]:
        """(heading, rows) per kind of item, in a fixed order, empty kinds left out."""
        return [
            (str(heading), [r for r in self.rows if r.kind is kind])
            for kind, heading in KIND_HEADINGS.items()
            if any(r.kind is kind for r in self.rows)
        ]


def live_notices(community_id: int) -> list[LiveNotice]:
    """The community's notices shown now, with their rows (three queries in all)."""
    notices = list(db.session.scalars(live_notices_stmt(community_id, clock.now())))
    names = service_names(service_codes(item for n in notices for item in n.items))
    return [LiveNotice(n, rows_of(n, names)) for n in notices]


def board_panel(community_id: int) -> dict:
    """The notice-board screen's notice panel: the live notices' titles, at most
    BOARD_ROWS rows (newest notice first), and how many more the public page has."""
    notices = live_notices(community_id)
    rows = [row.as_dict() for live in notices for row in live.rows]
    return {
        "notice_titles": " · ".join(live.notice.title for live in notices),
        "notice_rows": rows[:BOARD_ROWS],
        "notice_more": ngettext(
            "%(num)d more entry on the notice page",
            "%(num)d more entries on the notice page",
            len(rows) - BOARD_ROWS,
        )
        if len(rows) > BOARD_ROWS
        else "",
    }


def get_live_notice(community_id: int, notice_id: int) -> PublicNotice:
    """A notice of the community shown now (items loaded), else NotFound — a
    draft, scheduled, ended or withdrawn notice answers like a missing one."""
    from app.services.errors import NotFound

    if not (is_valid_id(community_id) and is_valid_id(notice_id)):
        raise NotFound()
    notice = db.session.scalar(
        live_notices_stmt(community_id, clock.now()).where(PublicNotice.id == notice_id)
    )
    if notice is None:
        raise NotFound()
    return notice


def item_choices(notice: PublicNotice, rows: list[Row] | None = None) -> list[tuple[int, str]]:
    """(item id, "name · category") of a live notice's items, for the objection
    form; `rows` (rows_of the notice) saves reading the service names again."""
    rows = rows if rows is not None else rows_of(notice)
    return [(item.id, f"{row.name} · {row.category}") for item, row in zip(notice.items, rows, strict=True)]


def notice_item(notice: PublicNotice, item_id: int) -> NoticeItem | None:
    return next((i for i in notice.items if i.id == item_id), None)


# --- the staff side ---------------------------------------------------------------

STATES = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "live": _l("Shown now"),
    "ended": _l("Ended"),
    "withdrawn": _l("Withdrawn"),
}


def state_of(notice: PublicNotice, now: datetime) -> str:
    """draft, scheduled (published, not yet shown), live, ended or withdrawn."""
    if notice.status is NoticeStatus.DRAFT:
        return "draft"
    if notice.status is NoticeStatus.WITHDRAWN:
        return "withdrawn"
    if now < notice.publish_at:
        return "scheduled"
    return "live" if now < notice.publish_until else "ended"
