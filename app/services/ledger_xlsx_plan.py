"""One household of a ledger import: its rows, its plan, and the checks of its columns and members."""

from dataclasses import dataclass, field, fields

from flask_babel import lazy_gettext as _l

from app.models import Household, Member, RegisterType, Relation, Schooling, WorkCapacity
from app.services.errors import DomainError
from app.services.households import (
    ConsentData,
    HouseholdData,
    MemberData,
    _check_consent,
    _check_household_fields,
    _member_values,
)
from app.services.ledger_xlsx_format import HOUSEHOLD_KEYS, MASKED_ID, MEMBER_KEYS, REQUIRED_FOR_HOUSEHOLD


@dataclass
class _Row:
    number: int
    cells: dict = field(default_factory=dict)  # column key → parsed value
    bad: set = field(default_factory=set)  # column keys whose cell has an error


@dataclass
class _Plan:
    """One household of the file, checked: what to create or change."""

    rows: list
    household: Household | None = None  # None: a new household
    data: HouseholdData | None = None
    consent: ConsentData | None = None
    new_consent: bool = False
    changed_fields: list = field(default_factory=list)
    new_members: list = field(default_factory=list)  # member values
    member_changes: list = field(default_factory=list)  # (member, {key: value})
    added: list = field(default_factory=list)  # the Members made from new_members
    old_grid_id: int | None = None


class _PlanChecks:
    """The checks of one household's plan, mixed into ledger_xlsx_check._ImportCheck.

    They use its error() and domain_error(), today, and what _load and
    _check_id_numbers found: addresses, indexes and holders.
    """

    def _check_household(self, plan: _Plan, seen_addresses: dict) -> None:
        """The household's columns: agreeing rows, the rules, address and consent."""
        first = plan.rows[0]
        cells = self._household_cells(plan.rows)
        for key in REQUIRED_FOR_HOUSEHOLD:
            if key in cells and cells[key] in (None, ""):
                self.error(first, key, "required", _l("This column must be filled in."))
        if "consent_on" not in first.bad and "consent_scope" not in first.bad:
            self._check_consent(plan, cells)
        if any(key in first.bad for key in HOUSEHOLD_KEYS):
            return
        plan.data = HouseholdData(
            grid_id=cells["grid_id"],
            building=cells["building"],
            room=cells["room"],
            contact_phone=cells["contact_phone"],
            register_type=cells["register_type"] or RegisterType.LOCAL,
            unit=cells["unit"],
            resident_since=cells["resident_since"],
            lives_alone=bool(cells["lives_alone"]),
            income_stable=bool(cells["income_stable"]),
            property_within_limits=cells["property_within_limits"] is not False,
        )
        try:
            _check_household_fields(plan.data, self.today)
        except DomainError as error:
            self.domain_error(first, error, "building")
            plan.data = None
            return
        self._check_address(plan, seen_addresses)
        if plan.household is not None:
            plan.changed_fields = [
                f.name
                for f in fields(HouseholdData)
                if getattr(plan.household, f.name) != getattr(plan.data, f.name)
            ]

    def _household_cells(self, rows: list[_Row]) -> dict:
        """The household columns of the first row; later rows may repeat them or leave them blank."""
        first = rows[0]
        cells = {key: first.cells.get(key) for key in HOUSEHOLD_KEYS if key not in first.bad}
        for row in rows[1:]:
            for key, value in cells.items():
                other = row.cells.get(key)
                if key not in row.bad and other not in (None, "") and other != value:
                    self.error(
                        row,
                        key,
                        "household_mismatch",
                        _l("This differs from the household's first row (row %(row)d).", row=first.number),
                    )
        return cells

    def _check_address(self, plan: _Plan, seen: dict) -> None:
        first, data = plan.rows[0], plan.data
        address = (data.grid_id, data.building, data.unit, data.room)
        holder = self.addresses.get(address)
        if holder is not None and (plan.household is None or holder != plan.household.id):
            self.error(
                first,
                "room",
                "household_exists",
                _l("A household at this address is already recorded in this grid."),
            )
        elif address in seen:
            self.error(
                first,
                "room",
                "household_exists",
                _l("Another household in this file has the same address (row %(row)d).", row=seen[address]),
            )
        seen.setdefault(address, first.number)

    def _check_consent(self, plan: _Plan, cells: dict) -> None:
        first, household = plan.rows[0], plan.household
        on, scope = cells["consent_on"], cells["consent_scope"]
        if (on is None) != (scope == ""):
            self.error(
                first,
                "consent_on" if on is None else "consent_scope",
                "invalid_consent",
                _l("Give both the date of consent and what it covers, or leave both empty."),
            )
            return
        if on is not None:
            plan.consent = ConsentData(on=on, scope=scope)
        if household is None or not household.has_consent:
            plan.new_consent = plan.consent is not None
        elif plan.consent is None:
            self.error(
                first,
                "consent_on",
                "consent_withdrawal",
                _l("An import cannot withdraw consent; do it on the household's page."),
            )
            return
        else:
            latest = household.consents[-1]
            plan.new_consent = (latest.on, latest.scope.strip()) != (plan.consent.on, plan.consent.scope)
        if plan.new_consent:
            try:
                _check_consent(plan.consent, self.today)
            except DomainError as error:
                self.domain_error(first, error, "consent_on")

    def _check_members(self, plan: _Plan) -> None:
        household = plan.household
        consent = plan.consent is not None or (household is not None and household.has_consent)
        consent_known = not {"consent_on", "consent_scope"} & plan.rows[0].bad
        members = {m.id: m for m in household.members} if household else {}
        seen_members: dict[int, int] = {}
        relations = []
        for row in plan.rows:
            key = row.cells.get("member_key")
            member = None
            if key is not None and "member_key" not in row.bad:
                member = members.get(key)
                if member is None:
                    self.error(
                        row,
                        "member_key",
                        "unknown_member",
                        _l(
                            "There is no member %(key)d in this household; leave the key empty for a new member.",
                            key=key,
                        ),
                    )
                elif key in seen_members:
                    self.error(
                        row,
                        "member_key",
                        "duplicate_member",
                        _l("This member is already on row %(row)d.", row=seen_members[key]),
                    )
                else:
                    seen_members[key] = row.number
            relations.append((row, row.cells.get("relation")))
            if consent_known and not row.bad & MEMBER_KEYS:
                self._check_member(plan, row, member, consent)
        self._check_householder(plan, relations, [m for k, m in members.items() if k not in seen_members])

    def _check_member(self, plan: _Plan, row: _Row, member: Member | None, consent: bool) -> None:
        cells = row.cells
        id_number = cells.get("id_number")
        masked = bool(id_number) and MASKED_ID.fullmatch(id_number) is not None
        if masked and (member is None or member.id_masked != id_number):
            self.error(
                row,
                "id_number",
                "masked_id_number",
                _l(
                    "A masked ID number only stands for the one recorded for this member; enter the full number."
                )
                if member is None or member.id_masked is None
                else _l(
                    "This masked ID number is not the one recorded for this member; enter the full number to change it."
                ),
            )
            return
        data = MemberData(
            name=cells["name"],
            relation=cells["relation"],
            id_number=None if masked else id_number,
            birth_date=cells.get("birth_date"),
            sex=cells.get("sex"),
            serious_illness=cells.get("serious_illness"),
            disability_grade=cells.get("disability_grade"),
            work_capacity=cells.get("work_capacity") or WorkCapacity.FULL,
            schooling=cells.get("schooling") or Schooling.NONE,
        )
        try:
            values = _member_values(data, consent, self.today, member)
        except DomainError as error:
            self.domain_error(row, error, "name")
            return
        if data.id_number:
            holder = self.holders.get(self.indexes.get(row.number))
            if holder is not None and (member is None or holder[0] != member.id):
                same = plan.household is not None and holder[1] == plan.household.id
                self.error(
                    row,
                    "id_number",
                    "member_in_other_household",
                    _l("This person is already listed as another member of this household.")
                    if same
                    else _l("This person is already listed in another household."),
                )
                return
        elif member is not None:  # as update_member: an empty ID keeps the stored one
            for key in ("id_number", "id_index", "id_last4", "id_region"):
                values.pop(key, None)
            if member.id_index and consent:
                values["birth_date"], values["sex"] = member.birth_date, member.sex
        for key in ("birth_date", "sex"):
            if cells.get(key) is not None and cells[key] != values[key]:
                self.error(
                    row,
                    key,
                    "id_number_mismatch",
                    _l("This does not match the ID number; birth date and sex are taken from it."),
                )
                return
        if member is None:
            plan.new_members.append(values)
        else:
            changed = {k: v for k, v in values.items() if getattr(member, k) != v}
            if changed:
                plan.member_changes.append((member, changed))

    def _check_householder(self, plan: _Plan, relations: list, kept: list[Member]) -> None:
        """Exactly one householder once the file is applied."""
        if any(relation is None for _, relation in relations):
            return  # a relation is missing or unknown: already reported
        heads = [row for row, relation in relations if relation is Relation.HEAD]
        kept_heads = sum(1 for m in kept if m.relation is Relation.HEAD)
        if not heads and not kept_heads:
            self.error(
                plan.rows[0],
                "relation",
                "head_required",
                _l("This household has no householder (relation “head”)."),
            )
        for row in heads[1 - min(kept_heads, 1) :]:
            self.error(row, "relation", "head_exists", _l("This household already has a householder."))
