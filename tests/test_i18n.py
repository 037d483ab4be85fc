"""Every user-facing string is translated into Chinese (the default)."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
}
METHODS = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]


def extracted_ids() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def chinese_catalog():
    with open(ROOT / "app/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f)


def test_every_string_in_the_code_has_a_chinese_translation():
    catalog = chinese_catalog()
    untranslated = sorted(
        msgid
        for msgid in extracted_ids()
        if not (catalog.get(msgid) and catalog.get(msgid).string and not catalog.get(msgid).fuzzy)
    )
    assert untranslated == [], "run `make messages` and translate these in zh/messages.po"


def test_no_stale_or_fuzzy_entries():
    catalog = chinese_catalog()
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    assert not catalog.obsolete
