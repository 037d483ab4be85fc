"""The household ledger (台账): recording, consent, encryption, scope, exit and re-entry,
revealing ID numbers and review scheduling — through the services, without HTTP."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.crypto import blind_index, decrypt
from app.models import (
    AuditEntry,
    Community,
    ConsentRecord,
    Grid,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    HouseholdStatus,
    Member,
    MonthlyFinance,
    RegisterType,
    Relation,
    Sex,
    WorkCapacity,
)
from app.services import household_changes
from app.services import households as ledger
from app.services.eligibility import add_months
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.households import ConsentData, HouseholdData, MemberData
from app.services.idcard import check_digit
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

TODAY = date(2024, 6, 15)
BUILDING = "测试楼"  # no demo household lives here
LEDGER_TABLES = (Household, Member, ConsentRecord, HouseholdEvent, MonthlyFinance, AuditEntry)


def an_id(seq: int, birth: str = "19800101") -> str:
    """A valid ID number (region 110105); odd `seq` is a man, even a woman."""
    first17 = f"110105{birth}{seq:03d}"
    return first17 + check_digit(first17)


def consent(on: date = TODAY) -> ConsentData:
    return ConsentData(on=on, scope="身份证号、健康和收入情况，仅用于帮扶")


def household_data(grid_id: int, room: str = "101", **fields) -> HouseholdData:
    fields.setdefault("building", BUILDING)
    fields.setdefault("contact_phone", "13912345678")
    return HouseholdData(grid_id=grid_id, room=room, **fields)


def record(actor, *, grid_id=None, room="101", head=None, given=True, today=TODAY, **fields) -> Household:
    """A household recorded through create_household, with consent unless given=False."""
    data = household_data(grid_id or actor.grid_id, room, **fields)
    head = head or MemberData(name="王大山", relation=Relation.HEAD)
    return ledger.create_household(actor, data, head, today, consent=consent(today) if given else None)


def snapshot() -> dict[str, int]:
    return {model.__name__: count_rows(model) for model in LEDGER_TABLES}


def staff(phone: str):
    return user_by_phone(phone)


def other_community_grid(db) -> int:
    """A grid of the demo's second community (outside the community worker's scope)."""
    cw = staff(DEMO.community_worker)
    return db.session.scalar(
        sa.select(Grid.id).join(Community).where(Community.id != cw.community_id).order_by(Grid.id)
    )


def raw_member(db, member_id: int):
    return db.session.execute(
        sa.text(
            "SELECT id_number, id_index, id_last4, id_region, serious_illness, disability_grade"
            " FROM member WHERE id = :id"
        ),
        {"id": member_id},
    ).one()


def audit_of(db, household_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.household_id == household_id).order_by(AuditEntry.id)
        )
    )


# --- creating ------------------------------------------------------------------


def test_create_with_consent_keeps_sensitive_fields(db):
    gw = staff(DEMO.grid_worker)
    number = an_id(11, "19550302")
    head = MemberData(
        name="王大山", relation=Relation.HEAD, id_number=number, serious_illness=True, disability_grade=2
    )
    household = record(gw, head=head)

    household = ledger.get_household(gw, household.id)
    assert household.grid_id == gw.grid_id
    assert household.status is HouseholdStatus.ACTIVE
    assert household.created_by_id == gw.id
    assert household.has_consent
    (given,) = household.consents
    assert (given.given, given.on, given.taken_by_id) == (True, TODAY, gw.id)
    (head,) = household.members
    assert head.relation is Relation.HEAD
    assert head.id_number == number
    assert head.id_masked == "110105********" + number[-4:]
    assert (head.birth_date, head.sex) == (date(1955, 3, 2), Sex.MALE)  # read from the ID number
    assert head.serious_illness is True and head.disability_grade == 2
    (entered,) = household.events
    assert (entered.kind, entered.on, entered.approved_by_id) == (HouseholdEventKind.ENTERED, TODAY, gw.id)
    (entry,) = audit_of(db, household.id)
    assert (entry.action, entry.object_type, entry.actor_id) == ("create", "household", gw.id)
    assert entry.grid_id == gw.grid_id


@pytest.mark.parametrize(
    "sensitive",
    [{"id_number": an_id(21)}, {"serious_illness": True}, {"disability_grade": 1}],
    ids=["id_number", "serious_illness", "disability_grade"],
)
def test_sensitive_fields_without_consent_refused_and_nothing_written(db, sensitive):
    gw = staff(DEMO.grid_worker)
    before = snapshot()
    head = MemberData(name="王大山", relation=Relation.HEAD, **sensitive)
    with pytest.raises(InvalidInput) as error:
        record(gw, head=head, given=False)
    assert error.value.code == "consent_required"
    assert error.value.field == next(iter(sensitive))
    assert snapshot() == before


def test_without_consent_a_household_without_sensitive_fields_is_recorded(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw, given=False, head=MemberData(name="李四", relation=Relation.HEAD))
    household = ledger.get_household(gw, household.id)
    assert household.consents == [] and not household.has_consent
    assert household.members[0].id_number is None


def test_adding_a_member_with_sensitive_fields_needs_consent(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw, given=False)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        ledger.add_member(
            gw, household.id, MemberData(name="王小丫", relation=Relation.CHILD, serious_illness=True), TODAY
        )
    assert error.value.code == "consent_required"
    assert snapshot() == before


def test_id_number_is_stored_encrypted_with_a_blind_index(db):
    gw = staff(DEMO.grid_worker)
    number = an_id(31)
    household = record(gw, head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number))
    member_id = ledger.get_household(gw, household.id).members[0].id

    stored, index, last4, region, _, _ = raw_member(db, member_id)
    assert stored != number and number not in stored and number[:17] not in stored
    assert decrypt(stored) == number  # real encryption, not a lossy scramble
    assert index != number and number not in index and number[:17] not in index
    assert index == blind_index(number) and len(index) == 64
    assert (last4, region) == (number[-4:], number[:6])


def test_lower_case_x_is_the_same_person(db):
    gw, cw = staff(DEMO.grid_worker), staff(DEMO.community_worker)
    number = "11010519491231002X"
    record(gw, head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number))
    before = snapshot()
    with pytest.raises(Conflict) as error:
        record(
            cw,
            grid_id=staff(DEMO.grid_worker_2).grid_id,
            head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number.lower()),
        )
    assert error.value.code == "member_in_other_household"
    assert snapshot() == before


def test_same_person_in_two_households_refused_and_nothing_written(db):
    gw = staff(DEMO.grid_worker)
    number = an_id(41)
    first = record(gw, head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number))
    before = snapshot()

    with pytest.raises(Conflict) as error:
        record(gw, room="202", head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number))
    assert error.value.code == "member_in_other_household"
    assert error.value.field == "id_number"
    assert snapshot() == before

    second = record(gw, room="203")
    with pytest.raises(Conflict) as error:
        ledger.add_member(
            gw, second.id, MemberData(name="王大山", relation=Relation.PARENT, id_number=number), TODAY
        )
    assert error.value.code == "member_in_other_household"
    assert len(ledger.get_household(gw, second.id).members) == 1
    assert len(ledger.get_household(gw, first.id).members) == 1


def test_same_person_typed_in_full_width_digits_is_still_a_duplicate(db):
    gw = staff(DEMO.grid_worker)
    number = an_id(43)
    record(gw, head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number))
    # full-width digits (a Chinese IME's default) before an ASCII check character
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number[:17]) + number[17]
    with pytest.raises((Conflict, InvalidInput)):
        record(gw, room="202", head=MemberData(name="王大山", relation=Relation.HEAD, id_number=full_width))


def test_household_in_a_grid_the_actor_does_not_manage(db):
    gw, cw = staff(DEMO.grid_worker), staff(DEMO.community_worker)
    before = snapshot()
    for actor, grid_id in (
        (gw, staff(DEMO.grid_worker_2).grid_id),
        (cw, other_community_grid(db)),
        (gw, 10**9),  # no such grid
    ):
        with pytest.raises(InvalidInput) as error:
            record(actor, grid_id=grid_id)
        assert (error.value.code, error.value.field) == ("grid_not_managed", "grid_id")
    assert snapshot() == before
    # the community worker records in either of its grids
    assert record(cw, grid_id=staff(DEMO.grid_worker_2).grid_id).grid_id == staff(DEMO.grid_worker_2).grid_id


def test_duplicate_address_in_the_grid_refused(db):
    gw, cw = staff(DEMO.grid_worker), staff(DEMO.community_worker)
    record(gw, room="101", unit="2")
    before = snapshot()
    with pytest.raises(Conflict) as error:
        record(gw, room=" 101 ", unit="2", building=f" {BUILDING}")  # spaces do not make it another address
    assert error.value.code == "household_exists"
    assert snapshot() == before
    # another unit, or the same address in another grid, is another household
    assert record(gw, room="101", unit="3").unit == "3"
    assert record(cw, grid_id=staff(DEMO.grid_worker_2).grid_id, room="101", unit="2").room == "101"


@pytest.mark.parametrize(
    ("head", "given_on", "fields", "code", "field"),
    [
        (
            MemberData(name="王", relation=Relation.HEAD, birth_date=date(2024, 6, 16)),
            TODAY,
            {},
            "invalid_date",
            "birth_date",
        ),
        (
            MemberData(name="王", relation=Relation.HEAD, id_number=an_id(51, "19800230")),
            TODAY,
            {},
            "invalid_id_number",
            "id_number",
        ),
        (
            MemberData(name="王", relation=Relation.HEAD, id_number=an_id(51, "20240616")),
            TODAY,
            {},
            "invalid_id_number",
            "id_number",
        ),
        (MemberData(name="王", relation=Relation.HEAD), date(2024, 6, 16), {}, "invalid_date", "on"),
        (
            MemberData(name="王", relation=Relation.HEAD),
            TODAY,
            {"resident_since": date(2024, 6, 16)},
            "invalid_date",
            "resident_since",
        ),
    ],
    ids=["birth_in_future", "id_feb_30", "id_born_tomorrow", "consent_in_future", "resident_in_future"],
)
def test_impossible_dates_refused(db, head, given_on, fields, code, field):
    gw = staff(DEMO.grid_worker)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        ledger.create_household(gw, household_data(gw.grid_id, **fields), head, TODAY, consent(given_on))
    assert (error.value.code, error.value.field) == (code, field)
    assert snapshot() == before


def test_residence_under_two_years_refused(db):
    gw = staff(DEMO.grid_worker)
    two_years_ago = date(2022, 6, 15)
    before = snapshot()
    for since in (date(2022, 6, 16), None):
        with pytest.raises(InvalidInput) as error:
            record(gw, register_type=RegisterType.RESIDENT, resident_since=since)
        assert (error.value.code, error.value.field) == ("residence_too_short", "resident_since")
    assert snapshot() == before
    household = record(gw, register_type=RegisterType.RESIDENT, resident_since=two_years_ago)
    assert household.resident_since == two_years_ago


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"building": ""}, "invalid_address"),
        ({"room": "  "}, "invalid_address"),
        ({"room": "1" * 11}, "invalid_address"),
        ({"contact_phone": "12345"}, "invalid_phone"),
        ({"contact_phone": "23912345678"}, "invalid_phone"),
    ],
)
def test_address_and_phone_are_checked(db, changes, code):
    gw = staff(DEMO.grid_worker)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        ledger.create_household(
            gw, household_data(gw.grid_id, **changes), MemberData("王", Relation.HEAD), TODAY, consent()
        )
    assert error.value.code == code
    assert snapshot() == before


def test_a_landline_is_a_contact_phone(db):
    gw = staff(DEMO.grid_worker)
    assert record(gw, contact_phone="0631-5201234").contact_phone == "0631-5201234"


def test_a_second_householder_refused(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw)
    with pytest.raises(InvalidInput) as error:
        ledger.add_member(gw, household.id, MemberData(name="王二", relation=Relation.HEAD), TODAY)
    assert error.value.code == "head_exists"
    head = ledger.get_household(gw, household.id).members[0]
    with pytest.raises(InvalidInput) as error:
        ledger.remove_member(gw, head.id, "搬走")
    assert error.value.code == "head_required"
    assert len(ledger.get_household(gw, household.id).members) == 1


# --- finances ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["income", "illness", "disaster", "schooling"])
@pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
def test_finances_refuse_negative_and_non_integer_amounts(db, field, bad):
    gw = staff(DEMO.grid_worker)
    household = record(gw)
    amounts = {"income": 100_000, "illness": 0, "disaster": 0, "schooling": 0} | {field: bad}
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        household_changes.set_monthly_finance(gw, household.id, date(2024, 5, 1), today=TODAY, **amounts)
    assert error.value.code == "invalid_amount"
    assert error.value.field == {"income": "income"}.get(field, f"{field}_expense")
    assert snapshot() == before


def test_finances_recorded_per_month_and_corrected(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw)
    row = household_changes.set_monthly_finance(
        gw, household.id, date(2024, 5, 20), 120_000, 3_000, 0, 500, TODAY
    )
    assert row.month == date(2024, 5, 1)  # kept as the month
    assert row.rigid_expense == 3_500
    household_changes.set_monthly_finance(gw, household.id, date(2024, 5, 1), 90_000, 0, 0, 0, TODAY)
    (only,) = ledger.get_household(gw, household.id).finances
    assert (only.income, only.rigid_expense) == (90_000, 0)
    assert [e.action for e in audit_of(db, household.id) if e.object_type == "finance"] == [
        "create",
        "update",
    ]


def test_finances_need_consent_and_a_month_that_has_begun(db):
    gw = staff(DEMO.grid_worker)
    rows_before = count_rows(MonthlyFinance)
    without = record(gw, given=False)
    with pytest.raises(InvalidInput) as error:
        household_changes.set_monthly_finance(gw, without.id, date(2024, 5, 1), 100, 0, 0, 0, TODAY)
    assert error.value.code == "consent_required"
    with_consent = record(gw, room="102")
    with pytest.raises(InvalidInput) as error:
        household_changes.set_monthly_finance(gw, with_consent.id, date(2024, 7, 1), 100, 0, 0, 0, TODAY)
    assert error.value.code == "invalid_date"
    assert count_rows(MonthlyFinance) == rows_before


# --- updating ------------------------------------------------------------------


def test_moving_a_household_to_an_unmanaged_grid_refused(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw)
    audit_before = len(audit_of(db, household.id))
    data = household_data(staff(DEMO.grid_worker_2).grid_id)
    with pytest.raises(InvalidInput) as error:
        ledger.update_household(gw, household.id, data, TODAY)
    assert error.value.code == "grid_not_managed"
    db.session.rollback()
    assert ledger.get_household(gw, household.id).grid_id == gw.grid_id
    assert len(audit_of(db, household.id)) == audit_before


def test_community_worker_moves_a_household_between_its_grids(db):
    gw, gw2, cw = staff(DEMO.grid_worker), staff(DEMO.grid_worker_2), staff(DEMO.community_worker)
    household = record(gw)
    ledger.update_household(cw, household.id, household_data(gw2.grid_id), TODAY)
    assert ledger.get_household(gw2, household.id).grid_id == gw2.grid_id
    with pytest.raises(NotFound):
        ledger.get_household(gw, household.id)
    moved = audit_of(db, household.id)[-1]
    assert (moved.action, moved.fields) == ("update", "grid_id")
    assert moved.note == f"grid {gw.grid_id} → {gw2.grid_id}"


def test_update_refuses_an_address_taken_in_the_grid(db):
    gw = staff(DEMO.grid_worker)
    record(gw, room="101")
    other = record(gw, room="102")
    with pytest.raises(Conflict) as error:
        ledger.update_household(gw, other.id, household_data(gw.grid_id, room="101"), TODAY)
    assert error.value.code == "household_exists"


# --- consent ---------------------------------------------------------------------


def test_withdrawing_consent_erases_sensitive_data_but_keeps_the_audit_trail(db):
    gw = staff(DEMO.grid_worker)
    head_id, spouse_id = an_id(61, "19600101"), an_id(62, "19620202")
    head = MemberData(
        name="王大山", relation=Relation.HEAD, id_number=head_id, serious_illness=True, disability_grade=2
    )
    household = record(gw, head=head)
    spouse = ledger.add_member(
        gw,
        household.id,
        MemberData(name="刘梅", relation=Relation.SPOUSE, id_number=spouse_id, disability_grade=3),
        TODAY,
    )
    household_changes.set_monthly_finance(
        gw, household.id, date(2024, 4, 1), 3_141_592, 2_718_281, 0, 161_803, TODAY
    )
    household_changes.set_monthly_finance(
        gw, household.id, date(2024, 5, 1), 1_414_213, 0, 1_732_050, 0, TODAY
    )
    trail_before = [e.id for e in audit_of(db, household.id)]
    head_member_id = ledger.get_household(gw, household.id).members[0].id

    household_changes.withdraw_consent(gw, household.id, ConsentData(on=TODAY, scope="户主撤回同意"), TODAY)

    for member_id in (head_member_id, spouse.id):
        assert tuple(raw_member(db, member_id)) == (None,) * 6
    left = db.session.scalar(
        sa.text("SELECT count(*) FROM monthly_finance WHERE household_id = :h"), {"h": household.id}
    )
    assert left == 0
    household = ledger.get_household(gw, household.id)
    assert not household.has_consent
    assert [(c.given, c.taken_by_id) for c in household.consents] == [(True, gw.id), (False, gw.id)]
    # names, relations and the ledger itself stay
    assert [m.name for m in household.members] == ["王大山", "刘梅"]
    trail_after = audit_of(db, household.id)
    assert [e.id for e in trail_after][: len(trail_before)] == trail_before
    assert trail_after[-1].action == "consent_withdrawn"

    # no ID number, income or expense value anywhere in the audit log
    secrets = [head_id, spouse_id, head_id[:17], spouse_id[:17], "3141592", "31415.92", "2718281"]
    secrets += ["1414213", "14142.13", "1732050", "161803"]
    for row in db.session.execute(sa.text("SELECT * FROM audit_entry")):
        text = " | ".join(str(value) for value in row)
        assert not any(secret in text for secret in secrets), text

    # no consent, no sensitive details: new ones are refused
    with pytest.raises(InvalidInput):
        household_changes.set_monthly_finance(gw, household.id, date(2024, 5, 1), 1, 0, 0, 0, TODAY)
    with pytest.raises(Conflict) as error:
        household_changes.withdraw_consent(gw, household.id, ConsentData(on=TODAY, scope="再次撤回"), TODAY)
    assert error.value.code == "no_consent"


def test_consent_given_again_allows_sensitive_fields_again(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw, given=False)
    household_changes.record_consent(gw, household.id, consent(), TODAY)
    member = ledger.add_member(
        gw, household.id, MemberData(name="王小丫", relation=Relation.CHILD, serious_illness=True), TODAY
    )
    assert member.serious_illness is True
    assert ledger.get_household(gw, household.id).has_consent


def test_consent_needs_a_scope_and_a_past_date(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw, given=False)
    for bad, code in (
        (ConsentData(on=TODAY, scope="  "), "invalid_scope"),
        (ConsentData(on=date(2024, 6, 16), scope="全部"), "invalid_date"),
        (ConsentData(on=TODAY, scope="x" * 301), "invalid_scope"),
    ):
        with pytest.raises(InvalidInput) as error:
            household_changes.record_consent(gw, household.id, bad, TODAY)
        assert error.value.code == code
    assert not ledger.get_household(gw, household.id).has_consent


# --- exit and re-entry (有进有出) -------------------------------------------------


def test_grid_worker_cannot_exit_or_reenter(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw)
    with pytest.raises(Forbidden):
        household_changes.exit_household(gw, household.id, TODAY, "收入已超标准", TODAY)
    assert ledger.get_household(gw, household.id).status is HouseholdStatus.ACTIVE
    household_changes.exit_household(staff(DEMO.community_worker), household.id, TODAY, "收入已超标准", TODAY)
    with pytest.raises(Forbidden):
        household_changes.reenter_household(gw, household.id, TODAY, "重新致困", TODAY)
    assert ledger.get_household(gw, household.id).status is HouseholdStatus.EXITED


def test_exit_and_reenter_keep_a_status_history_with_approvers(db):
    gw, cw, so = staff(DEMO.grid_worker), staff(DEMO.community_worker), staff(DEMO.street_officer)
    household = record(gw, today=date(2024, 1, 10))

    household_changes.exit_household(cw, household.id, date(2024, 3, 1), "就业后收入稳定", TODAY)
    exited = ledger.get_household(gw, household.id)
    assert exited.status is HouseholdStatus.EXITED
    assert exited.next_review_on is None  # no review while out of the registry
    with pytest.raises(Conflict) as error:
        household_changes.exit_household(so, household.id, TODAY, "again", TODAY)
    assert error.value.code == "same_status"

    household_changes.reenter_household(so, household.id, date(2024, 5, 20), "失业，重新致困", TODAY)
    household = ledger.get_household(gw, household.id)
    assert household.status is HouseholdStatus.ACTIVE
    assert [(e.kind, e.on, e.approved_by_id, e.reason) for e in household.events] == [
        (HouseholdEventKind.ENTERED, date(2024, 1, 10), gw.id, household.events[0].reason),
        (HouseholdEventKind.EXITED, date(2024, 3, 1), cw.id, "就业后收入稳定"),
        (HouseholdEventKind.REENTERED, date(2024, 5, 20), so.id, "失业，重新致困"),
    ]
    assert household.next_review_on == date(2024, 6, 20)  # from the re-entry, monthly
    assert [e.action for e in audit_of(db, household.id)] == ["create", "exited", "reentered"]
    with pytest.raises(Conflict):
        household_changes.reenter_household(cw, household.id, TODAY, "again", TODAY)


@pytest.mark.parametrize(
    ("on", "reason", "code"),
    [
        (date(2024, 6, 16), "理由", "invalid_date"),
        (None, "理由", "invalid_date"),
        (TODAY, "  ", "reason_required"),
        (TODAY, "x" * 501, "reason_required"),
    ],
)
def test_exit_needs_a_past_date_and_a_reason(db, on, reason, code):
    gw = staff(DEMO.grid_worker)
    household = record(gw)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        household_changes.exit_household(staff(DEMO.community_worker), household.id, on, reason, TODAY)
    assert error.value.code == code
    db.session.rollback()
    assert ledger.get_household(gw, household.id).status is HouseholdStatus.ACTIVE
    assert snapshot() == before


def test_exit_cannot_be_dated_before_the_entry(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw, today=date(2024, 5, 1))
    with pytest.raises(InvalidInput):
        household_changes.exit_household(
            staff(DEMO.community_worker), household.id, date(2024, 4, 1), "错误", TODAY
        )


# --- revealing an ID number ---------------------------------------------------------


def household_with_id(db, actor, number: str, **kw) -> Member:
    household = record(actor, head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number), **kw)
    return db.session.scalar(sa.select(Member).where(Member.household_id == household.id))


def test_grid_worker_cannot_reveal_an_id_number(db):
    gw = staff(DEMO.grid_worker)
    member = household_with_id(db, gw, an_id(71))
    before = count_rows(AuditEntry)
    for phone in (DEMO.grid_worker, DEMO.volunteer, DEMO.resident, DEMO.partner):
        with pytest.raises(Forbidden):
            household_changes.reveal_id_number(staff(phone), member.id, DEMO.password)
    assert count_rows(AuditEntry) == before


def test_reveal_with_a_wrong_password_is_refused_and_not_logged(db):
    gw, cw = staff(DEMO.grid_worker), staff(DEMO.community_worker)
    member = household_with_id(db, gw, an_id(73))
    before = count_rows(AuditEntry)
    for wrong in ("wrong-password", "", None):
        with pytest.raises(Forbidden) as error:
            household_changes.reveal_id_number(cw, member.id, wrong)
        assert error.value.code == "reauth_required"
    assert count_rows(AuditEntry) == before


@pytest.mark.parametrize("phone", [DEMO.community_worker, DEMO.street_officer, DEMO.admin])
def test_reveal_with_the_password_returns_the_number_and_is_audited(db, phone):
    gw, actor = staff(DEMO.grid_worker), staff(phone)
    number = an_id(75)
    member = household_with_id(db, gw, number)
    before = count_rows(AuditEntry)
    assert household_changes.reveal_id_number(actor, member.id, DEMO.password) == number
    assert count_rows(AuditEntry) == before + 1
    entry = audit_of(db, member.household_id)[-1]
    assert (entry.action, entry.object_type, entry.object_id) == ("reveal", "member", member.id)
    assert (entry.actor_id, entry.fields) == (actor.id, "id_number")
    assert number not in entry.note and number[-4:] not in entry.note


def test_reveal_outside_scope_or_without_a_number(db):
    admin, cw = staff(DEMO.admin), staff(DEMO.community_worker)
    elsewhere = household_with_id(db, admin, an_id(77), grid_id=other_community_grid(db))
    with pytest.raises(NotFound):
        household_changes.reveal_id_number(cw, elsewhere.id, DEMO.password)
    with pytest.raises(NotFound):
        household_changes.reveal_id_number(cw, 10**9, DEMO.password)
    gw = staff(DEMO.grid_worker)
    plain = record(gw, room="909")
    member_id = ledger.get_household(gw, plain.id).members[0].id
    with pytest.raises(Conflict) as error:
        household_changes.reveal_id_number(cw, member_id, DEMO.password)
    assert error.value.code == "no_id_number"


# --- scope -------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [DEMO.grid_worker, DEMO.community_worker, DEMO.street_officer, DEMO.admin])
def test_the_grid_and_the_levels_above_read_a_household(db, phone):
    household = record(staff(DEMO.grid_worker))
    reader = staff(phone)
    assert ledger.get_household(reader, household.id).id == household.id
    assert household.id in {h.id for h in db.session.scalars(ledger.households_stmt(reader))}


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.volunteer_2, DEMO.resident, DEMO.partner])
def test_non_staff_are_forbidden_the_ledger(db, phone):
    household = record(staff(DEMO.grid_worker))
    user = staff(phone)
    before = snapshot()
    with pytest.raises(Forbidden):
        ledger.get_household(user, household.id)
    with pytest.raises(Forbidden):
        ledger.households_stmt(user)
    with pytest.raises(Forbidden):
        record(user, grid_id=household.grid_id, room="555")
    with pytest.raises(Forbidden):
        ledger.update_household(user, household.id, household_data(household.grid_id, "556"), TODAY)
    with pytest.raises(Forbidden):
        ledger.add_member(user, household.id, MemberData(name="x", relation=Relation.CHILD), TODAY)
    assert snapshot() == before


def test_another_grids_household_is_not_found_for_reading_and_writing(db):
    gw, gw2 = staff(DEMO.grid_worker), staff(DEMO.grid_worker_2)
    household = record(gw)
    member_id = ledger.get_household(gw, household.id).members[0].id
    before = snapshot()
    attempts = [
        lambda: ledger.get_household(gw2, household.id),
        lambda: ledger.update_household(gw2, household.id, household_data(gw2.grid_id, "777"), TODAY),
        lambda: ledger.add_member(gw2, household.id, MemberData(name="x", relation=Relation.CHILD), TODAY),
        lambda: ledger.update_member(gw2, member_id, MemberData(name="x", relation=Relation.HEAD), TODAY),
        lambda: ledger.remove_member(gw2, member_id, "搬走"),
        lambda: household_changes.set_monthly_finance(gw2, household.id, date(2024, 5, 1), 1, 0, 0, 0, TODAY),
        lambda: household_changes.record_consent(gw2, household.id, consent(), TODAY),
        lambda: household_changes.withdraw_consent(gw2, household.id, consent(), TODAY),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert household.id not in {h.id for h in db.session.scalars(ledger.households_stmt(gw2))}
    # a missing id answers exactly the same
    with pytest.raises(NotFound):
        ledger.get_household(gw, 10**9)
    assert snapshot() == before


def test_another_communitys_household_is_not_found_for_its_staff(db):
    admin, cw, so = staff(DEMO.admin), staff(DEMO.community_worker), staff(DEMO.street_officer)
    elsewhere = record(admin, grid_id=other_community_grid(db))
    with pytest.raises(NotFound):
        ledger.get_household(cw, elsewhere.id)
    with pytest.raises(NotFound):
        household_changes.exit_household(cw, elsewhere.id, TODAY, "理由", TODAY)
    assert ledger.get_household(so, elsewhere.id).id == elsewhere.id  # same street


def test_street_officers_read_but_do_not_write_the_ledger(db):
    so = staff(DEMO.street_officer)
    household = record(staff(DEMO.grid_worker))
    with pytest.raises(Forbidden):
        ledger.update_household(so, household.id, household_data(household.grid_id, "888"), TODAY)
    with pytest.raises(Forbidden):
        ledger.add_member(so, household.id, MemberData(name="x", relation=Relation.CHILD), TODAY)
    with pytest.raises(Forbidden):
        record(so, grid_id=household.grid_id, room="889")


# --- review scheduling (复审) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "stable", "months"),
    [(WorkCapacity.FULL, False, 1), (WorkCapacity.FULL, True, 3), (WorkCapacity.NONE, False, 6)],
)
def test_next_review_from_the_entry_date_and_household_type(db, capacity, stable, months):
    gw = staff(DEMO.grid_worker)
    entry = date(2024, 1, 31)
    head = MemberData(name="王大山", relation=Relation.HEAD, work_capacity=capacity)
    household = record(gw, head=head, income_stable=stable, today=entry)
    assert household.next_review_on == add_months(entry, months)


def test_review_recomputed_when_a_working_member_is_added(db):
    gw = staff(DEMO.grid_worker)
    entry = date(2024, 1, 10)
    head = MemberData(name="王奶奶", relation=Relation.HEAD, work_capacity=WorkCapacity.NONE)
    household = record(gw, head=head, income_stable=True, today=entry)
    assert household.next_review_on == date(2024, 7, 10)
    ledger.add_member(
        gw,
        household.id,
        MemberData(name="王小", relation=Relation.GRANDCHILD, work_capacity=WorkCapacity.NONE),
        TODAY,
    )
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 7, 10)
    worker = ledger.add_member(
        gw,
        household.id,
        MemberData(name="王强", relation=Relation.CHILD, work_capacity=WorkCapacity.FULL),
        TODAY,
    )
    assert worker.work_capacity is WorkCapacity.FULL
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 4, 10)  # stable: 3


def test_review_recomputed_when_a_working_member_joins_a_household_with_unstable_income(db):
    gw = staff(DEMO.grid_worker)
    head = MemberData(name="王奶奶", relation=Relation.HEAD, work_capacity=WorkCapacity.NONE)
    household = record(gw, head=head, income_stable=False, today=date(2024, 1, 10))
    assert household.next_review_on == date(2024, 7, 10)
    ledger.add_member(gw, household.id, MemberData(name="王强", relation=Relation.CHILD), TODAY)
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 2, 10)  # monthly, overdue


def test_review_recomputed_when_a_working_member_is_removed(db):
    gw = staff(DEMO.grid_worker)
    head = MemberData(name="王奶奶", relation=Relation.HEAD, work_capacity=WorkCapacity.NONE)
    household = record(gw, head=head, income_stable=True, today=date(2024, 1, 10))
    worker = ledger.add_member(gw, household.id, MemberData(name="王强", relation=Relation.CHILD), TODAY)
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 4, 10)
    ledger.remove_member(gw, worker.id, "外出务工迁出")
    household = ledger.get_household(gw, household.id)
    assert [m.name for m in household.members] == ["王奶奶"]
    assert household.next_review_on == date(2024, 7, 10)
    assert audit_of(db, household.id)[-1].action == "delete"


def test_review_recomputed_when_a_members_work_capacity_changes(db):
    gw = staff(DEMO.grid_worker)
    household = record(gw, income_stable=True, today=date(2024, 2, 29))
    assert household.next_review_on == date(2024, 5, 29)
    head = ledger.get_household(gw, household.id).members[0]
    none = MemberData(name=head.name, relation=Relation.HEAD, work_capacity=WorkCapacity.NONE)
    ledger.update_member(gw, head.id, none, TODAY)
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 8, 29)
    changed = audit_of(db, household.id)[-1]
    assert (changed.action, changed.fields) == ("update", "work_capacity")


def test_update_member_with_an_empty_id_number_keeps_the_stored_one(db):
    gw = staff(DEMO.grid_worker)
    number = an_id(81)
    household = record(gw, head=MemberData(name="王大山", relation=Relation.HEAD, id_number=number))
    head = ledger.get_household(gw, household.id).members[0]
    ledger.update_member(gw, head.id, MemberData(name="王大山", relation=Relation.HEAD), TODAY)
    head = ledger.get_household(gw, household.id).members[0]
    assert head.id_number == number
    assert head.birth_date == date(1980, 1, 1)


def test_review_recomputed_when_income_stability_changes(db):
    gw = staff(DEMO.grid_worker)
    entry = date(2024, 2, 29)
    household = record(gw, income_stable=False, today=entry)
    assert household.next_review_on == date(2024, 3, 29)
    ledger.update_household(gw, household.id, household_data(gw.grid_id, income_stable=True), TODAY)
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 5, 29)
    ledger.update_household(gw, household.id, household_data(gw.grid_id, income_stable=False), TODAY)
    assert ledger.get_household(gw, household.id).next_review_on == date(2024, 3, 29)
    changed = audit_of(db, household.id)[-1]
    assert (changed.action, changed.fields) == ("update", "income_stable")


def test_factory_household_is_in_the_actors_grid(db):
    gw = staff(DEMO.grid_worker)
    household = make_household(gw, today=TODAY)
    assert household.grid_id == gw.grid_id
    assert ledger.get_household(gw, household.id).has_consent


@pytest.mark.parametrize("huge", [2**31, 2**63, -1, 0])
def test_impossible_ids_are_not_found_before_the_database(db, huge):
    """A 64-bit id in a URL must answer 404, not overflow PostgreSQL's integer (a 500)."""
    with pytest.raises(NotFound):
        ledger.get_household(user_by_phone(DEMO.admin), huge)
    with pytest.raises(NotFound):
        household_changes.reveal_id_number(user_by_phone(DEMO.community_worker), huge, DEMO.password)
