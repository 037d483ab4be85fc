"""The dashboard's tables, built from the cached figures in the reader's
language, each with the chart drawn from it; and a table as an XLSX workbook.

The page and the XLSX export use the same Table, so the download holds
exactly what the page shows beneath each chart.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

import openpyxl
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app.labels import label
from app.models import Category, ReviewOutcome, TxKind
from app.services.catalogue import all_service_types
from app.services.dashboard_activity import ALL_GROUPS
from app.services.dashboard_charts import Chart, bar_chart, column_chart, svg
from app.services.dashboard_period import month_label
from app.services.honour import month_index
from app.services.warnings import WARNING_LABELS, WarningKind

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MS_PER_HOUR = 3_600_000
POINT_KINDS = (TxKind.AWARD, TxKind.REDEMPTION, TxKind.DONATION, TxKind.REVERSAL, TxKind.REFUND)
POINT_NAMES = {
    TxKind.AWARD: _l("Issued (awards)"),
    TxKind.REDEMPTION: _l("Redeemed"),
    TxKind.DONATION: _l("Donated"),
    TxKind.REVERSAL: _l("Reversed"),
    TxKind.REFUND: _l("Returned"),
}
TABLES = (
    "summary",
    "households",
    "needs",
    "response",
    "services_month",
    "services_type",
    "points",
    "points_month",
    "reviews",
    "warnings",
)


@dataclass
class Table:
    """A titled table: `columns` headings, `rows` of values (text first, then numbers; None: no value)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]
    chart: Chart | None = None
    chart_title: str = ""
    notes: list[str] = field(default_factory=list)
    wide: bool = False  # many columns: the whole page's width

    def chart_svg(self):
        """The chart as inline SVG markup (None without a chart)."""
        if self.chart is None:
            return None
        return svg(
            self.chart,
            f"chart-{self.key}",
            self.chart_title,
            _("Every figure in this chart is in the table below it."),
        )


def hours(minutes_or_ms: float, per_hour: int = 60) -> float:
    """Hours to one decimal."""
    return round(minutes_or_ms / per_hour, 1)


def _chart_or_none(chart: Chart, values) -> Chart | None:
    """No chart when every value is zero or missing: the table says "none" alone."""
    return chart if any(v for row in values for v in row) else None


def build_tables(figures: dict) -> dict[str, Table]:
    """Every table of the dashboard, by key, in TABLES order."""
    services = {s.code: s.name for s in all_service_types()}
    order = list(services)

    def service_name(code: str) -> str:
        return services.get(code, code)

    def by_service(codes) -> list[str]:
        return sorted(codes, key=lambda c: (order.index(c) if c in order else len(order), c))

    built = [
        _households(figures["households"]),
        _needs(figures["needs"], by_service, service_name),
        _response(figures["times"], by_service, service_name),
        *_services(figures, by_service, service_name),
        *_points(figures),
        _reviews(figures["reviews"]),
        _warnings(figures["warnings"]),
    ]
    tables = {table.key: table for table in built}
    return {"summary": _summary(figures, tables), **tables}


def _summary(figures: dict, tables: dict[str, Table]) -> Table:
    households = figures["households"]
    needs = figures["needs"].values()
    visits = sum(row[2] for row in figures["services"])
    minutes = sum(row[3] for row in figures["services"])
    issued = sum(row[2] for row in figures["points"] if row[0] == TxKind.AWARD.value)
    warned = figures["warnings"]
    rows = [
        [_("Households in the registry at the end of the period"), households["in_registry"]],
        [_("Households entered the registry"), households["entered"]],
        [_("Households left the registry"), households["exited"]],
        [_("Needs opened"), sum(n["opened"] for n in needs)],
        [_("Needs met"), sum(n["met"] for n in needs)],
        [_("Needs open at the end of the period"), sum(n["open_at_end"] for n in needs)],
        [_("Verified visits"), visits],
        [_("Volunteer hours"), hours(minutes)],
        [_("Active volunteers"), figures["people"]["volunteers"]],
        [_("Active teams"), figures["people"]["teams"]],
        [_("Points issued"), issued],
        [_("Reviews done"), sum(figures["reviews"].values())],
        [_("Reviews overdue now"), warned["kinds"][WarningKind.REVIEW_OVERDUE.value]],
        [_("Households with a warning now"), warned["any"]],
    ]
    return Table("summary", _("Key figures"), [_("Figure"), _("Value")], rows)


def _households(figures: dict) -> Table:
    columns = [
        _("Category"),
        _("Households at the end"),
        _("Approved in the period"),
        _("Ended in the period"),
    ]
    rows = [
        [label(category), *(figures["categories"][category.value][k] for k in ("held", "approved", "ended"))]
        for category in Category
    ]
    values = [[row[1]] for row in rows]
    chart = bar_chart([row[0] for row in rows], [columns[1]], values)
    notes = [
        _(
            "A household holds a category at the end of the period if it was approved (审批) before then "
            "and not revoked; “ended” counts revocations, including those made when a household leaves."
        )
    ]
    return Table(
        key="households",
        title=_("Households by hardship category"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Households holding each category at the end of the period"),
        notes=notes,
    )


def _needs(figures: dict, by_service, service_name) -> Table:
    columns = [_("Service"), _("Opened"), _("Met"), _("Closed, no longer needed"), _("Open at the end")]
    keys = ("opened", "met", "closed", "open_at_end")
    rows = [[service_name(code), *(figures[code][k] for k in keys)] for code in by_service(figures)]
    rows = [row for row in rows if any(row[1:])]
    series = [columns[1], columns[2], columns[4]]
    values = [[row[1], row[2], row[4]] for row in rows]
    chart = bar_chart([row[0] for row in rows], series, values)
    notes = [_("Opened, met and closed in the period; open: recorded before its end and not closed by then.")]
    return Table(
        key="needs",
        title=_("Needs by service type"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Needs opened, met and still open, by service type"),
        notes=notes,
    )


def _response(times: dict, by_service, service_name) -> Table:
    columns = [
        _("Service"),
        _("Needs claimed"),
        _("Median hours to the first claim"),
        _("Needs visited"),
        _("Median hours to the first verified visit"),
    ]
    claim, visit = times["claim"], times["visit"]
    codes = by_service((set(claim) | set(visit)) - {ALL_GROUPS})
    rows = []
    for code in [*codes, ALL_GROUPS] if codes else []:  # no "all" row when there is nothing
        to_claim, to_visit = claim.get(code), visit.get(code)
        rows.append(
            [
                _("All services") if code == ALL_GROUPS else service_name(code),
                to_claim[1] if to_claim else 0,
                hours(to_claim[0], MS_PER_HOUR) if to_claim else None,
                to_visit[1] if to_visit else 0,
                hours(to_visit[0], MS_PER_HOUR) if to_visit else None,
            ]
        )
    values = [[row[2], row[4]] for row in rows]
    chart = bar_chart([row[0] for row in rows], [columns[2], columns[4]], values, whole=False)
    notes = [
        _(
            "A need is linked to the tasks posted for it, and through them to their claims and visits. "
            "Time to claim: from recording the need to the first claim on any of its tasks. Time to verified "
            "visit: to the check-in of the first visit on its tasks that the resident confirmed and whose "
            "points were not reversed. A need counts in the period of that first claim or visit; claims and "
            "visits dated before the need was recorded are left out."
        )
    ]
    return Table(
        key="response",
        title=_("Time from need to help"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Median hours from need to first claim and to first verified visit"),
        notes=notes,
    )


def _services(figures: dict, by_service, service_name) -> list[Table]:
    per_month: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, month, visits, minutes in figures["services"]:
        for bucket in (per_month[month], per_type[code]):
            bucket[0] += visits
            bucket[1] += minutes
    months = _months(figures)
    columns = [_("Month"), _("Verified visits"), _("Volunteer hours")]
    rows = [[month_label(m), per_month[m][0], hours(per_month[m][1])] for m in months]
    values = [[row[1]] for row in rows]
    chart = column_chart([row[0] for row in rows], [columns[1]], values)
    notes = [
        _(
            "A verified visit: confirmed by the resident (or for them) and its points not reversed; dated by "
            "its check-in, in its task's grid. Hours: checked-in minutes, check-in to check-out."
        )
    ]
    monthly = Table(
        key="services_month",
        title=_("Services delivered by month"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Verified visits by month"),
        notes=notes,
    )
    columns = [_("Service"), _("Verified visits"), _("Volunteer hours")]
    rows = [[service_name(c), per_type[c][0], hours(per_type[c][1])] for c in by_service(per_type)]
    values = [[row[2]] for row in rows]
    chart = bar_chart([row[0] for row in rows], [columns[2]], values, whole=False)
    by_type = Table(
        key="services_type",
        title=_("Services delivered by service type"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Volunteer hours by service type"),
        notes=notes,
    )
    return [monthly, by_type]


def _months(figures: dict) -> list[int]:
    first, last = date.fromisoformat(figures["first"]), date.fromisoformat(figures["last"])
    return list(range(month_index(first), month_index(last) + 1))


def _points(figures: dict) -> list[Table]:
    totals = {kind: [0, 0] for kind in POINT_KINDS}
    monthly: dict[int, dict[TxKind, int]] = defaultdict(lambda: dict.fromkeys(POINT_KINDS, 0))
    for kind, month, amount, count in figures["points"]:
        kind = TxKind(kind)
        totals[kind][0] += amount
        totals[kind][1] += count
        monthly[month][kind] += amount
    columns = [_("Kind"), _("Points"), _("Transactions")]
    rows = [[str(POINT_NAMES[kind]), *totals[kind]] for kind in POINT_KINDS]
    values = [[row[1]] for row in rows]
    notes = [
        _(
            "Issued and reversed count where the service was given; redeemed, returned and donated count by "
            "the volunteer's home grid. Reversed: the points actually taken back. Returned: points of "
            "vouchers cancelled or expired."
        )
    ]
    chart = bar_chart([row[0] for row in rows], [columns[1]], values)
    by_kind = Table(
        key="points",
        title=_("Points"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Points by kind"),
        notes=notes,
    )
    columns = [_("Month"), *(str(POINT_NAMES[kind]) for kind in POINT_KINDS)]
    rows = [[month_label(m), *(monthly[m][kind] for kind in POINT_KINDS)] for m in _months(figures)]
    values = [[row[1], row[2]] for row in rows]
    chart = column_chart([row[0] for row in rows], [columns[1], columns[2]], values)
    by_month = Table(
        key="points_month",
        title=_("Points by month"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Points issued and redeemed by month"),
        notes=notes,
        wide=True,
    )
    return [by_kind, by_month]


def _reviews(figures: dict) -> Table:
    rows = [[label(outcome), figures.get(outcome.value, 0)] for outcome in ReviewOutcome]
    notes = [_("Reviews (复审) dated in the period, by what they decided.")]
    return Table("reviews", _("Reviews done"), [_("Outcome"), _("Reviews")], rows, notes=notes)


def _warnings(figures: dict) -> Table:
    columns = [_("Warning"), _("Households now")]
    rows = [[str(WARNING_LABELS[kind]), figures["kinds"][kind.value]] for kind in WarningKind]
    rows.append([_("Any warning"), figures["any"]])
    values = [[row[1]] for row in rows]
    chart = bar_chart([row[0] for row in rows], [columns[1]], values)
    notes = [
        _("Households in the registry with each warning today, as on the warnings page; not per period.")
    ]
    return Table(
        key="warnings",
        title=_("Warnings open now"),
        columns=columns,
        rows=rows,
        chart=_chart_or_none(chart, values),
        chart_title=_("Households with each warning now"),
        notes=notes,
    )


# --- XLSX ---------------------------------------------------------------------------------


def _cell_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def table_xlsx(table: Table, about: list[tuple[str, str]]) -> bytes:
    """The table as an XLSX workbook: first sheet the table itself (headings,
    then rows), second sheet `about` (what, where, when). Text cells are
    always text, never a formula."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(table.title)
    for number, values in enumerate([table.columns, *table.rows], start=1):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(
                row=number, column=column, value=_cell_text(value) if isinstance(value, str) else value
            )
            if isinstance(value, str):
                cell.data_type = "s"  # a name typed as "=…" stays a name
            if number == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 36
    notes = workbook.create_sheet(_sheet_title(_("About")))
    for key, value in about:
        notes.append([_cell_text(key), _cell_text(value)])
        for cell in notes[notes.max_row]:
            cell.data_type = "s"
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 80
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    """A valid sheet name: at most 31 characters, none of []:*?/\\."""
    return "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
