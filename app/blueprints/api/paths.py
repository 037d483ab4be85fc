"""Row ids in API URLs (`/tasks/<row_id:task_id>`).

Ids are 32-bit integers: a larger one cannot exist and must not reach the
database (PostgreSQL refuses it). The URL pattern itself accepts only 1 to
2**31 - 1, so any other id answers 404 on every method. (Werkzeug's
`int(max=…)` refuses a large id only after it has seen the other methods of
the path, and then answers 405 instead.)
"""

from werkzeug.routing import IntegerConverter

from app.auth_scope import MAX_ID


def decimal_pattern(limit: int) -> str:
    """A regular expression for the numbers 1 to `limit`, without leading zeros.

    Shorter numbers match any digits; a number as long as `limit` shares a
    prefix of it and then has a smaller digit, or is `limit` itself.
    """
    digits = str(limit)
    width = len(digits)
    options = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            rest = width - position - 1
            options.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class RowIdConverter(IntegerConverter):
    """A row id: 1 to MAX_ID, refused by the pattern itself (documented as an integer in that range)."""

    regex = decimal_pattern(MAX_ID)

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def id_path(name: str) -> str:
    """The URL part for a row id named `name`."""
    return f"<row_id:{name}>"
