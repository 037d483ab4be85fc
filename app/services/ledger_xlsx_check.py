"""Checking a ledger import before anything is written: rows, grids and ID numbers, then each household."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.auth_scope import grid_ids, scope_of, scoped
from app.crypto import blind_index
from app.extensions import db
from app.models import Grid, Household, Member
from app.services.errors import DomainError, InvalidInput
from app.services.idcard import parse_id_number
from app.services.ledger_xlsx_format import (
    COLUMN_BY_KEY,
    COLUMNS,
    MASKED_ID,
    SERVICE_FIELDS,
    _CellError,
    _enum_lookup,
    _parse_cell,
)
from app.services.ledger_xlsx_plan import _Plan, _PlanChecks, _Row


@dataclass
class RowError:
    """One reason a row is refused: the row as Excel numbers it, the column key, why."""

    row: int
    column: str
    code: str
    message: object  # a lazy translatable string

    @property
    def header(self) -> str:
        return COLUMN_BY_KEY[self.column].header if self.column in COLUMN_BY_KEY else ""


class _ImportCheck(_PlanChecks):
    """The state of one import while it is checked; ledger_xlsx._Import then applies it."""

    def __init__(self, actor, today: date):
        self.actor = actor
        self.today = today
        self.errors: list[RowError] = []
        self.plans: list[_Plan] = []

    def error(self, row: _Row, column: str, code: str, message) -> None:
        self.errors.append(RowError(row.number, column, code, message))
        row.bad.add(column)

    def domain_error(self, row: _Row, error: DomainError, default_column: str) -> None:
        column = SERVICE_FIELDS.get(error.field, error.field) or default_column
        self.error(row, column if column in COLUMN_BY_KEY else default_column, error.code, error.message)

    # -- checking

    def check(self, raw_rows) -> None:
        rows = self._parse(raw_rows)
        groups = self._group(rows)
        self._load(rows, groups)
        self._check_grids(rows)
        self._check_id_numbers(rows)
        seen_addresses: dict[tuple, int] = {}
        for key, group in groups.items():
            household = self.existing.get(key) if isinstance(key, int) else None
            if isinstance(key, int) and household is None:
                for row in group:
                    self.error(
                        row,
                        "household_key",
                        "unknown_household",
                        _l(
                            "There is no household %(key)d in the area you look after. "
                            "Label new households with a name, not a number (N1, N2…).",
                            key=key,
                        ),
                    )
                continue
            plan = _Plan(rows=group, household=household)
            self._check_household(plan, seen_addresses)
            self._check_members(plan)
            self.plans.append(plan)

    def _parse(self, raw_rows) -> list[_Row]:
        enums = _enum_lookup()
        rows = []
        for number, raw in raw_rows:
            row = _Row(number)
            for column in COLUMNS:
                if column.level == "info":
                    continue
                try:
                    row.cells[column.key] = _parse_cell(column.kind, raw.get(column.key), enums)
                except _CellError as error:
                    self.error(row, column.key, error.code, error.message)
            for key in ("household_key", "name", "relation"):
                if row.cells.get(key) in (None, "") and key not in row.bad:
                    self.error(row, key, "required", _l("This column must be filled in."))
            if isinstance(row.cells.get("member_key"), str):
                self.error(
                    row,
                    "member_key",
                    "invalid_key",
                    _l("A member key is the number from an export; leave it empty for a new member."),
                )
            rows.append(row)
        return rows

    def _group(self, rows: list[_Row]) -> dict:
        groups: dict = {}
        for row in rows:
            if "household_key" not in row.bad:
                groups.setdefault(row.cells["household_key"], []).append(row)
        return groups

    def _load(self, rows: list[_Row], groups: dict) -> None:
        """Everything the checks need from the database, one query each."""
        keys = [k for k in groups if isinstance(k, int)]
        stmt = sa.select(Household).where(Household.id.in_(keys))
        stmt = scoped(stmt, Household, self.actor).options(
            selectinload(Household.members), selectinload(Household.events), selectinload(Household.consents)
        )
        self.existing = {h.id: h for h in db.session.scalars(stmt)} if keys else {}
        file_grids = {r.cells.get("grid_id") for r in rows} - {None}
        self.grids = set(db.session.scalars(grid_ids(scope_of(self.actor)).where(Grid.id.in_(file_grids))))
        grids = self.grids | {h.grid_id for h in self.existing.values()}
        address = sa.select(
            Household.id, Household.grid_id, Household.building, Household.unit, Household.room
        )
        self.addresses = {
            (g, b, u, r): hid
            for hid, g, b, u, r in db.session.execute(address.where(Household.grid_id.in_(grids)))
        }

    def _check_grids(self, rows: list[_Row]) -> None:
        for row in rows:
            grid = row.cells.get("grid_id")
            if grid is not None and "grid_id" not in row.bad and grid not in self.grids:
                self.error(
                    row,
                    "grid_id",
                    "unknown_grid",
                    _l("There is no grid %(grid)d in the area you look after.", grid=grid),
                )

    def _check_id_numbers(self, rows: list[_Row]) -> None:
        """Shape and checksum, the same person twice in the file, and who holds each number now."""
        self.indexes: dict[int, str] = {}  # row number → blind index
        first_row: dict[str, int] = {}
        for row in rows:
            value = row.cells.get("id_number")
            if not value or "id_number" in row.bad or MASKED_ID.fullmatch(value):
                continue
            try:
                parsed = parse_id_number(value, self.today)
            except InvalidInput as error:
                self.domain_error(row, error, "id_number")
                continue
            index = blind_index(parsed.value)
            if index in first_row:
                self.error(
                    row,
                    "id_number",
                    "duplicate_person",
                    _l("This person is already listed on row %(row)d of this file.", row=first_row[index]),
                )
                continue
            first_row[index] = row.number
            self.indexes[row.number] = index
        holders = sa.select(Member.id_index, Member.id, Member.household_id)
        self.holders = {
            index: (member_id, household_id)
            for index, member_id, household_id in db.session.execute(
                holders.where(Member.id_index.in_(list(self.indexes.values())))
            )
        }
