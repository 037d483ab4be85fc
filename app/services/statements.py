"""A points statement (积分明细): every entry of an account with its running balance and its reason.

Reasons are rendered when read, in the reader's language, from the
transaction's data (the visit, the rule arithmetic in `details`, the
voucher's reward, the donation's recipient) — never stored translated.
A page of lines costs the same few queries however many rows it has.
"""

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import openpyxl
import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app import clock
from app.auth_scope import require_role
from app.extensions import MAX_PAGE, db
from app.labels import label
from app.models import (
    AccountKind,
    Claim,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Member,
    Relation,
    Reward,
    Role,
    ServiceType,
    Task,
    TxKind,
    User,
    Voucher,
)
from app.models.honour import HonourTally
from app.services import ledger
from app.services.privacy import mask_name

PER_PAGE = 20
MAX_PER_PAGE = 100

ROUNDING_LABELS = {
    "half_up": _l("rounded half up"),
    "down": _l("rounded down"),
    "up": _l("rounded up"),
}


def kind_label(kind: TxKind) -> str:
    return label(kind)


@dataclass(frozen=True)
class Line:
    """One entry as a reader sees it."""

    id: int  # the entry's id
    transaction_id: int
    at: datetime  # aware UTC
    amount: int  # signed: + in, − out
    balance_after: int  # the sum of the account's entries up to and including this one
    kind: TxKind
    reason: str

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)


@dataclass(frozen=True)
class Statement:
    balance: int  # cached on the account (0 if it was never opened)
    earned_total: int  # awards not reversed
    lines: list[Line]  # this page, newest first
    page: object  # flask_sqlalchemy Pagination (page, pages, total, has_next …)


def statement(user, page: int = 1, per_page: int = PER_PAGE) -> Statement:
    """The volunteer's own statement, one page of entries newest first.

    Raises Forbidden for a user who is not a volunteer (administrators pass).
    """
    require_role(user, Role.VOLUNTEER)
    account = ledger.find_account(AccountKind.VOLUNTEER, user.id)
    found, lines = account_lines(account.id if account else None, page, per_page)
    return Statement(account.balance if account else 0, earned_total(user.id), lines, found)


def earned_total(user_id: int) -> int:
    """Points the volunteer earned and kept: the volunteer entries of their AWARD
    transactions that no REVERSAL names — the honour board's rule, so read
    from its per-day tallies (one primary-key range; adding up every award
    took 6 ms for a busy volunteer at city scale). The tallies are written in
    the same transaction as each award and reversal, and `flask ledger-check`
    compares them with the ledger."""
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(HonourTally.points), 0)).where(
                HonourTally.earner_id == user_id
            )
        )
    )


def account_lines(account_id: int | None, page: int = 1, per_page: int = PER_PAGE):
    """(pagination, lines) for one page of an account's entries, newest first."""
    page, per_page = page_number(page), min(max(per_page, 1), MAX_PER_PAGE)
    stmt = (
        sa.select(LedgerEntry)
        .where(LedgerEntry.account_id == (account_id or 0))
        .order_by(LedgerEntry.id.desc())
    )
    found = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return found, build_lines(account_id, list(found.items))


def page_number(value) -> int:
    """A page number from a URL: a whole number from 1 to MAX_PAGE, else 1."""
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_PAGE
    return value if valid else 1


def all_lines(account_id: int | None) -> list[Line]:
    """Every entry of an account, newest first (the XLSX export)."""
    if account_id is None:
        return []
    entries = db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id.desc())
    ).all()
    return build_lines(account_id, list(entries))


def build_lines(account_id: int | None, entries: list[LedgerEntry]) -> list[Line]:
    """Lines for `entries` (one account's, newest first) with running balances and reasons."""
    if not entries:
        return []
    oldest = entries[-1].id
    # The balance before this page: what the account's older entries sum to.
    running = int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account_id, LedgerEntry.id < oldest
            )
        )
    )
    txs = {
        tx.id: tx
        for tx in db.session.scalars(
            sa.select(LedgerTransaction).where(LedgerTransaction.id.in_({e.transaction_id for e in entries}))
        )
    }
    reasons = Reasons(list(txs.values()), account_id)
    after = {}
    for entry in reversed(entries):
        running += entry.amount
        after[entry.id] = running
    return [
        Line(
            id=entry.id,
            transaction_id=entry.transaction_id,
            at=entry.created_at,
            amount=entry.amount,
            balance_after=after[entry.id],
            kind=txs[entry.transaction_id].kind,
            reason=reasons.of(txs[entry.transaction_id]),
        )
        for entry in entries
    ]


# --- reasons ---------------------------------------------------------------------------


class Reasons:
    """Renders the reasons of a batch of transactions, loading what they name in bulk."""

    def __init__(self, transactions: list[LedgerTransaction], account_id: int | None):
        self.visits = _visits({t.claim_id for t in transactions if t.claim_id})
        self.rewards = _rewards({t.voucher_id for t in transactions if t.voucher_id})
        self.counterparts = _counterparts(
            [t.id for t in transactions if t.kind is TxKind.DONATION], account_id
        )

    def of(self, tx: LedgerTransaction) -> str:
        details = tx.details or {}
        if tx.kind is TxKind.AWARD:
            return award_reason(self.visits.get(tx.claim_id), details)
        if tx.kind is TxKind.REVERSAL:
            service, day = self.visits.get(tx.claim_id) or (_("a visit"), "?")
            text = _(
                "Points taken back for %(service)s on %(date)s: %(reason)s",
                service=service,
                date=day,
                reason=tx.reason,
            )
            shortfall = _int(details.get("shortfall"))
            if shortfall > 0:
                text += " " + _(
                    "(%(points)d points could not be taken back: already spent)", points=shortfall
                )
            return text
        reward = self.rewards.get(tx.voucher_id) or _("a reward")
        if tx.kind is TxKind.REDEMPTION:
            return _("Redeemed for %(reward)s", reward=reward)
        if tx.kind is TxKind.REFUND:
            return _("Returned: the voucher for %(reward)s was cancelled or expired", reward=reward)
        if tx.kind is TxKind.HANDOVER:
            return _("Handed over: %(reward)s", reward=reward)
        if tx.kind is TxKind.DONATION:
            return _donation_reason(self.counterparts.get(tx.id))
        return tx.reason


def award_reason(visit: tuple[str, str] | None, details: dict) -> str:
    """'Housekeeping on 2026-10-05, 65 minutes paid: 10 per visit + …' from an award's details."""
    service, day = visit or (details.get("service_type") or _("a visit"), "?")
    return _(
        "%(service)s on %(date)s, %(minutes)d minutes paid: %(arithmetic)s",
        service=service,
        date=day,
        minutes=_int(details.get("minutes_paid")),
        arithmetic=award_arithmetic(details),
    )


def award_arithmetic(details: dict) -> str:
    """The rule arithmetic of an award, e.g. '10 per visit + 5 per hour × 65 min = 5 (rounded half up) = 15'."""
    parts = [_("%(points)d per visit", points=_int(details.get("points_per_visit")))]
    parts.append(
        _(
            "%(rate)d per hour × %(minutes)d min = %(points)d (%(rounding)s)",
            rate=_int(details.get("points_per_hour")),
            minutes=_int(details.get("minutes_paid")),
            points=_int(details.get("hour_points")),
            rounding=str(ROUNDING_LABELS.get(details.get("rounding"), details.get("rounding") or "")),
        )
    )
    bonus = _int(details.get("urgency_bonus"))
    if bonus:
        parts.append(_("urgency bonus %(points)d", points=bonus))
    before_cap = _int(details.get("before_cap"))
    text = " + ".join(parts) + f" = {before_cap}"
    worked, paid = _int(details.get("minutes_checked_in")), _int(details.get("minutes_paid"))
    if worked > paid:
        text += " " + _("(%(worked)d min checked in; at most 1.5 × the expected time is paid)", worked=worked)
    points = _int(details.get("points"))
    if points < before_cap:
        text += "; " + _(
            "daily cap %(cap)d with %(already)d already earned that day: %(points)d paid",
            cap=_int(details.get("daily_cap")),
            already=_int(details.get("already_today")),
            points=points,
        )
    return text


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _donation_reason(counterpart: tuple[AccountKind, str | None] | None) -> str:
    kind, name = counterpart or (None, None)
    if kind is AccountKind.POOL:
        return _("Donated to the community pool")
    if kind is AccountKind.HOUSEHOLD:
        return _("Donated to a household (%(name)s)", name=mask_name(name) or "—")
    if kind is AccountKind.VOLUNTEER:
        return _("Donation from a volunteer (%(name)s)", name=mask_name(name) or "—")
    return _("Donation")


def _english() -> bool:
    locale = get_locale()
    return bool(locale and locale.language == "en")


def _visits(claim_ids: set[int]) -> dict[int, tuple[str, str]]:
    """claim id → (service type name in the reader's language, local date of the visit)."""
    if not claim_ids:
        return {}
    rows = db.session.execute(
        sa.select(Claim.id, Claim.check_in_at, Task.starts_at, ServiceType.name_zh, ServiceType.name_en)
        .join(Task, Task.id == Claim.task_id)
        .join(ServiceType, ServiceType.code == Task.service_type_code)
        .where(Claim.id.in_(claim_ids))
    )
    english = _english()
    return {
        row.id: (
            row.name_en if english else row.name_zh,
            clock.local_date(row.check_in_at or row.starts_at).isoformat(),
        )
        for row in rows
    }


def _rewards(voucher_ids: set[int]) -> dict[int, str]:
    if not voucher_ids:
        return {}
    rows = db.session.execute(
        sa.select(Voucher.id, Reward.name)
        .join(Reward, Reward.id == Voucher.reward_id)
        .where(Voucher.id.in_(voucher_ids))
    )
    return {row.id: row.name for row in rows}


def _counterparts(tx_ids: list[int], account_id: int | None) -> dict[int, tuple[AccountKind, str | None]]:
    """donation id → (the other account's kind, its owner's name: householder or volunteer)."""
    if not tx_ids:
        return {}
    rows = db.session.execute(
        sa.select(LedgerEntry.transaction_id, LedgerAccount.kind, Member.name, User.name.label("user_name"))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .outerjoin(
            Member,
            sa.and_(
                LedgerAccount.kind == AccountKind.HOUSEHOLD,
                Member.household_id == LedgerAccount.owner_id,
                Member.relation == Relation.HEAD,
            ),
        )
        .outerjoin(
            User, sa.and_(LedgerAccount.kind == AccountKind.VOLUNTEER, User.id == LedgerAccount.owner_id)
        )
        .where(LedgerEntry.transaction_id.in_(tx_ids), LedgerEntry.account_id != (account_id or 0))
        .order_by(LedgerEntry.id)
    )
    found: dict[int, tuple[AccountKind, str | None]] = {}
    for row in rows:
        found.setdefault(row.transaction_id, (row.kind, row.name or row.user_name))
    return found


# --- XLSX --------------------------------------------------------------------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def statement_xlsx(user) -> bytes:
    """Every entry of the volunteer's statement as an XLSX workbook, headings in the reader's language.

    Raises Forbidden for a user who is not a volunteer.
    """
    require_role(user, Role.VOLUNTEER)
    account = ledger.find_account(AccountKind.VOLUNTEER, user.id)
    lines = all_lines(account.id if account else None)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Points statement")[:31]
    headings = [_("Date and time"), _("Kind"), _("Points"), _("Balance after"), _("Reason")]
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in lines:
        local = line.at.astimezone(clock.LOCAL_TZ).replace(tzinfo=None)
        sheet.append([local, line.kind_label, line.amount, line.balance_after, _text(line.reason)])
        sheet.cell(row=sheet.max_row, column=1).number_format = "yyyy-mm-dd hh:mm"
        sheet.cell(row=sheet.max_row, column=5).data_type = "s"  # a reason is text, never a formula
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDE", (18, 12, 10, 12, 80), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)
