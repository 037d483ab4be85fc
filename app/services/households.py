"""The household ledger (台账): recording households and members, consent,
finances, entering and leaving the registry, and revealing ID numbers.

Every function takes the acting user, checks role and scope through
app/auth_scope.py, writes an audit entry beside the change and commits once.
A household outside the actor's scope is NotFound, like a missing one.
"""

from dataclasses import dataclass, fields
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.auth_scope import get_scoped_or_404, is_valid_id, manages_grid, require_role, scoped, unscoped_get
from app.crypto import blind_index
from app.extensions import db
from app.models import (
    ConsentRecord,
    Grid,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    HouseholdStatus,
    Member,
    RegisterType,
    Relation,
    Review,
    Role,
    Schooling,
    Sex,
    WorkCapacity,
)
from app.services import audit
from app.services.accounts import check_contact_phone
from app.services.eligibility import add_months, review_interval_months
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.idcard import parse_id_number

LEDGER_READERS = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
LEDGER_WRITERS = (Role.GRID_WORKER, Role.COMMUNITY_WORKER)
EXIT_APPROVERS = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
ID_REVEALERS = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)

SENSITIVE_MEMBER_FIELDS = ("id_number", "serious_illness", "disability_grade")


@dataclass
class HouseholdData:
    """What a household record says, as entered by staff."""

    grid_id: int
    building: str
    room: str
    contact_phone: str
    register_type: RegisterType = RegisterType.LOCAL
    unit: str = ""
    resident_since: date | None = None
    lives_alone: bool = False
    income_stable: bool = False
    property_within_limits: bool = True


@dataclass
class MemberData:
    """A member as entered. ID, illness and disability need the household's consent."""

    name: str
    relation: Relation
    id_number: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    serious_illness: bool | None = None
    disability_grade: int | None = None
    work_capacity: WorkCapacity = WorkCapacity.FULL
    schooling: Schooling = Schooling.NONE


@dataclass
class ConsentData:
    on: date
    scope: str


# --- reading ---------------------------------------------------------------


def household_options():
    """Loader options for a household page: members, events, consents, finances."""
    return (
        selectinload(Household.members),
        selectinload(Household.events),
        selectinload(Household.consents),
        selectinload(Household.finances),
        selectinload(Household.grid).selectinload(Grid.community),
    )


def get_household(actor, household_id: int, options=()) -> Household:
    """A household the actor may read, or NotFound; non-staff are Forbidden."""
    require_role(actor, *LEDGER_READERS)
    return get_scoped_or_404(Household, household_id, actor, options=options or household_options())


def view_household(actor, household_id: int, options=()) -> Household:
    """A household shown in full to a person (its page, the API record).

    When it holds sensitive details (consent given: health, income, IDs),
    the look is written to the audit log — who saw which record, when —
    as PIPL Art. 51/55 ask; commit.
    """
    household = get_household(actor, household_id, options)
    if household.has_consent:
        audit.record(actor, "view", "household", household.id, household=household)
        db.session.commit()
    return household


def households_stmt(actor, *, status: HouseholdStatus | None = None, grid_id: int | None = None, q: str = ""):
    """SELECT of the households the actor may read, with members, newest first.

    Members come without their ID number (lists show `id_masked`): no page of
    hundreds of households decrypts hundreds of ID numbers."""
    require_role(actor, *LEDGER_READERS)
    stmt = scoped(sa.select(Household), Household, actor).options(
        selectinload(Household.members).defer(Member.id_number, raiseload=True), selectinload(Household.grid)
    )
    if status is not None:
        stmt = stmt.where(Household.status == status)
    if grid_id is not None:
        stmt = stmt.where(Household.grid_id == grid_id)
    if q:
        q = q.strip()
        member_match = sa.select(Member.household_id).where(Member.name.contains(q, autoescape=True))
        stmt = stmt.where(
            Household.building.contains(q, autoescape=True)
            | Household.room.contains(q, autoescape=True)
            | Household.id.in_(member_match)
        )
    return stmt.order_by(Household.id.desc())


# --- checks ----------------------------------------------------------------


def _check_household_data(actor, data: HouseholdData, today: date) -> None:
    if not is_valid_id(data.grid_id) or not manages_grid(actor, data.grid_id):
        raise InvalidInput(
            _l("You can only record households in grids you look after."),
            code="grid_not_managed",
            field="grid_id",
        )
    _check_household_fields(data, today)


def _check_household_fields(data: HouseholdData, today: date) -> None:
    """All of _check_household_data but the grid (the XLSX import checks grids in one query)."""
    for name, limit in (("building", 30), ("room", 10), ("unit", 10)):
        value = (getattr(data, name) or "").strip()
        setattr(data, name, value)
        if len(value) > limit or (name != "unit" and not value):
            raise InvalidInput(
                _l("Enter the address: building and room."), code="invalid_address", field=name
            )
    data.contact_phone = check_contact_phone(data.contact_phone, field="contact_phone")
    if data.register_type is RegisterType.RESIDENT:
        if data.resident_since is None or add_months(data.resident_since, 24) > today:
            raise InvalidInput(
                _l("Households outside the local register qualify after living here for 2 years."),
                code="residence_too_short",
                field="resident_since",
            )
    elif data.resident_since is not None and data.resident_since > today:
        raise InvalidInput(_l("That date is in the future."), code="invalid_date", field="resident_since")


def _check_member(data: MemberData, consent: bool, today: date, member: Member | None = None) -> dict:
    """The column values for a member, checked; InvalidInput or Conflict otherwise."""
    values = _member_values(data, consent, today, member)
    if data.id_number:
        clash = db.session.scalar(sa.select(Member).where(Member.id_index == values["id_index"]))
        if clash is not None and (member is None or clash.id != member.id):
            raise Conflict(
                _l("This person is already listed in another household."),
                code="member_in_other_household",
                field="id_number",
            )
    return values


def _member_values(data: MemberData, consent: bool, today: date, member: Member | None = None) -> dict:
    """_check_member without the database lookup for the same person elsewhere
    (the XLSX import looks up all of a file's ID numbers in one query).

    A birth date taken from an ID number is never in the future, so checking
    the birth date before the lookup raises what _check_member always raised.
    """
    name = (data.name or "").strip()
    if not 1 <= len(name) <= 50:
        raise InvalidInput(_l("Enter a name of 1 to 50 characters."), code="invalid_name", field="name")
    given_sensitive = [f for f in SENSITIVE_MEMBER_FIELDS if getattr(data, f) not in (None, "", False)]
    if given_sensitive and not consent:
        raise InvalidInput(
            _l("Record the household's consent before keeping ID numbers, illness or disability."),
            code="consent_required",
            field=given_sensitive[0],
        )
    values = {
        "name": name,
        "relation": data.relation,
        "work_capacity": data.work_capacity,
        "schooling": data.schooling,
        "serious_illness": data.serious_illness if consent else None,
        "disability_grade": data.disability_grade if consent else None,
        "birth_date": data.birth_date,
        "sex": data.sex,
    }
    if data.disability_grade is not None and data.disability_grade not in (1, 2, 3, 4):
        raise InvalidInput(
            _l("Disability grade is 1 to 4."), code="invalid_disability_grade", field="disability_grade"
        )
    if data.id_number:
        parsed = parse_id_number(data.id_number, today)
        index = blind_index(parsed.value)
        values |= {
            "id_number": parsed.value,
            "id_index": index,
            "id_last4": parsed.value[-4:],
            "id_region": parsed.region,
            "birth_date": parsed.birth_date,
            "sex": Sex.MALE if parsed.male else Sex.FEMALE,
        }
    elif member is None or not consent:
        values |= {"id_number": None, "id_index": None, "id_last4": None, "id_region": None}
    if values["birth_date"] is not None and values["birth_date"] > today:
        raise InvalidInput(_l("The birth date is in the future."), code="invalid_date", field="birth_date")
    return values


def _writable(actor, household_id: int) -> Household:
    require_role(actor, *LEDGER_WRITERS)
    return get_scoped_or_404(Household, household_id, actor, options=household_options())


def schedule_review(household: Household) -> None:
    """Set the next review (复审) from the last review or entry and the current members.

    Called whenever something the interval depends on changes: members, their
    work capacity, income stability, a review, a (re-)entry.
    """
    if household.status is not HouseholdStatus.ACTIVE:
        household.next_review_on = None
        return
    starts = [e.on for e in household.events if e.kind is not HouseholdEventKind.EXITED]
    if household.id is not None:
        starts.append(
            db.session.scalar(
                sa.select(sa.func.max(Review.reviewed_on)).where(Review.household_id == household.id)
            )
        )
    start = max(day for day in starts if day is not None)
    interval = review_interval_months([m.work_capacity for m in household.members], household.income_stable)
    household.next_review_on = add_months(start, interval)


# --- writing ---------------------------------------------------------------


def create_household(
    actor, data: HouseholdData, head: MemberData, today: date, consent: ConsentData | None = None
) -> Household:
    """Record a household found door to door (主动发现) with its householder; commit.

    Raises Forbidden (role), InvalidInput (grid not managed, address, phone,
    residence, member fields, consent missing for sensitive fields) and
    Conflict (address taken in the grid, person already in another household).
    """
    require_role(actor, *LEDGER_WRITERS)
    _check_household_data(actor, data, today)
    if consent is not None:
        _check_consent(consent, today)
    head.relation = Relation.HEAD
    values = _check_member(head, consent is not None, today)
    if _address_taken(data):
        raise Conflict(
            _l("A household at this address is already recorded in this grid."),
            code="household_exists",
            field="room",
        )
    household = _new_household(actor, data, [values], today, consent)
    db.session.add(household)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # The same address or person recorded by someone else a moment ago.
        db.session.rollback()
        raise Conflict(
            _l("This household or person was recorded a moment ago by someone else."),
            code="household_exists",
        ) from None
    audit.record(actor, "create", "household", household.id, household=household)
    db.session.commit()
    return household


def _new_household(
    actor, data: HouseholdData, members: list[dict], today: date, consent: ConsentData | None
) -> Household:
    """A new household from checked data and member values, with its entry event
    and consent, review scheduled; not added to the session (the caller adds,
    audits and commits — the XLSX import does so for many households at once)."""
    household = Household(**{f.name: getattr(data, f.name) for f in fields(HouseholdData)})
    household.created_by_id = actor.id
    household.status = HouseholdStatus.ACTIVE
    household.members = [Member(**values) for values in members]
    household.events = [
        # No reason of its own: pages show the kind ("entered"), in the reader's language.
        HouseholdEvent(kind=HouseholdEventKind.ENTERED, on=today, reason="", approved_by_id=actor.id)
    ]
    if consent is not None:
        household.consents = [
            ConsentRecord(given=True, on=consent.on, scope=consent.scope.strip(), taken_by_id=actor.id)
        ]
    schedule_review(household)
    return household


def _address_taken(data: HouseholdData, except_id: int | None = None) -> bool:
    stmt = sa.select(Household.id).where(
        Household.grid_id == data.grid_id,
        Household.building == data.building,
        Household.unit == data.unit,
        Household.room == data.room,
    )
    if except_id is not None:
        stmt = stmt.where(Household.id != except_id)
    return db.session.scalar(stmt) is not None


def update_household(actor, household_id: int, data: HouseholdData, today: date) -> Household:
    """Change a household's address, contact, register and flags; commit.

    Moving it to another grid requires managing that grid too.
    """
    household = _writable(actor, household_id)
    _check_household_data(actor, data, today)
    if _address_taken(data, except_id=household.id):
        raise Conflict(
            _l("A household at this address is already recorded in this grid."),
            code="household_exists",
            field="room",
        )
    changed = [f.name for f in fields(HouseholdData) if getattr(household, f.name) != getattr(data, f.name)]
    old_grid = household.grid_id
    for name in changed:
        setattr(household, name, getattr(data, name))
    if "income_stable" in changed:
        schedule_review(household)
    if changed:
        note = f"grid {old_grid} → {household.grid_id}" if "grid_id" in changed else ""
        audit.record(
            actor, "update", "household", household.id, household=household, fields=changed, note=note
        )
    db.session.commit()
    return household


def add_member(actor, household_id: int, data: MemberData, today: date) -> Member:
    """Add a member to a household; commit. A second householder is refused."""
    household = _writable(actor, household_id)
    if data.relation is Relation.HEAD and household.head is not None:
        raise InvalidInput(
            _l("This household already has a householder."), code="head_exists", field="relation"
        )
    member = Member(household_id=household.id, **_check_member(data, household.has_consent, today))
    household.members.append(member)
    schedule_review(household)
    db.session.flush()
    audit.record(actor, "create", "member", member.id, household=household)
    db.session.commit()
    return member


def update_member(actor, member_id: int, data: MemberData, today: date) -> Member:
    """Change a member; commit. An empty ID number keeps the stored one."""
    household, member = _member_for_write(actor, member_id)
    if data.relation is Relation.HEAD and member.relation is not Relation.HEAD and household.head is not None:
        raise InvalidInput(
            _l("This household already has a householder."), code="head_exists", field="relation"
        )
    if member.relation is Relation.HEAD and data.relation is not Relation.HEAD:
        raise InvalidInput(
            _l("The householder's relation cannot be changed."),
            code="head_required",
            field="relation",
        )
    values = _check_member(data, household.has_consent, today, member)
    if not data.id_number:
        for key in ("id_number", "id_index", "id_last4", "id_region"):
            values.pop(key, None)
        if member.id_index and household.has_consent:
            values.pop("birth_date", None)
            values.pop("sex", None)
    changed = [k for k, v in values.items() if getattr(member, k) != v]
    for key in changed:
        setattr(member, key, values[key])
    if "work_capacity" in changed:
        schedule_review(household)
    if changed:
        audit.record(actor, "update", "member", member.id, household=household, fields=_public_names(changed))
    db.session.commit()
    return member


def remove_member(actor, member_id: int, reason: str) -> None:
    """Remove a member (moved out, died); the householder cannot be removed; commit."""
    household, member = _member_for_write(actor, member_id)
    if member.relation is Relation.HEAD:
        raise InvalidInput(_l("The householder cannot be removed."), code="head_required")
    audit.record(actor, "delete", "member", member.id, household=household, note=reason)
    household.members.remove(member)
    schedule_review(household)
    db.session.commit()


def _member_for_write(actor, member_id: int) -> tuple[Household, Member]:
    """The member's household (scope-checked, members loaded) and the member."""
    require_role(actor, *LEDGER_WRITERS)
    member = unscoped_get(Member, member_id)
    if member is None:
        raise NotFound()
    household = _writable(actor, member.household_id)
    return household, member


def _public_names(names) -> list[str]:
    """Field names as logged: the index and its parts are one field, id_number."""
    return sorted({"id_number" if n in ("id_index", "id_last4", "id_region") else n for n in names})


def _check_consent(consent: ConsentData, today: date) -> None:
    if consent.on is None:
        raise InvalidInput(_l("Enter the date consent was given."), code="invalid_date", field="on")
    if consent.on > today:
        raise InvalidInput(_l("That date is in the future."), code="invalid_date", field="on")
    if not (consent.scope or "").strip() or len(consent.scope) > 300:
        raise InvalidInput(
            _l("Say what the consent covers (up to 300 characters)."), code="invalid_scope", field="scope"
        )


def household_page_options():
    """household_options() plus who approved each entry or exit and who took each consent."""
    return (
        *household_options(),
        selectinload(Household.events).selectinload(HouseholdEvent.approved_by),
        selectinload(Household.consents).selectinload(ConsentRecord.taken_by),
    )


def get_member(actor, household_id: int, member_id: int) -> tuple[Household, Member]:
    """A household the actor may read and one of its members, or NotFound."""
    household = get_household(actor, household_id)
    member = next((m for m in household.members if m.id == member_id), None)
    if member is None:
        raise NotFound()
    return household, member


def abilities(actor) -> dict[str, bool]:
    """Which household controls to offer the actor; the functions above still check."""
    return {
        "write": actor.has_role(Role.ADMIN, *LEDGER_WRITERS),
        "exit": actor.has_role(Role.ADMIN, *EXIT_APPROVERS),
        "reveal": actor.has_role(Role.ADMIN, *ID_REVEALERS),
    }
