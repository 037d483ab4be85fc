"""XLSX export and import of the household ledger (台账); an import is all or nothing.

The file
    The first sheet, one row per member; the rows of one household share its
    household key. Row 1 holds the headers, Chinese then English
    ("户编号 Household key"); the import finds columns by header (the whole
    header, its Chinese or English part, or the column key all match), so
    columns may be moved, and columns it does not know are ignored. Values
    are written and read the same way:
    - enums as their codes (`head`, `local`, `full`…); the import also takes
      their Chinese or English labels. The "说明 Notes" sheet lists them.
    - dates as Excel dates (text YYYY-MM-DD is read too); yes/no as Excel
      TRUE/FALSE (是/否, yes/no, 1/0 are read too). A blank cell takes the
      form's default: no, but property within limits yes and serious
      illness not recorded.
    - household key: the household's id on export. On import a number means
      that existing household, which must be in the importer's area; any
      other label (N1, 新户1…) groups the rows of a new household. New
      households cannot be labelled with numbers, so a new file can never
      be mistaken for changes to existing households.
    - member key: the member's id on export; blank for a new member.
    - grid name and status are for reading; the import ignores them.
    Household columns are taken from a household's first row; later rows may
    repeat them or leave them blank, but not contradict them.

ID numbers
    An export leaves the system, so it holds ID numbers masked
    (110105********1234), as grid workers see them on pages. Full numbers are
    shown one at a time, after the password is re-entered, each reveal
    logged (household_changes.reveal_id_number); a file of hundreds of full numbers
    would bypass all of that. On import a masked number on a row with a
    member key means "keep the stored number" and must match that member's;
    a new member needs the full number. A blank ID keeps a stored number, as
    on the member form. So export → import changes nothing. Where an ID is
    known, birth date and sex come from it; a cell saying otherwise is an
    error. Text beginning with "=" is written as text, never as a formula.

Importing
    Every row is read and checked before anything is written: the cells'
    formats, then the rules of services/households.py (the same check
    functions the forms use), then whatever needs the database, in one query
    for the whole file each (grids, existing households, ID numbers,
    addresses). Each error is (row as Excel numbers it, column, reason). If
    there is any, nothing is written. Otherwise everything is written in one
    commit, audited as the single-record services audit it (a household
    created, changed or consenting, a member added or changed; note
    "import") plus one "import ledger" entry with the counts. An import
    never removes a member, withdraws consent or changes a household's
    status (members missing from the file stay). A file that matches the
    ledger writes nothing, not even an audit entry. Every export writes one
    "export ledger" entry.

Uploads
    At most 5 MB, 5 000 data rows and 50 MB unzipped, no large part packed
    over 100:1, and an OOXML workbook by its content, not its name
    (services/xlsx_package.py). The zip directory is checked before openpyxl
    opens the file, which is enough against zip bombs: zipfile never
    inflates a member beyond its declared size.
"""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth_scope import require_role
from app.extensions import db
from app.models import ConsentRecord, Grid, Household, Member, Relation
from app.services import audit
from app.services.errors import Conflict
from app.services.households import (
    LEDGER_WRITERS,
    _new_household,
    _public_names,
    households_stmt,
    schedule_review,
)
from app.services.ledger_xlsx_check import RowError, _ImportCheck
from app.services.ledger_xlsx_format import COLUMNS, read_rows, write_workbook
from app.services.ledger_xlsx_plan import _Plan

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ImportResult:
    """What an import did, or the errors that stopped it (then it did nothing)."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    households_created: int = 0
    households_updated: int = 0
    members_created: int = 0
    members_updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return bool(
            self.households_created + self.households_updated + self.members_created + self.members_updated
        )


# --- export ----------------------------------------------------------------


def export_ledger(actor) -> bytes:
    """The ledger of the households the actor may read, as XLSX bytes; audit-logged, commits.

    Raises Forbidden for anyone but ledger readers (and administrators).
    """
    stmt = households_stmt(actor).options(
        selectinload(Household.consents), selectinload(Household.grid).selectinload(Grid.community)
    )
    households = db.session.scalars(stmt.order_by(None).order_by(Household.id)).all()
    rows = [_export_row(household, member) for household in households for member in household.members]
    content = write_workbook(rows)
    audit.record(
        actor,
        "export",
        "ledger",
        grid_id=actor.grid_id,
        note=f"{len(households)} households, {len(rows)} rows",
    )
    db.session.commit()
    return content


def _export_row(household: Household, member: Member) -> list:
    consent = household.consents[-1] if household.has_consent else None
    values = {
        "household_key": household.id,
        "member_key": member.id,
        "grid_id": household.grid_id,
        "grid_name": f"{household.grid.community.name} {household.grid.name}",
        "status": household.status.value,
        "building": household.building,
        "unit": household.unit,
        "room": household.room,
        "contact_phone": household.contact_phone,
        "register_type": household.register_type.value,
        "resident_since": household.resident_since,
        "lives_alone": household.lives_alone,
        "income_stable": household.income_stable,
        "property_within_limits": household.property_within_limits,
        "consent_on": consent.on if consent else None,
        "consent_scope": consent.scope if consent else None,
        "name": member.name,
        "relation": member.relation.value,
        "id_number": member.id_masked,
        "birth_date": member.birth_date,
        "sex": member.sex.value if member.sex else None,
        "serious_illness": member.serious_illness,
        "disability_grade": member.disability_grade,
        "work_capacity": member.work_capacity.value,
        "schooling": member.schooling.value,
    }
    return [values[c.key] for c in COLUMNS]


# --- importing ---------------------------------------------------------------


def import_ledger(actor, file_bytes: bytes, today: date) -> ImportResult:
    """Check every row of the file; if all are good, import them in one commit.

    Returns the counts, or the errors by row (and then nothing was written).
    Raises Forbidden for anyone but ledger writers (and administrators),
    InvalidInput for a file that cannot be read as a ledger, and Conflict if
    the ledger changed while the file was checked.
    """
    require_role(actor, *LEDGER_WRITERS)
    raw_rows = read_rows(file_bytes)
    job = _Import(actor, today)
    job.check(raw_rows)
    result = ImportResult(rows=len(raw_rows), errors=sorted(job.errors, key=lambda e: e.row))
    if result.errors:
        return result
    job.count(result)
    if result.changed:
        try:
            job.apply(result)
        except IntegrityError as error:
            db.session.rollback()
            raise Conflict(
                _l("The ledger changed while the file was being checked. Import it again."),
                code="ledger_changed",
            ) from error
    return result


class _Import(_ImportCheck):
    """One import, once checked: counting and applying its plans."""

    def count(self, result: ImportResult) -> None:
        for plan in self.plans:
            if plan.household is None:
                result.households_created += 1
            elif plan.changed_fields or plan.new_consent:
                result.households_updated += 1
            result.members_created += len(plan.new_members)
            result.members_updated += len(plan.member_changes)

    def apply(self, result: ImportResult) -> None:
        """Write every plan, audit each change, commit once."""
        actor, today = self.actor, self.today
        created = []
        for plan in self.plans:
            if plan.household is None:
                household = _new_household(actor, plan.data, plan.new_members, today, plan.consent)
                db.session.add(household)
                created.append(household)
            else:
                self._update(plan)
        db.session.flush()
        for household in created:
            audit.record(actor, "create", "household", household.id, household=household, note="import")
            for member in household.members:
                if member.relation is not Relation.HEAD:
                    audit.record(actor, "create", "member", member.id, household=household, note="import")
        for plan in self.plans:
            if plan.household is not None:
                self._audit_update(plan)
        audit.record(
            actor,
            "import",
            "ledger",
            grid_id=actor.grid_id,
            note=(
                f"{result.rows} rows: {result.households_created} households created, "
                f"{result.households_updated} changed; {result.members_created} members added, "
                f"{result.members_updated} changed"
            ),
        )
        db.session.commit()

    def _update(self, plan: _Plan) -> None:
        household = plan.household
        plan.old_grid_id = household.grid_id
        for name in plan.changed_fields:
            setattr(household, name, getattr(plan.data, name))
        if plan.new_consent:
            household.consents.append(
                ConsentRecord(
                    given=True, on=plan.consent.on, scope=plan.consent.scope, taken_by_id=self.actor.id
                )
            )
        for member, changed in plan.member_changes:
            for key, value in changed.items():
                setattr(member, key, value)
        plan.added = [Member(household_id=household.id, **values) for values in plan.new_members]
        household.members.extend(plan.added)
        if (
            plan.added
            or "income_stable" in plan.changed_fields
            or any("work_capacity" in changed for _, changed in plan.member_changes)
        ):
            schedule_review(household)

    def _audit_update(self, plan: _Plan) -> None:
        household, actor = plan.household, self.actor
        if plan.changed_fields:
            note = (
                f"import, grid {plan.old_grid_id} → {household.grid_id}"
                if "grid_id" in plan.changed_fields
                else "import"
            )
            audit.record(
                actor,
                "update",
                "household",
                household.id,
                household=household,
                fields=plan.changed_fields,
                note=note,
            )
        if plan.new_consent:
            audit.record(
                actor, "consent_given", "household", household.id, household=household, note="import"
            )
        for member in plan.added:
            audit.record(actor, "create", "member", member.id, household=household, note="import")
        for member, changed in plan.member_changes:
            audit.record(
                actor,
                "update",
                "member",
                member.id,
                household=household,
                fields=_public_names(changed),
                note="import",
            )
