"""Ledger uploads: checked by content, zip bombs and damaged packages refused before openpyxl, nothing imported.

Service checks first (the `db` fixture), then the same files through the
import page and an oversized request through the web and the API.
"""

import struct
import zipfile
from functools import cache
from io import BytesIO

import pytest

from app import clock
from app.models import AuditEntry, Household, Member
from app.services.errors import InvalidInput
from app.services.ledger_xlsx import import_ledger
from app.services.xlsx_package import MAX_UNZIPPED_BYTES, RATIO_GRACE_BYTES, check_xlsx_package
from tests.conftest import DEMO, count_rows
from tests.factories import user_by_phone
from tests.services.test_ledger_xlsx import ledger_file, ledger_row

WORKBOOK_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


def package(members: dict[str, bytes | str]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@cache
def total_size_bomb() -> bytes:
    """Looks like a workbook; its sheet is zeros that unpack past the 50 MB limit (about 50 KB on disk)."""
    zeros = b"\0" * (MAX_UNZIPPED_BYTES + 1024 * 1024)
    return package({"[Content_Types].xml": WORKBOOK_TYPES, "xl/worksheets/sheet1.xml": zeros})


@cache
def ratio_bomb() -> bytes:
    """Well under 50 MB unpacked, but packed about 1000:1."""
    zeros = b"\0" * (20 * 1024 * 1024)
    return package({"[Content_Types].xml": WORKBOOK_TYPES, "xl/worksheets/sheet1.xml": zeros})


def good_file(grid_id: int, **members) -> bytes:
    """A real two-row ledger, optionally with extra parts added to its package."""
    data = ledger_file([ledger_row("N1", grid_id, 501), ledger_row("N1", grid_id, 502, relation="spouse")])
    if not members:
        return data
    buffer = BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def lying_sizes(data: bytes, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """`data` with `member`'s declared unpacked size cut to 100 bytes in the
    zip directory, as a bomb would declare to slip past a size check."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        info = archive.getinfo(member)
    raw = bytearray(data)
    entry = raw.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", raw, entry + 28)[0]
        if raw[entry + 46 : entry + 46 + name_length] == member.encode():
            assert struct.unpack_from("<I", raw, entry + 24)[0] == info.file_size
            struct.pack_into("<I", raw, entry + 24, 100)
            return bytes(raw)
        entry = raw.find(b"PK\x01\x02", entry + 4)
    raise AssertionError(f"{member} not in the zip directory")


def docx_like() -> bytes:
    """An OOXML package, but a word-processing document."""
    types = WORKBOOK_TYPES.replace("spreadsheetml.sheet.main", "wordprocessingml.document.main")
    return package({"[Content_Types].xml": types, "word/document.xml": "<w:document/>"})


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.fixture
def grid_worker(db):
    return user_by_phone(DEMO.grid_worker)


def counts() -> tuple[int, int, int]:
    return count_rows(Household), count_rows(Member), count_rows(AuditEntry)


# --- the service ------------------------------------------------------------------


def test_a_real_workbook_passes_the_package_check_and_imports(grid_worker):
    before = counts()
    result = import_ledger(grid_worker, good_file(grid_worker.grid_id), clock.today())
    assert result.ok and result.households_created == 1 and result.members_created == 2
    assert counts()[:2] == (before[0] + 1, before[1] + 2)


def test_a_small_tightly_packed_part_is_within_the_grace(grid_worker):
    """Tiny parts pack at any ratio; only large ones are held to 100:1."""
    padded = good_file(grid_worker.grid_id, **{"customXml/padding.xml": b" " * (RATIO_GRACE_BYTES - 1)})
    check_xlsx_package(padded)
    assert import_ledger(grid_worker, padded, clock.today()).ok


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (
            lambda grid: b"\xd0\xcf\x11\xe0" + b"\0" * 512,
            "not_xlsx",
        ),  # an old .xls (OLE), or an encrypted workbook
        (lambda grid: "姓名,身份证号\n张三,1\n".encode(), "not_xlsx"),  # CSV saved as .xlsx
        (lambda grid: package({"notes.txt": "hello"}), "not_xlsx"),  # a zip, not OOXML
        (lambda grid: docx_like(), "not_xlsx"),  # OOXML, but not a workbook
        (
            lambda grid: package({"[Content_Types].xml": WORKBOOK_TYPES}),
            "not_xlsx",
        ),  # names a workbook it lacks
        (lambda grid: truncated(good_file(grid)), "not_xlsx"),  # a broken upload
        (lambda grid: b"PK\x03\x04" + b"\xff" * 200, "not_xlsx"),  # a zip header and nothing else
        (lambda grid: lying_sizes(good_file(grid)), "not_xlsx"),  # fails the CRC check, not inflated on
        (lambda grid: total_size_bomb(), "file_too_large"),
        (lambda grid: ratio_bomb(), "zip_bomb"),
        (lambda grid: good_file(grid, **{"xl/media/big.bin": b"\0" * (4 * RATIO_GRACE_BYTES)}), "zip_bomb"),
    ],
    ids=[
        "ole",
        "csv",
        "plain-zip",
        "docx",
        "no-workbook",
        "truncated",
        "bad-zip",
        "lying-sizes",
        "over-50-MB",
        "ratio-1000",
        "real-file-with-a-bomb",
    ],
)
def test_bad_packages_are_refused_and_nothing_is_imported(grid_worker, make, code):
    data = make(grid_worker.grid_id)
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        import_ledger(grid_worker, data, clock.today())
    assert (refused.value.code, refused.value.field) == (code, "file")
    assert str(refused.value.message)
    assert counts() == before


def test_bombs_are_small_on_disk_and_refused_from_the_directory_alone():
    """The check reads only the zip directory: a bomb costs no inflating."""
    for bomb in (total_size_bomb(), ratio_bomb()):
        assert len(bomb) < 200 * 1024
        with pytest.raises(InvalidInput) as refused:
            check_xlsx_package(bomb)
        assert refused.value.code in ("file_too_large", "zip_bomb")


def test_more_than_5000_rows_are_refused_and_nothing_is_imported(grid_worker):
    rows = [ledger_row(f"N{i}", grid_worker.grid_id, i % 1000, room=str(i)) for i in range(5001)]
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        import_ledger(grid_worker, ledger_file(rows), clock.today())
    assert (refused.value.code, refused.value.field) == ("too_many_rows", "file")
    assert counts() == before


# --- through the web ----------------------------------------------------------------


def page_counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return counts()


@pytest.mark.parametrize("make", [docx_like, ratio_bomb, lambda: lying_sizes(good_file(1))])
def test_the_import_page_shows_a_form_error(app, client, auth, make):
    auth.login(DEMO.grid_worker)
    before = page_counts(app)
    response = client.post(
        "/registry/import",
        data={"file": (BytesIO(make()), "ledger.xlsx")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="errors"' in page and "Traceback" not in page
    assert page_counts(app) == before


def test_an_oversized_page_upload_answers_413_with_a_page(client, auth):
    auth.login(DEMO.grid_worker)
    response = client.post(
        "/registry/import",
        data={"file": (BytesIO(b"\0" * (5 * 1024 * 1024 + 1)), "ledger.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and ("过大" in page or "too large" in page)


def test_an_oversized_api_body_answers_413_in_json(client):
    body = b'{"phone": "' + b"1" * (5 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    assert response.get_json()["error"]["message"]
