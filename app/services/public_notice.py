"""Public notices (公示) of a community: composing, publishing, withdrawing.

Who
    Community workers of the community, street officers above it, and
    administrators; a notice outside the actor's scope is NotFound, like a
    missing one (app/auth_scope.py). Grid workers do not compose notices.

Lifecycle
    DRAFT → PUBLISHED → WITHDRAWN. A notice covers a period (e.g. a month);
    staff choose its items from the candidates of that period
    (public_notice_candidates.py) and may word each one themselves. It is
    published now or at a later time, and stays up for the notice period
    (公示期): 7 days unless staff choose otherwise — the period of the
    minimum-subsistence rules (民政部《最低生活保障审核确认办法》, 公示期为7天);
    the seeds name the practice (审核公示、审批公示、长期公示, 004; 在一定范围公示,
    001) but not its length. While a notice is a draft, or published but not
    yet shown, its items and times may change; once shown it can only be
    withdrawn, with a reason. Every change is a conditional UPDATE on the
    notice's status, so two staff acting at once cannot publish a notice
    while it is being edited, nor withdraw it twice.

Public text
    A title or wording is shown to everyone, so it may not carry what could
    identify a person: no number of 6 or more digits (also when written in
    groups, "138 0013 8000", or in Chinese numerals), and no full name of
    anyone in the community's ledger. Names come only from the masked
    snapshot (services/privacy.mask_name).

Every change is audit-logged (services/audit.py) without values; commits once.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import get_scoped_or_404, is_valid_id, require_role, scoped
from app.extensions import db
from app.models import (
    Community,
    Grid,
    Household,
    Member,
    NoticeItem,
    NoticeStatus,
    PublicNotice,
    Role,
)
from app.services import audit
from app.services.errors import Conflict, InvalidInput
from app.services.public_notice_candidates import Candidate, candidates
from app.services.public_notice_display import Row, row_of, service_codes, service_names, short_period

NOTICE_STAFF = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
NOTICE_DAYS = 7  # 公示期
MAX_NOTICE_DAYS = 366  # a standing notice (长期公示) stays up at most a year, then is renewed
MAX_PERIOD_DAYS = 366
TITLE_MAX, WORDING_MAX, REASON_MAX = 60, 60, 300
# A run of digits and what people put between them; 6 digits in one run is refused.
_NUMBER_RUN = re.compile(r"[\d\s\-－—.·()（）+＋*＊xX]+")
_CHINESE_DIGITS = re.compile(r"[零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖幺两]{6,}")
MAX_DIGITS = 5


class WordingErrors(InvalidInput):
    """Some items' wordings were refused: `by_ref` maps each item's ref to why."""

    def __init__(self, by_ref: dict[str, object]):
        super().__init__(
            _l("Some entries cannot be published as worded; see the marked rows."),
            code="invalid_wording",
            field="items",
        )
        self.by_ref = by_ref


# --- checks --------------------------------------------------------------------------


def check_public_text(text, *, limit: int, field: str, names=(), required: bool = False) -> str | None:
    """`text` fit to be shown publicly (whitespace collapsed), or None when empty.

    Raises InvalidInput: too long or missing (`invalid_text`), a number that
    could be an ID or phone (`number_in_text`), a full name (`name_in_text`).
    """
    text = " ".join(str(text or "").split())
    if not text:
        if required:
            raise InvalidInput(
                _l("Enter a text of up to %(n)d characters.", n=limit), code="invalid_text", field=field
            )
        return None
    if len(text) > limit:
        raise InvalidInput(
            _l("Enter a text of up to %(n)d characters.", n=limit), code="invalid_text", field=field
        )
    runs = (sum(ch.isdigit() for ch in run) for run in _NUMBER_RUN.findall(text))
    if any(digits > MAX_DIGITS for digits in runs) or _CHINESE_DIGITS.search(text):
        raise InvalidInput(
            _l(
                "No numbers of 6 or more digits here: they could be an ID or phone number. "
                "Write dates as 11月5日."
            ),
            code="number_in_text",
            field=field,
        )
    if any(name in text for name in names):
        raise InvalidInput(
            _l("Do not write a person's full name: the notice shows names masked (张*明)."),
            code="name_in_text",
            field=field,
        )
    return text


def community_names(community_id: int) -> set[str]:
    """The full names (two characters or more) of everyone in the community's ledger."""
    rows = db.session.scalars(
        sa.select(Member.name)
        .join(Household, Household.id == Member.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(Grid.community_id == community_id)
        .distinct()
    )
    return {name.strip() for name in rows if len(name.strip()) >= 2}


# --- reading -------------------------------------------------------------------------


def notice_communities(actor) -> list[Community]:
    """The communities the actor composes notices for; Forbidden for others."""
    require_role(actor, *NOTICE_STAFF)
    return list(db.session.scalars(scoped(sa.select(Community), Community, actor).order_by(Community.id)))


def notices_stmt(actor, community_id: int | None = None) -> sa.Select:
    """SELECT of the notices in the actor's scope, newest first, communities loaded."""
    require_role(actor, *NOTICE_STAFF)
    stmt = scoped(sa.select(PublicNotice), PublicNotice, actor).options(selectinload(PublicNotice.community))
    if community_id is not None:
        stmt = stmt.where(PublicNotice.community_id == community_id)
    return stmt.order_by(PublicNotice.created_at.desc(), PublicNotice.id.desc())


def get_notice(actor, notice_id: int) -> PublicNotice:
    """A notice in the actor's scope with its items and community; NotFound otherwise."""
    require_role(actor, *NOTICE_STAFF)
    options = (selectinload(PublicNotice.items), selectinload(PublicNotice.community))
    return get_scoped_or_404(PublicNotice, notice_id, actor, options=options)


@dataclass(frozen=True)
class ChoiceRow:
    """A line staff may publish: as it would read, whether it is in, its own wording."""

    row: Row
    included: bool
    wording: str
    stale: bool  # in the notice, but no longer a candidate (kept as it was)


def choice_rows(notice: PublicNotice) -> list[ChoiceRow]:
    """The period's candidates, then items no longer candidates, for the items form.

    A notice without items yet has every candidate ticked: a 公示 lists
    everyone by default, and staff leave out what should not be posted."""
    found = candidates(notice.community_id, notice.period_start, notice.period_end)
    refs = {c.ref for c in found}
    items = {item.ref: item for item in notice.items}
    sources = [(c, False) for c in found] + [(i, True) for i in notice.items if i.ref not in refs]
    names = service_names(service_codes(source for source, _stale in sources))
    period = short_period(notice.period_start, notice.period_end)
    return [
        ChoiceRow(
            row_of(source, names, period, wording=""),
            source.ref in items or not items,
            (items[source.ref].wording or "") if source.ref in items else "",
            stale,
        )
        for source, stale in sources
    ]


# --- writing -------------------------------------------------------------------------


@dataclass
class NoticeData:
    community_id: int
    title: str
    period_start: date
    period_end: date


def default_period(today: date) -> tuple[date, date]:
    """Last month, the usual period of a monthly notice."""
    last_day = today.replace(day=1) - timedelta(days=1)
    return last_day.replace(day=1), last_day


def create_notice(actor, data: NoticeData, today: date) -> PublicNotice:
    """Start a draft notice for a community and a period; commit."""
    require_role(actor, *NOTICE_STAFF)
    in_scope = is_valid_id(data.community_id) and db.session.scalar(
        scoped(sa.select(Community.id), Community, actor).where(Community.id == data.community_id)
    )
    if not in_scope:
        raise InvalidInput(
            _l("Choose a community you look after."), code="community_not_managed", field="community_id"
        )
    title = check_public_text(
        data.title, limit=TITLE_MAX, field="title", names=community_names(data.community_id), required=True
    )
    start, end = data.period_start, data.period_end
    if start is None or end is None or start > end or start > today:
        raise InvalidInput(
            _l("Choose a period that has begun, its first day before its last."),
            code="invalid_period",
            field="period_start",
        )
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(_l("A notice covers at most a year."), code="invalid_period", field="period_end")
    notice = PublicNotice(
        community_id=data.community_id,
        title=title,
        period_start=start,
        period_end=end,
        created_by_id=actor.id,
    )
    db.session.add(notice)
    db.session.flush()
    audit.record(actor, "create", "public_notice", notice.id)
    db.session.commit()
    return notice


def _editable(now: datetime):
    """WHERE clause: a draft, or published but not yet shown."""
    return (PublicNotice.status == NoticeStatus.DRAFT) | (
        (PublicNotice.status == NoticeStatus.PUBLISHED) & (PublicNotice.publish_at > now)
    )


def _not_editable() -> Conflict:
    return Conflict(
        _l("This notice is already shown, ended or withdrawn; withdraw it and compose a new one."),
        code="notice_not_editable",
    )


def choose_items(actor, notice_id: int, chosen: dict[str, str]) -> PublicNotice:
    """Set the notice's items: `chosen` maps each ref to publish to its own
    wording ("" for the default). Items are snapshots of the candidates now;
    an item no longer a candidate may stay as it was. Commit.

    Raises InvalidInput `unknown_item` for a ref that is neither,
    WordingErrors for wordings refused, Conflict when not editable.
    """
    notice = get_notice(actor, notice_id)
    # Claims the row (a lock on PostgreSQL; SQLite writes one at a time), so a
    # publish or withdraw waits for this edit instead of slipping in between.
    claimed = db.session.execute(
        sa.update(PublicNotice)
        .where(PublicNotice.id == notice.id, _editable(clock.now()))
        .values(status=PublicNotice.status)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise _not_editable()
    found = {c.ref: c for c in candidates(notice.community_id, notice.period_start, notice.period_end)}
    existing = {item.ref: item for item in notice.items}
    if any(ref not in found and ref not in existing for ref in chosen):
        db.session.rollback()
        raise InvalidInput(_l("An entry chosen is not in this period."), code="unknown_item", field="items")
    names = community_names(notice.community_id)
    wordings, errors = {}, {}
    for ref, text in chosen.items():
        try:
            wordings[ref] = check_public_text(text, limit=WORDING_MAX, field="wording", names=names)
        except InvalidInput as error:
            errors[ref] = error.message
    if errors:
        db.session.rollback()
        raise WordingErrors(errors)
    order = [ref for ref in found if ref in chosen] + [
        ref for ref in existing if ref in chosen and ref not in found
    ]
    items = []
    for position, ref in enumerate(order):
        item = existing.get(ref) or NoticeItem(ref=ref)
        if ref in found:
            _snapshot(item, found[ref])
        item.position, item.wording = position, wordings[ref]
        items.append(item)
    notice.items = items
    audit.record(actor, "update", "public_notice", notice.id, fields=["items"], note=f"{len(items)} items")
    db.session.commit()
    return notice


def _snapshot(item: NoticeItem, candidate: Candidate) -> None:
    item.kind = candidate.kind
    item.household_id = candidate.household_id
    item.service_type_code = candidate.service_type_code
    item.masked_name = candidate.masked_name
    item.categories = ",".join(candidate.categories)
    item.services = ",".join(candidate.services)
    item.on = candidate.on
    item.visits = candidate.visits
    item.households = candidate.households


def publish_notice(
    actor, notice_id: int, publish_at: datetime | None, until: datetime | None
) -> PublicNotice:
    """Publish now (`publish_at` None) or at a later aware time, until `until`
    (default: NOTICE_DAYS later); also reschedules a notice not yet shown. Commit.

    Raises Conflict `empty_notice` / `notice_not_editable`, InvalidInput
    `time_passed` (publish_at), `invalid_until` (until).
    """
    notice = get_notice(actor, notice_id)
    now = clock.now()
    if not notice.items:
        raise Conflict(_l("Choose at least one entry before publishing."), code="empty_notice")
    if publish_at is not None and publish_at < now:
        raise InvalidInput(
            _l("That time has passed: publish now, or choose a later time."),
            code="time_passed",
            field="publish_at",
        )
    start = publish_at or now
    end = until or start + timedelta(days=NOTICE_DAYS)
    if not start < end <= start + timedelta(days=MAX_NOTICE_DAYS):
        raise InvalidInput(
            _l("The notice must stay up after it is published, for at most a year."),
            code="invalid_until",
            field="until",
        )
    updated = db.session.execute(
        sa.update(PublicNotice)
        .where(PublicNotice.id == notice.id, _editable(now))
        .values(status=NoticeStatus.PUBLISHED, publish_at=start, publish_until=end)
    ).rowcount
    if updated != 1:
        db.session.rollback()
        raise _not_editable()
    audit.record(
        actor, "publish", "public_notice", notice.id, fields=["status", "publish_at", "publish_until"]
    )
    db.session.commit()
    db.session.refresh(notice)
    return notice


def withdraw_notice(actor, notice_id: int, reason: str) -> PublicNotice:
    """Take down a published notice before it ends (shown or scheduled), with a reason; commit.

    Raises InvalidInput `invalid_text` (reason 1–300), Conflict `not_withdrawable`.
    """
    notice = get_notice(actor, notice_id)
    reason = " ".join(str(reason or "").split())
    if not 1 <= len(reason) <= REASON_MAX:
        raise InvalidInput(
            _l("Give the reason in up to %(n)d characters.", n=REASON_MAX),
            code="invalid_text",
            field="reason",
        )
    now = clock.now()
    updated = db.session.execute(
        sa.update(PublicNotice)
        .where(
            PublicNotice.id == notice.id,
            PublicNotice.status == NoticeStatus.PUBLISHED,
            PublicNotice.publish_until > now,
        )
        .values(
            status=NoticeStatus.WITHDRAWN, withdrawn_at=now, withdrawn_by_id=actor.id, withdraw_reason=reason
        )
    ).rowcount
    if updated != 1:
        db.session.rollback()
        raise Conflict(
            _l("Only a published notice that has not ended can be withdrawn."), code="not_withdrawable"
        )
    audit.record(actor, "withdraw", "public_notice", notice.id, fields=["status", "withdraw_reason"])
    db.session.commit()
    db.session.refresh(notice)
    return notice
