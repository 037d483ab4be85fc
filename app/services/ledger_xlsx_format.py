"""The ledger workbook's file format: columns, upload limits, reading and parsing cells, writing sheets."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

import openpyxl
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.labels import label
from app.models import RegisterType, Relation, Schooling, Sex, WorkCapacity
from app.services.errors import DomainError, InvalidInput
from app.services.idcard import normalise
from app.services.xlsx_package import check_xlsx_package
from app.services.xlsx_package import not_xlsx as _not_xlsx

MAX_ROWS = 5000
MAX_SCANNED_ROWS = 50_000  # blank rows included
MAX_COLUMNS = 100
MAX_KEY = 2**31 - 1  # ids are 32-bit integers
MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
TRUE_WORDS = {"true", "yes", "y", "1", "是", "√", "✓"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "×"}
LEDGER_SHEET = "台账 Ledger"
NOTES_SHEET = "说明 Notes"


@dataclass(frozen=True)
class Column:
    """A column: key, headers, whose it is (household, member, info) and its kind of value."""

    key: str
    zh: str
    en: str
    level: str
    kind: object  # "key", "int", "text", "date", "bool", "id" or an enum class

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


COLUMNS = (
    Column("household_key", "户编号", "Household key", "household", "key"),
    Column("member_key", "成员编号", "Member key", "member", "key"),
    Column("grid_id", "网格编号", "Grid ID", "household", "int"),
    Column("grid_name", "网格名称", "Grid name", "info", "text"),
    Column("status", "在册状态", "Status", "info", "text"),
    Column("building", "楼栋", "Building", "household", "text"),
    Column("unit", "单元", "Unit", "household", "text"),
    Column("room", "房号", "Room", "household", "text"),
    Column("contact_phone", "联系电话", "Contact phone", "household", "text"),
    Column("register_type", "户籍类型", "Register type", "household", RegisterType),
    Column("resident_since", "居住起始日期", "Resident since", "household", "date"),
    Column("lives_alone", "独居", "Lives alone", "household", "bool"),
    Column("income_stable", "收入稳定", "Income stable", "household", "bool"),
    Column("property_within_limits", "财产符合规定", "Property within limits", "household", "bool"),
    Column("consent_on", "同意日期", "Consent given on", "household", "date"),
    Column("consent_scope", "同意范围", "Consent scope", "household", "text"),
    Column("name", "姓名", "Name", "member", "text"),
    Column("relation", "与户主关系", "Relation", "member", Relation),
    Column("id_number", "身份证号", "ID number", "member", "id"),
    Column("birth_date", "出生日期", "Birth date", "member", "date"),
    Column("sex", "性别", "Sex", "member", Sex),
    Column("serious_illness", "重病", "Serious illness", "member", "bool"),
    Column("disability_grade", "残疾等级", "Disability grade", "member", "int"),
    Column("work_capacity", "劳动能力", "Work capacity", "member", WorkCapacity),
    Column("schooling", "在学情况", "Schooling", "member", Schooling),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
HOUSEHOLD_KEYS = [c.key for c in COLUMNS if c.level == "household" and c.key != "household_key"]
MEMBER_KEYS = {c.key for c in COLUMNS if c.level == "member"}
REQUIRED_HEADERS = ("household_key", "grid_id", "building", "room", "contact_phone", "name", "relation")
REQUIRED_FOR_HOUSEHOLD = ("grid_id", "building", "room", "contact_phone")
# services/households.py names some fields differently
SERVICE_FIELDS = {"on": "consent_on", "scope": "consent_scope"}


# --- writing ---------------------------------------------------------------


def write_workbook(rows: list[list]) -> bytes:
    """The ledger sheet (the headers, then `rows` in COLUMNS order) and the notes sheet, as XLSX bytes."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = LEDGER_SHEET
    sheet.append([c.header for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, values in enumerate(rows, start=2):
        _write_row(sheet, number, values)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column.header) + 4)
    _add_notes(workbook)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_row(sheet, number: int, values: list) -> None:
    """Write a row; text is always text (never a formula), dates show as dates."""
    for index, value in enumerate(values, start=1):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = sheet.cell(row=number, column=index, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # "=HYPERLINK(…)" typed as a name stays a name
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"


def _add_notes(workbook) -> None:
    """A second sheet: how the file works, and the codes each enum column takes."""
    sheet = workbook.create_sheet(NOTES_SHEET)
    for line in (
        _l("One row per member. Rows with the same household key form one household."),
        _l("A number as household key is an existing household; label new households N1, N2…"),
        _l("Leave the member key empty for new members. Members missing from the file are kept."),
        _l("ID numbers are masked in exports; a masked number keeps the one recorded."),
        _l("If any row has an error, nothing is imported; fix the rows listed and import again."),
    ):
        sheet.append([str(line)])
    sheet.append([])
    for column in COLUMNS:
        if isinstance(column.kind, type):
            sheet.append([column.header, *(f"{m.value} = {label(m)}" for m in column.kind)])
    sheet.column_dimensions["A"].width = 24


# --- reading ---------------------------------------------------------------


class _CellError(Exception):
    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


def read_rows(file_bytes: bytes) -> list[tuple[int, dict]]:
    """The data rows as (row number, {column key: raw cell value}), blank rows left out.

    Raises InvalidInput when the upload is not a workbook this import can read.
    """
    check_xlsx_package(file_bytes)  # by content, before openpyxl inflates anything
    try:
        workbook = openpyxl.load_workbook(BytesIO(file_bytes), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on damaged or foreign files
        raise _not_xlsx() from error
    try:
        if not workbook.worksheets:
            raise _not_xlsx()
        sheet = workbook.worksheets[0]
        header = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        positions = _map_header(header)
        width = max(positions.values()) + 1
        rows = []
        scanned = 0
        for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=width, values_only=True), start=2):
            scanned += 1
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                if scanned > MAX_SCANNED_ROWS:
                    raise _too_many_rows()
                continue
            if len(rows) == MAX_ROWS:
                raise _too_many_rows()
            rows.append((number, {key: values[i] for key, i in positions.items()}))
    except DomainError:
        raise
    except Exception as error:  # a damaged sheet fails while it is read
        raise _not_xlsx() from error
    finally:
        workbook.close()
    if not rows:
        raise InvalidInput(_l("The file has no rows below the headers."), code="empty_file", field="file")
    return rows


def _too_many_rows() -> InvalidInput:
    return InvalidInput(
        _l("The file has more than %(max)d rows; split it into smaller files.", max=MAX_ROWS),
        code="too_many_rows",
        field="file",
    )


def _normal(text) -> str:
    return " ".join(str(text).split()).casefold()


def _map_header(header) -> dict[str, int]:
    """Column key → position, from the header row."""
    aliases = {}
    for column in COLUMNS:
        for name in (column.key, column.zh, column.en, column.header):
            aliases[_normal(name)] = column.key
    positions: dict[str, int] = {}
    for index, text in enumerate(header):
        key = aliases.get(_normal(text)) if text is not None else None
        if key is None:
            continue
        if key in positions:
            raise InvalidInput(
                _l("The column “%(name)s” appears twice.", name=COLUMN_BY_KEY[key].header),
                code="bad_header",
                field="file",
            )
        positions[key] = index
    missing = [COLUMN_BY_KEY[k].header for k in REQUIRED_HEADERS if k not in positions]
    if missing:
        raise InvalidInput(
            _l(
                "Row 1 must name the columns; missing: %(columns)s. Export the ledger for a file with every column.",
                columns=", ".join(missing),
            ),
            code="bad_header",
            field="file",
        )
    return positions


def _parse_cell(kind, value, enums: dict):
    """A cell's value as the column's kind, or _CellError."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            value = None
    if value is None:
        return "" if kind == "text" else None
    if isinstance(kind, type):
        if isinstance(value, str) and _normal(value) in enums[kind]:
            return enums[kind][_normal(value)]
        codes = ", ".join(m.value for m in kind)
        raise _CellError(
            "unknown_value",
            _l("Unknown value “%(value)s”; use one of: %(codes)s.", value=str(value)[:30], codes=codes),
        )
    return _PARSERS[kind](value)


def _parse_text(value) -> str:
    if isinstance(value, (bool, datetime, date)):
        raise _CellError("invalid_text", _l("Enter text here."))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_int(value) -> int:
    if (isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value)) or (
        isinstance(value, float) and value.is_integer()
    ):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _CellError("invalid_number", _l("Enter a whole number."))
    if value < 0:
        raise _CellError("negative_number", _l("This cannot be negative."))
    if value > MAX_KEY:
        raise _CellError("invalid_number", _l("This number is too large."))
    return value


def _parse_key(value):
    """A number (an existing record's id) or, for households, a label."""
    if isinstance(value, str) and not re.fullmatch(r"[+-]?\d+", value):
        if len(value) > 50:
            raise _CellError("invalid_key", _l("Use a label of up to 50 characters."))
        return value
    return _parse_int(value)


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
            try:
                return datetime.strptime(value, pattern).date()  # noqa: DTZ007 (a date, no time)
            except ValueError:
                continue
    raise _CellError("invalid_date", _l("This is not a possible date; enter it as YYYY-MM-DD."))


def _parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and _normal(value) in TRUE_WORDS | FALSE_WORDS:
        return _normal(value) in TRUE_WORDS
    raise _CellError("invalid_yes_no", _l("Enter yes or no (是 or 否)."))


def _parse_id(value) -> str:
    if not isinstance(value, str):
        raise _CellError(
            "invalid_id_number",
            _l("Store ID numbers as text: Excel rounds numbers longer than 15 digits."),
        )
    return normalise(value)


_PARSERS = {
    "key": _parse_key,
    "int": _parse_int,
    "text": _parse_text,
    "date": _parse_date,
    "bool": _parse_bool,
    "id": _parse_id,
}


def _enum_lookup() -> dict:
    """For each enum column: code, name and Chinese and English labels → member."""
    lookup = {}
    for column in COLUMNS:
        if isinstance(column.kind, type):
            words = {}
            for member in column.kind:
                words[_normal(member.value)] = member
                words[_normal(member.name)] = member
                for locale in ("zh", "en"):
                    with force_locale(locale):
                        words.setdefault(_normal(label(member)), member)
            lookup[column.kind] = words
    return lookup
