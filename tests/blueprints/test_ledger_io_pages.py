"""Ledger download and upload pages: roles, row errors shown, bad uploads refused, never a 500."""

import re
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Household, Member
from tests.conftest import DEMO, count_rows
from tests.factories import user_by_phone
from tests.services.test_ledger_xlsx import bad_checksum, ledger_file, ledger_row, zip_bomb

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client, data: bytes, name: str = "ledger.xlsx"):
    return client.post(
        "/registry/import",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def grid_of(app, phone: str) -> int:
    with app.app_context():
        return user_by_phone(phone).grid_id


def row_counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return count_rows(Household), count_rows(Member), count_rows(AuditEntry)


@pytest.mark.parametrize("phone", [DEMO.grid_worker, DEMO.community_worker, DEMO.street_officer, DEMO.admin])
def test_staff_download_the_ledger(client, auth, app, phone):
    auth.login(phone)
    before = row_counts(app)[2]
    response = client.get("/registry/ledger.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(BytesIO(response.data)).worksheets[0]
    assert sheet.cell(1, 1).value == "户编号 Household key"
    assert row_counts(app)[2] == before + 1  # the export is audited


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.resident, DEMO.partner])
def test_non_staff_cannot_download(client, auth, phone):
    auth.login(phone)
    assert client.get("/registry/ledger.xlsx").status_code == 403


def test_anonymous_is_sent_to_login(client):
    for path in ("/registry/ledger.xlsx", "/registry/import"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("phone", [DEMO.street_officer, DEMO.volunteer])
def test_only_writers_may_import(client, auth, phone):
    auth.login(phone)
    assert client.get("/registry/import").status_code == 403
    assert upload(client, ledger_file([])).status_code == 403


def test_import_page_shows_the_form(client, auth):
    auth.login(DEMO.grid_worker)
    response = client.get("/registry/import")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page
    assert "/registry/ledger.xlsx" in page


def test_a_good_file_is_imported_and_counted(client, auth, app):
    grid = grid_of(app, DEMO.grid_worker)
    rows = [
        ledger_row("N1", grid, 1),
        ledger_row("N1", grid, 2, relation="spouse"),
        ledger_row("N2", grid, 3),
    ]
    auth.login(DEMO.grid_worker)
    households, members, _ = row_counts(app)
    response = upload(client, ledger_file(rows))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/registry/")
    assert row_counts(app)[:2] == (households + 2, members + 3)
    assert "flash-success" in client.get("/registry/").get_data(as_text=True)


def test_bad_rows_are_listed_and_nothing_is_imported(client, auth, app):
    grid = grid_of(app, DEMO.grid_worker)
    rows = [ledger_row(f"N{i}", grid, i) for i in range(5)]
    rows[1]["id_number"] = bad_checksum(rows[1]["id_number"])
    rows[3]["grid_id"] = 999_999
    auth.login(DEMO.grid_worker)
    before = row_counts(app)
    response = upload(client, ledger_file(rows))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.findall(r'<td class="num" data-label="[^"]*">(\d+)</td>', page) == ["3", "5"]
    assert "身份证号 ID number" in page and "网格编号 Grid ID" in page
    assert "999999" in page
    assert row_counts(app) == before


def test_exported_file_imports_without_changes(client, auth, app):
    auth.login(DEMO.community_worker)
    exported = client.get("/registry/ledger.xlsx").data
    before = row_counts(app)
    response = upload(client, exported)
    assert response.status_code == 302
    assert row_counts(app) == before
    with app.app_context():
        latest = db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1))
    assert latest == "export"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("这不是表格\n".encode(), "ledger.xlsx"),  # a text file renamed .xlsx
        (b"PK\x03\x04 broken", "ledger.xlsx"),
        (zip_bomb(), "ledger.xlsx"),
        (ledger_file([], headers=["姓名"]), "ledger.xlsx"),
        (b"a,b\n", "ledger.csv"),
    ],
)
def test_bad_uploads_get_a_form_error(client, auth, app, data, name):
    auth.login(DEMO.grid_worker)
    before = row_counts(app)
    response = upload(client, data, name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="errors"' in page
    assert row_counts(app) == before


def test_an_oversized_upload_is_refused_with_413(client, auth):
    auth.login(DEMO.grid_worker)
    response = upload(client, b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024 + 10))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "过大" in page or "too large" in page


def test_missing_file_is_a_form_error(client, auth):
    auth.login(DEMO.grid_worker)
    response = client.post("/registry/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'class="errors"' in response.get_data(as_text=True)
