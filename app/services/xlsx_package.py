"""Checks an uploaded .xlsx by its content, from the zip directory alone, before openpyxl opens it.

An .xlsx is a ZIP package (OOXML) whose [Content_Types].xml names a
spreadsheet workbook part; the file name and the browser's MIME type prove
nothing. The limits keep a small upload from costing a lot to open: zipfile
never inflates a member beyond the size the directory declares (a member that
does fails its CRC check instead), so the declared sizes bound the work, and
a member packed more tightly than any spreadsheet program packs one is
refused as a zip bomb.
"""

import zipfile
import zlib
from io import BytesIO

from flask_babel import lazy_gettext as _l

from app.services.errors import InvalidInput

MAX_FILE_BYTES = 5 * 1024 * 1024  # as config.MAX_CONTENT_LENGTH, for callers other than the web
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
# Excel and openpyxl sheets of 5 000 identical rows pack about 17:1; members
# below the grace size are too small to matter whatever their ratio.
MAX_RATIO = 100
RATIO_GRACE_BYTES = 1024 * 1024
CONTENT_TYPES = "[Content_Types].xml"
WORKBOOK_CONTENT_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# Everything zipfile raises on a damaged, encrypted or oddly compressed member.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError)
_ZIP_ERRORS += (ValueError, OSError, EOFError)


def check_xlsx_package(file_bytes: bytes) -> None:
    """Raise InvalidInput (field `file`) unless `file_bytes` is a ZIP holding an
    OOXML workbook within the size limits; codes not_xlsx, file_too_large, zip_bomb."""
    if len(file_bytes) > MAX_FILE_BYTES:
        raise InvalidInput(_l("The file is larger than 5 MB."), code="file_too_large", field="file")
    if not file_bytes.startswith(b"PK\x03\x04"):
        raise not_xlsx()
    try:
        with zipfile.ZipFile(BytesIO(file_bytes)) as archive:
            members = archive.infolist()
            _check_sizes(members)
            if CONTENT_TYPES not in archive.namelist():
                raise not_xlsx()
            content_types = archive.read(CONTENT_TYPES)  # bounded by the checks above
    except _ZIP_ERRORS as error:
        raise not_xlsx() from error
    if WORKBOOK_CONTENT_TYPE not in content_types:
        raise not_xlsx()  # another OOXML document (.docx, .pptx) or a plain zip


def _check_sizes(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise InvalidInput(
            _l("The workbook unpacks to more than 50 MB; this is not a ledger file."),
            code="file_too_large",
            field="file",
        )
    for member in members:
        if member.file_size > RATIO_GRACE_BYTES and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise InvalidInput(
                _l(
                    "The workbook is packed more tightly than any spreadsheet program packs one "
                    "(a zip bomb); it was not opened."
                ),
                code="zip_bomb",
                field="file",
            )


def not_xlsx() -> InvalidInput:
    return InvalidInput(
        _l("This is not an Excel workbook (.xlsx) that can be read. Save it as .xlsx and try again."),
        code="not_xlsx",
        field="file",
    )
