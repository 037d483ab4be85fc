"""The monthly points export for the city credit system (海贝分, like Weihai's): one row per volunteer.

For a local (Asia/Shanghai) month, every volunteer with an entry on their
account in that month: points earned (awards made in the month that no
reversal names, the honour board's rule), points taken back by reversals
made in the month, donated, spent on rewards and returned from cancelled or
expired vouchers. Full names and phones: for staff and the city system only.

Who may export: administrators and the system (the CLI, actor None) see
everyone; a street officer sees the volunteers who earned or lost points
for visits in their street that month, with earned and reversed counted
for their street only. Every export is audit-logged, without its values.
"""

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth_scope import community_ids, require_role, scope_of
from app.extensions import db
from app.models import (
    AccountKind,
    Community,
    Grid,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Role,
    TxKind,
    User,
)
from app.services import audit
from app.services.errors import InvalidInput

FORMATS = ("csv", "json")
FIELDS = ("user_id", "name", "phone", "community", "earned", "reversed", "donated", "redeemed", "refunded")
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Chinese names intact) only with it


@dataclass(frozen=True)
class CreditRow:
    user_id: int
    name: str
    phone: str
    community: str
    earned: int
    reversed: int
    donated: int
    redeemed: int
    refunded: int


def month_bounds(year, month) -> tuple[date, date]:
    """The first day of the month and of the next; InvalidInput `invalid_month` for an
    impossible month or one that has not begun."""
    valid = all(isinstance(v, int) and not isinstance(v, bool) for v in (year, month))
    if not valid or not 2000 <= year <= 2100 or not 1 <= month <= 12 or date(year, month, 1) > clock.today():
        raise InvalidInput(_l("Choose a month that has begun."), code="invalid_month", field="month")
    first = date(year, month, 1)
    return first, date(year + month // 12, month % 12 + 1, 1)


def monthly_points(actor, year: int, month: int) -> list[CreditRow]:
    """The month's rows, ordered by user id. `actor` None is the system (everything).

    Raises Forbidden (not an administrator or street officer), InvalidInput `invalid_month`.
    """
    if actor is not None:
        require_role(actor, Role.STREET_OFFICER)
    first, after = month_bounds(year, month)
    start, end = clock.local_day_bounds(first)[0], clock.local_day_bounds(after)[0]
    tx, entry = LedgerTransaction, LedgerEntry
    reversal = sa.orm.aliased(LedgerTransaction)
    scope = scope_of(actor) if actor is not None else None
    # Earned and reversed count only where the visit was given inside the reader's street.
    placed = tx.community_id.in_(community_ids(scope)) if scope and scope.level != "all" else sa.true()

    def total(condition, sign: int = 1):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, sign * entry.amount), else_=0)), 0)

    not_reversed = ~sa.exists().where(reversal.reverses_id == tx.id)
    stmt = (
        sa.select(
            LedgerAccount.owner_id,
            total(sa.and_(tx.kind == TxKind.AWARD, not_reversed, placed)).label("earned"),
            total(sa.and_(tx.kind == TxKind.REVERSAL, placed), -1).label("reversed"),
            total(tx.kind == TxKind.DONATION, -1).label("donated"),
            total(tx.kind == TxKind.REDEMPTION, -1).label("redeemed"),
            total(tx.kind == TxKind.REFUND).label("refunded"),
        )
        .select_from(entry)
        .join(tx, tx.id == entry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == entry.account_id)
        .where(LedgerAccount.kind == AccountKind.VOLUNTEER, tx.created_at >= start, tx.created_at < end)
        .group_by(LedgerAccount.owner_id)
        .order_by(LedgerAccount.owner_id)
    )
    if scope and scope.level != "all":
        in_street = sa.and_(tx.kind.in_((TxKind.AWARD, TxKind.REVERSAL)), placed)
        stmt = stmt.having(sa.func.sum(sa.case((in_street, 1), else_=0)) > 0)
    sums = db.session.execute(stmt).all()
    people = {
        row.id: row
        for row in db.session.execute(
            sa.select(User.id, User.name, User.phone, Community.name.label("community"))
            .outerjoin(Grid, Grid.id == User.grid_id)
            .outerjoin(Community, Community.id == Grid.community_id)
            .where(User.id.in_([s.owner_id for s in sums]))
        )
    }
    return [
        CreditRow(
            user_id=s.owner_id,
            name=people[s.owner_id].name if s.owner_id in people else "",
            phone=people[s.owner_id].phone if s.owner_id in people else "",
            community=(people[s.owner_id].community or "") if s.owner_id in people else "",
            earned=int(s.earned),
            reversed=int(s.reversed),
            donated=int(s.donated),
            redeemed=int(s.redeemed),
            refunded=int(s.refunded),
        )
        for s in sums
    ]


def to_csv(rows: list[CreditRow]) -> bytes:
    """UTF-8 CSV with a byte-order mark, one header line of field names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in FIELDS])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _cell(value):
    # A name typed as "=…" must not become a formula when a clerk opens the file in Excel.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_json(rows: list[CreditRow], year: int, month: int) -> bytes:
    body = {"month": f"{year:04d}-{month:02d}", "rows": [asdict(row) for row in rows]}
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")


def export_month(actor, year: int, month: int, fmt: str) -> bytes:
    """The month's export as CSV or JSON bytes; audit-logged (what and how many, no values); commit.

    Raises what monthly_points raises, and InvalidInput `invalid_format`.
    """
    if fmt not in FORMATS:
        raise InvalidInput(_l("Choose CSV or JSON."), code="invalid_format", field="format")
    rows = monthly_points(actor, year, month)
    data = to_csv(rows) if fmt == "csv" else to_json(rows, year, month)
    audit.record(actor, "export", "points_month", note=f"{year:04d}-{month:02d} {fmt}, {len(rows)} rows")
    db.session.commit()
    return data
