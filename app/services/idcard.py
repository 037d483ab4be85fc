"""Chinese resident ID numbers (居民身份证号码, GB 11643): checking and reading them."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app import clock
from app.services.errors import InvalidInput

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: \d would admit full-width digits


@dataclass(frozen=True)
class IdNumber:
    """A checked ID number with what it tells: region, birth date, sex."""

    value: str
    region: str
    birth_date: date
    male: bool

    @property
    def masked(self) -> str:
        return f"{self.region}********{self.value[-4:]}"


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    """One spelling per ID: full-width characters (１２３, Ｘ) read as ASCII
    (NFKC), spaces dropped, x upper-cased — so one person has one blind index."""
    return unicodedata.normalize("NFKC", raw or "").replace(" ", "").upper()


def parse_id_number(raw: str, today: date | None = None) -> IdNumber:
    """The ID number checked (shape, birth date, checksum), or InvalidInput.

    The number is `normalise()`d first.
    """
    value = normalise(raw)
    if not SHAPE.fullmatch(value):
        raise InvalidInput(
            _l("An ID number has 18 characters: 17 digits and a digit or X."),
            code="invalid_id_number",
            field="id_number",
        )
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth > (today or clock.today()) or birth.year < 1900:
        raise InvalidInput(
            _l("The birth date in this ID number is not possible."),
            code="invalid_id_number",
            field="id_number",
        )
    if check_digit(value[:17]) != value[17]:
        raise InvalidInput(
            _l("This ID number's check digit is wrong; please check it again."),
            code="invalid_id_number",
            field="id_number",
        )
    return IdNumber(value=value, region=value[:6], birth_date=birth, male=int(value[16]) % 2 == 1)
