"""A community's household ledger (台账) as one XLSX workbook for civil-affairs
offices: the report the seeds ask every community to keep — "家庭基本信息、
致困原因、帮扶需求、帮扶措施(未帮扶原因)、回访情况" (001) — one row per household.

This is a report to read and print, not an import format (the member-per-row
file of services/ledger_xlsx.py is that); it reuses that file's cell writer
(text stays text, never a formula; dates are dates).

Layout
    Row 1: the community and the title; row 2: the date of export and who
    exported it; row 3: the headers, Chinese then English in one cell as in
    the ledger export ("户主 Householder"); a row per household from row 4,
    by grid then household. Headers frozen, widths set, text wrapped, one line
    per record inside a cell; printed landscape, a page wide, the header row
    repeated on every page. Cell values are in Chinese whatever the
    exporter's interface language: the document is for the civil-affairs office.

ID numbers
    Masked (110105********1234), as in the ledger export and for the same
    reason (services/ledger_xlsx.py): a file leaves the system, and full
    numbers are revealed one at a time, each reveal logged.

Who
    Grid, community and street staff (and administrators), for a community
    with a grid in their scope; the rows are the households they may read —
    a grid worker's workbook holds their grid only. Another community answers
    NotFound, like a missing one. Every export is audit-logged without values.
    The workbook is built in a fixed number of queries, however many
    households the community has.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import openpyxl
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import grid_ids, is_valid_id, require_role, scope_of, scoped
from app.extensions import db
from app.labels import label
from app.models import (
    ApprovalAction,
    CategoryAssignment,
    Community,
    FollowUp,
    Grid,
    HardshipCause,
    Household,
    Measure,
    MeasureKind,
    Need,
    ServiceType,
)
from app.services import audit
from app.services.errors import NotFound
from app.services.households import LEDGER_READERS
from app.services.ledger_xlsx_format import _write_row

TITLE = "城市困难群体帮扶台账 Hardship household ledger"
EXPORTED_ON, EXPORTED_BY = "导出日期 Exported on", "导出人 Exported by"
SHEET = "帮扶台账 Ledger"
HEADER_ROW = 3


@dataclass(frozen=True)
class ReportColumn:
    key: str
    zh: str
    en: str
    width: int

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


COLUMNS = (
    ReportColumn("number", "序号", "No.", 6),
    ReportColumn("household_key", "户编号", "Household key", 9),
    ReportColumn("grid", "网格", "Grid", 12),
    ReportColumn("head", "户主", "Householder", 11),
    ReportColumn("address", "住址", "Address", 16),
    ReportColumn("phone", "联系电话", "Contact phone", 14),
    ReportColumn("status", "在册状态", "Status", 10),
    ReportColumn("members", "家庭成员（姓名·关系·身份证号）", "Members (name, relation, ID number)", 38),
    ReportColumn("categories", "困难类别（状态·审批日期）", "Categories (status, approved on)", 28),
    ReportColumn("causes", "致困原因", "Causes of hardship", 26),
    ReportColumn("needs", "帮扶需求", "Needs", 32),
    ReportColumn("measures", "帮扶措施", "Measures taken", 32),
    ReportColumn("not_helped", "未帮扶原因", "Reasons none were taken", 26),
    ReportColumn("follow_ups", "回访情况", "Follow-ups", 32),
)


@dataclass(frozen=True)
class Report:
    filename: str
    content: bytes
    households: int


def report_community(actor, community_id: int) -> Community:
    """The community if a grid of it is in the actor's scope; NotFound otherwise;
    Forbidden for anyone but ledger readers."""
    require_role(actor, *LEDGER_READERS)
    visible = sa.select(Grid.community_id).where(Grid.id.in_(grid_ids(scope_of(actor))))
    community = (
        db.session.scalar(sa.select(Community).where(Community.id == community_id, Community.id.in_(visible)))
        if is_valid_id(community_id)
        else None
    )
    if community is None:
        raise NotFound()
    return community


def export_civil_affairs_ledger(actor, community_id: int) -> Report:
    """The community's ledger workbook for the actor; audit-logged without values; commit."""
    community = report_community(actor, community_id)
    households = _households(actor, community.id)
    records = _records(actor, community.id)
    today = clock.today()
    with force_locale("zh"):
        rows = [
            _row(number, household, records, today) for number, household in enumerate(households, start=1)
        ]
    content = _workbook(community.name, actor.name, today, rows)
    audit.record(
        actor,
        "export",
        "civil_affairs_ledger",
        community.id,
        grid_id=actor.grid_id,
        note=f"{len(households)} households",
    )
    db.session.commit()
    return Report(f"{community.name}-帮扶台账-{today.isoformat()}.xlsx", content, len(households))


# --- reading ---------------------------------------------------------------------


def _household_ids(actor, community_id: int) -> sa.Select:
    in_community = sa.select(Grid.id).where(Grid.community_id == community_id)
    return scoped(sa.select(Household.id), Household, actor).where(Household.grid_id.in_(in_community))


def _households(actor, community_id: int) -> list[Household]:
    stmt = (
        sa.select(Household)
        .where(Household.id.in_(_household_ids(actor, community_id)))
        .options(selectinload(Household.members), selectinload(Household.grid))
        .order_by(Household.grid_id, Household.id)
    )
    return list(db.session.scalars(stmt))


def _records(actor, community_id: int) -> dict[str, dict[int, list]]:
    """Each kind of case record by household id, oldest first, one query each."""
    ids = _household_ids(actor, community_id)
    found: dict[str, dict[int, list]] = {}
    queries = {
        "categories": sa.select(CategoryAssignment)
        .where(CategoryAssignment.household_id.in_(ids))
        .options(selectinload(CategoryAssignment.steps))
        .order_by(CategoryAssignment.id),
        "causes": sa.select(HardshipCause)
        .where(HardshipCause.household_id.in_(ids))
        .order_by(HardshipCause.id),
        "measures": sa.select(Measure).where(Measure.household_id.in_(ids)).order_by(Measure.on, Measure.id),
        "follow_ups": sa.select(FollowUp)
        .where(FollowUp.household_id.in_(ids))
        .order_by(FollowUp.on, FollowUp.id),
    }
    for key, stmt in queries.items():
        found[key] = _by_household(db.session.scalars(stmt))
    needs = db.session.execute(
        sa.select(Need, ServiceType)
        .join(ServiceType, ServiceType.code == Need.service_type_code)
        .where(Need.household_id.in_(ids))
        .order_by(Need.id)
    )
    found["needs"] = _by_household(needs, key=lambda pair: pair[0].household_id)
    return found


def _by_household(rows, key=lambda record: record.household_id) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


# --- one row ---------------------------------------------------------------------


def _lines(items) -> str:
    return "\n".join(items)


def _approved_on(assignment: CategoryAssignment) -> date | None:
    step = next((s for s in assignment.steps if s.action is ApprovalAction.APPROVE), None)
    return clock.local_date(step.at) if step else None


def category_text(assignment: CategoryAssignment) -> str:
    """低保 · 已批准 · 2031-03-05 (the date once approved)."""
    approved = _approved_on(assignment)
    parts = [label(assignment.category), label(assignment.status)]
    return " · ".join([*parts, approved.isoformat()] if approved else parts)


def _dated(day: date, text: str) -> str:
    return f"{day.isoformat()} {text}"


def _follow_up_text(follow_up: FollowUp) -> str:
    rating = f"（{follow_up.satisfaction}/5）" if follow_up.satisfaction else ""
    return _dated(follow_up.on, f"{label(follow_up.method)}{rating}：{follow_up.note}")


def _row(number: int, household: Household, records: dict, today: date) -> list:
    def of(kind):
        return records[kind].get(household.id, [])

    head = household.head
    members = [f"{m.name}（{label(m.relation)}）{m.id_masked or '—'}" for m in household.members]
    causes = [f"{label(c.cause)}：{c.note}" if c.note else label(c.cause) for c in of("causes")]
    needs = [f"{service.name}（{label(need.status)}）：{need.description}" for need, service in of("needs")]
    measures = [_dated(m.on, m.description) for m in of("measures") if m.kind is MeasureKind.MEASURE]
    not_helped = [_dated(m.on, m.description) for m in of("measures") if m.kind is MeasureKind.NOT_HELPED]
    follow_ups = [_follow_up_text(f) for f in of("follow_ups")]
    values = {
        "number": number,
        "household_key": household.id,
        "grid": household.grid.name,
        "head": head.name if head else "",
        "address": household.address,
        "phone": household.contact_phone,
        "status": label(household.status),
        "members": _lines(members),
        "categories": _lines(category_text(a) for a in of("categories")),
        "causes": _lines(causes),
        "needs": _lines(needs),
        "measures": _lines(measures),
        "not_helped": _lines(not_helped),
        "follow_ups": _lines(follow_ups),
    }
    return [values[c.key] for c in COLUMNS]


# --- the workbook ----------------------------------------------------------------


def _workbook(community: str, exporter: str, today: date, rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    last = get_column_letter(len(COLUMNS))
    sheet["A1"] = f"{community} {TITLE}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 28
    _write_row(sheet, 2, [f"{EXPORTED_ON}：{today.isoformat()}    {EXPORTED_BY}：{exporter}"])
    sheet.merge_cells(f"A2:{last}2")
    header_fill, thin = PatternFill("solid", fgColor="DDE7F0"), Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=column.header)
        cell.font, cell.fill, cell.border = Font(bold=True), header_fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[HEADER_ROW].height = 36
    wrap = Alignment(vertical="top", wrap_text=True)
    for number, values in enumerate(rows, start=HEADER_ROW + 1):
        _write_row(sheet, number, values)
        for cell in sheet[number]:
            cell.alignment, cell.border = wrap, border
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
