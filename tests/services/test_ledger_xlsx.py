"""XLSX import and export of the ledger: row errors, all or nothing, round trip, scope, bad uploads."""

import time
import zipfile
from datetime import date, timedelta
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa

from app import clock
from app.models import AuditEntry, ConsentRecord, Household, HouseholdEvent, Member
from app.services.errors import Forbidden, InvalidInput
from app.services.idcard import check_digit
from app.services.ledger_xlsx import COLUMNS, export_ledger, import_ledger
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

MODELS = (Household, Member, HouseholdEvent, ConsentRecord, AuditEntry)


def person_id(n: int, region: str = "990100") -> str:
    """A checksum-valid ID number, different for every n below 1 000 (per region)."""
    birth = date(1940, 1, 1) + timedelta(days=(n * 37) % 25000)
    first17 = f"{region}{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + check_digit(first17)


def bad_checksum(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


def ledger_row(key, grid_id, n, *, relation="head", room=None, **cells) -> dict:
    row = {
        "household_key": key,
        "grid_id": grid_id,
        "building": "导入楼",
        "unit": "1",
        "room": room or f"R{key}",
        "contact_phone": "13912345678",
        "register_type": "local",
        "consent_on": clock.today(),
        "consent_scope": "帮扶所需的身份和健康信息",
        "name": f"居民{n}",
        "relation": relation,
        "id_number": person_id(n),
        "work_capacity": "full",
        "schooling": "none",
    }
    return row | cells


def ledger_file(rows: list[dict], headers=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    columns = [c.key for c in COLUMNS]
    sheet.append(headers or [c.header for c in COLUMNS])
    for row in rows:
        sheet.append([row.get(key) for key in columns])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def big_ledger(grid_id: int) -> list[dict]:
    """1 000 rows: 400 households, 200 of three members and 200 of two."""
    rows, n = [], 0
    for h in range(400):
        for m, relation in enumerate(("head", "spouse", "child")[: 3 if h < 200 else 2]):
            rows.append(ledger_row(f"N{h}", grid_id, n, relation=relation, room=f"{h}", name=f"居民{h}-{m}"))
            n += 1
    return rows


def counts() -> dict:
    return {model.__name__: count_rows(model) for model in MODELS}


def read_back(data: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    keys = {c.header: c.key for c in COLUMNS}
    return [{keys[h]: v for h, v in zip(rows[0], row, strict=True)} for row in rows[1:]]


@pytest.fixture
def grid_worker(db):
    return user_by_phone(DEMO.grid_worker)


def test_1000_rows_with_3_bad_rows_report_exactly_those_and_import_nothing(grid_worker):
    rows = big_ledger(grid_worker.grid_id)
    rows[100]["id_number"] = bad_checksum(rows[100]["id_number"])  # a spouse
    rows[500]["grid_id"] = 999_999  # the householder of a two-member household
    rows[700]["id_number"] = rows[10]["id_number"]  # someone listed twice
    before = counts()

    started = time.perf_counter()
    result = import_ledger(grid_worker, ledger_file(rows), clock.today())
    elapsed = time.perf_counter() - started

    assert result.rows == 1000
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (102, "id_number", "invalid_id_number"),
        (502, "grid_id", "unknown_grid"),
        (702, "id_number", "duplicate_person"),
    ]
    messages = [str(e.message) for e in result.errors]
    assert "check digit" in messages[0] or "校验" in messages[0]
    assert "999999" in messages[1]
    assert "12" in messages[2]  # the row where the person is first listed
    assert counts() == before
    assert elapsed < 15, f"checking 1 000 rows took {elapsed:.1f}s"


def test_the_same_1000_rows_fixed_import_in_one_go(grid_worker):
    before = counts()
    started = time.perf_counter()
    result = import_ledger(grid_worker, ledger_file(big_ledger(grid_worker.grid_id)), clock.today())
    elapsed = time.perf_counter() - started
    assert result.errors == []
    assert (result.households_created, result.members_created) == (400, 1000)
    after = counts()
    assert after["Household"] - before["Household"] == 400
    assert after["Member"] - before["Member"] == 1000
    assert after["ConsentRecord"] - before["ConsentRecord"] == 400
    # one per household, one per member beside the householder, one for the import
    assert after["AuditEntry"] - before["AuditEntry"] == 400 + 600 + 1
    assert elapsed < 20, f"importing 1 000 rows took {elapsed:.1f}s"


def test_export_then_import_changes_nothing(db, grid_worker):
    import_ledger(grid_worker, ledger_file(big_ledger(grid_worker.grid_id)[:30]), clock.today())
    make_household(grid_worker, consent=False)
    exported = export_ledger(grid_worker)
    before = counts()
    result = import_ledger(grid_worker, exported, clock.today())
    assert result.errors == []
    assert not result.changed
    assert counts() == before  # no rows, not even an audit entry


def test_export_then_import_by_community_worker_changes_nothing(db):
    worker = user_by_phone(DEMO.community_worker)
    exported = export_ledger(worker)
    before = counts()
    result = import_ledger(worker, exported, clock.today())
    assert result.errors == [] and not result.changed
    assert counts() == before


def test_export_masks_id_numbers_and_is_audited(db, grid_worker):
    import_ledger(grid_worker, ledger_file([ledger_row("A", grid_worker.grid_id, 1)]), clock.today())
    entries = count_rows(AuditEntry)
    rows = read_back(export_ledger(grid_worker))
    mine = next(r for r in rows if r["name"] == "居民1")
    assert mine["id_number"] == person_id(1)[:6] + "********" + person_id(1)[-4:]
    assert not any(r["id_number"] and "*" not in r["id_number"] for r in rows)
    assert count_rows(AuditEntry) == entries + 1
    entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.object_type, entry.actor_id) == ("export", "ledger", grid_worker.id)


def test_export_by_grid_worker_holds_only_their_grid(db, grid_worker):
    community = user_by_phone(DEMO.community_worker)
    other_grid = user_by_phone(DEMO.grid_worker_2).grid_id
    make_household(community, grid_id=other_grid)
    own = make_household(grid_worker)
    rows = read_back(export_ledger(grid_worker))
    assert {r["grid_id"] for r in rows} == {grid_worker.grid_id}
    in_grid = set(db.session.scalars(sa.select(Household.id).where(Household.grid_id == grid_worker.grid_id)))
    assert {r["household_key"] for r in rows} == in_grid
    assert own.id in in_grid


def test_a_grid_worker_importing_into_another_grid_gets_an_error_per_row(grid_worker):
    other_grid = user_by_phone(DEMO.grid_worker_2).grid_id
    rows = [
        ledger_row(f"N{i // 2}", other_grid, i, relation="head" if i % 2 == 0 else "child") for i in range(6)
    ]
    before = counts()
    result = import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert [(e.row, e.code) for e in result.errors] == [(n, "unknown_grid") for n in range(2, 8)]
    assert counts() == before


def test_changes_are_written_and_audited(db, grid_worker):
    import_ledger(grid_worker, ledger_file([ledger_row("A", grid_worker.grid_id, 1)]), clock.today())
    rows = [r for r in read_back(export_ledger(grid_worker)) if r["name"] == "居民1"]
    rows[0]["contact_phone"] = "13900001111"
    rows.append(
        rows[0] | {"member_key": None, "name": "新成员", "relation": "child", "id_number": person_id(2)}
    )
    rows[1]["birth_date"] = rows[1]["sex"] = None
    before = counts()
    result = import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert result.errors == []
    assert (result.households_updated, result.members_created, result.households_created) == (1, 1, 0)
    household = db.session.get(Household, rows[0]["household_key"])
    assert household.contact_phone == "13900001111"
    assert count_rows(Member) == before["Member"] + 1
    actions = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.object_type, AuditEntry.fields)
        .where(AuditEntry.household_id == household.id, AuditEntry.note.like("import%"))
        .order_by(AuditEntry.id)
    ).all()
    assert ("update", "household", "contact_phone") in actions
    assert ("create", "member", "") in actions


@pytest.mark.parametrize(
    ("change", "column", "code"),
    [
        ({"id_number": "12345"}, "id_number", "invalid_id_number"),
        ({"birth_date": "2023-02-30", "id_number": None}, "birth_date", "invalid_date"),
        ({"disability_grade": -1}, "disability_grade", "negative_number"),
        ({"disability_grade": 7}, "disability_grade", "invalid_disability_grade"),
        ({"relation": "cousin"}, "relation", "unknown_value"),
        ({"name": None}, "name", "required"),
        ({"contact_phone": "12345"}, "contact_phone", "invalid_phone"),
        ({"room": None}, "room", "required"),
        ({"consent_on": None, "consent_scope": None}, "id_number", "consent_required"),
        ({"consent_on": None}, "consent_on", "invalid_consent"),
        ({"household_key": 987654321}, "household_key", "unknown_household"),
        ({"member_key": 12}, "member_key", "unknown_member"),
        ({"relation": "spouse"}, "relation", "head_required"),
        ({"lives_alone": "maybe"}, "lives_alone", "invalid_yes_no"),
        ({"id_number": 110105194001010012}, "id_number", "invalid_id_number"),
    ],
)
def test_each_bad_cell_is_reported(grid_worker, change, column, code):
    rows = [ledger_row("A", grid_worker.grid_id, 1) | change]
    before = counts()
    result = import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, column, code)]
    assert str(result.errors[0].message)
    assert counts() == before


def test_household_rules_across_rows(grid_worker):
    grid = grid_worker.grid_id
    rows = [
        ledger_row("A", grid, 1),
        ledger_row("A", grid, 2),  # a second householder
        ledger_row("A", grid, 3, relation="child", contact_phone="13700000000"),  # contradicts row 2
        ledger_row("B", grid, 4, room="RA"),  # the same address as A
        ledger_row("C", grid, 5, relation="spouse", room="RC"),  # no householder
    ]
    result = import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "relation", "head_exists"),
        (4, "contact_phone", "household_mismatch"),
        (5, "room", "household_exists"),
        (6, "relation", "head_required"),
    ]


def test_person_already_in_another_household(grid_worker):
    grid = grid_worker.grid_id
    import_ledger(grid_worker, ledger_file([ledger_row("A", grid, 1)]), clock.today())
    before = counts()
    result = import_ledger(grid_worker, ledger_file([ledger_row("B", grid, 1, room="other")]), clock.today())
    assert [(e.row, e.code) for e in result.errors] == [(2, "member_in_other_household")]
    assert counts() == before


def test_masked_ids_keep_the_stored_number_and_must_match(db, grid_worker):
    import_ledger(grid_worker, ledger_file([ledger_row("A", grid_worker.grid_id, 1)]), clock.today())
    row = next(r for r in read_back(export_ledger(grid_worker)) if r["name"] == "居民1")
    wrong_mask = row | {"id_number": "990100********0000"}
    new_with_mask = row | {"member_key": None, "relation": "child", "name": "新"}
    result = import_ledger(grid_worker, ledger_file([wrong_mask]), clock.today())
    assert [e.code for e in result.errors] == ["masked_id_number"]
    result = import_ledger(grid_worker, ledger_file([row, new_with_mask]), clock.today())
    assert [(e.row, e.code) for e in result.errors] == [(3, "masked_id_number")]
    member = db.session.get(Member, row["member_key"])
    assert member.id_number == person_id(1)


def test_an_import_cannot_withdraw_consent(grid_worker):
    import_ledger(grid_worker, ledger_file([ledger_row("A", grid_worker.grid_id, 1)]), clock.today())
    row = next(r for r in read_back(export_ledger(grid_worker)) if r["name"] == "居民1")
    result = import_ledger(
        grid_worker, ledger_file([row | {"consent_on": None, "consent_scope": None}]), clock.today()
    )
    assert [e.code for e in result.errors] == ["consent_withdrawal"]


def test_labels_and_reordered_headers_are_read(db, grid_worker):
    columns = [c for c in COLUMNS if c.key not in ("grid_name", "status", "member_key")][::-1]
    row = ledger_row("新户", grid_worker.grid_id, 1) | {
        "relation": "户主",
        "register_type": "Local household register",
    }
    workbook = openpyxl.Workbook()
    workbook.active.append([c.zh for c in columns])
    workbook.active.append([row.get(c.key) for c in columns])
    buffer = BytesIO()
    workbook.save(buffer)
    result = import_ledger(grid_worker, buffer.getvalue(), clock.today())
    assert result.errors == [] and result.households_created == 1


def test_only_writers_import_and_only_staff_export(db):
    with pytest.raises(Forbidden):
        import_ledger(user_by_phone(DEMO.street_officer), ledger_file([]), clock.today())
    with pytest.raises(Forbidden):
        export_ledger(user_by_phone(DEMO.volunteer))


def zip_bomb() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: "户主,姓名\n张三,李四\n".encode(), "not_xlsx"),
        (lambda: b"PK\x03\x04 not really a zip", "not_xlsx"),
        (plain_zip, "not_xlsx"),
        (zip_bomb, "file_too_large"),
        (lambda: b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024), "file_too_large"),
        (lambda: ledger_file([], headers=["姓名", "备注"]), "bad_header"),
        (lambda: ledger_file([]), "empty_file"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(grid_worker, make, code):
    with pytest.raises(InvalidInput) as refused:
        import_ledger(grid_worker, make(), clock.today())
    assert refused.value.code == code
    assert str(refused.value.message)


def test_more_than_5000_rows_are_refused(grid_worker):
    rows = [ledger_row(f"N{i}", grid_worker.grid_id, i % 1000, room=str(i)) for i in range(5001)]
    with pytest.raises(InvalidInput) as refused:
        import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert refused.value.code == "too_many_rows"


def test_full_width_id_numbers_are_the_same_person(grid_worker):
    full_width = person_id(1).translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    rows = [
        ledger_row("A", grid_worker.grid_id, 1),
        ledger_row("B", grid_worker.grid_id, 2, id_number=full_width),
    ]
    result = import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert [(e.row, e.code) for e in result.errors] == [(3, "duplicate_person")]


def test_text_that_looks_like_a_formula_stays_text(db, grid_worker):
    name = '=HYPERLINK("http://example.com","点我")'
    household = make_household(grid_worker, head_name=name)
    exported = export_ledger(grid_worker)
    sheet = openpyxl.load_workbook(BytesIO(exported)).worksheets[0]
    at = [c.key for c in COLUMNS].index("name")
    cell = next(row[at] for row in sheet.iter_rows(min_row=2) if row[0].value == household.id)
    assert (cell.value, cell.data_type) == (name, "s")
    result = import_ledger(grid_worker, exported, clock.today())
    assert result.errors == [] and not result.changed
