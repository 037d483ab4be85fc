"""Dashboard periods (统计周期): a local month, quarter or year, or a custom range of local days.

A period is a run of whole Asia/Shanghai days, `first` to `last` inclusive;
its UTC bounds [start, end) come from `clock.local_day_bounds`, so the 1st
of a month begins at 16:00 UTC on the day before. Timestamps are compared
with those bounds; dates (an event's `on`, a review's day) with the days.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from app import clock
from app.services.errors import InvalidInput
from app.services.honour import month_index

KINDS = ("month", "quarter", "year", "custom")
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_CUSTOM_DAYS = 3 * 366  # three years of figures on one page is plenty


@dataclass(frozen=True)
class Period:
    """Local days `first` to `last` (inclusive), chosen as `kind`."""

    kind: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The aware UTC start (local midnight of `first`)."""
        return clock.local_day_bounds(self.first)[0]

    @property
    def end(self) -> datetime:
        """The aware UTC end, exclusive (local midnight after `last`)."""
        return clock.local_day_bounds(self.last)[1]

    @property
    def key(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def months(self) -> list[int]:
        """The month indexes (year × 12 + month − 1) the period touches, in order."""
        return list(range(month_index(self.first), month_index(self.last) + 1))

    def includes(self, day: date) -> bool:
        return self.first <= day <= self.last

    def previous(self) -> "Period | None":
        """The period of the same kind just before (None for a custom range)."""
        if self.kind == "custom" or self.first <= EARLIEST:
            return None
        return period_containing(self.kind, self.first - timedelta(days=1))

    def following(self) -> "Period | None":
        """The period of the same kind just after (None for a custom range)."""
        if self.kind == "custom" or self.last >= LATEST:
            return None
        return period_containing(self.kind, self.last + timedelta(days=1))

    def query_args(self) -> dict[str, str]:
        """The query-string arguments that choose this period again."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind, "on": self.first.isoformat()}


def month_label(index: int) -> str:
    """A month index as YYYY-MM."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _add_months(day: date, months: int) -> date:
    index = month_index(day) + months
    return date(index // 12, index % 12 + 1, 1)


def period_containing(kind: str, day: date) -> Period:
    """The local month, quarter or year containing `day`.

    Raises InvalidInput `invalid_period` for another kind.
    """
    if kind == "month":
        first = day.replace(day=1)
        after = _add_months(first, 1)
    elif kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        after = _add_months(first, 3)
    elif kind == "year":
        first, after = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        raise InvalidInput(
            _l("Choose a month, a quarter, a year or a range of days."), code="invalid_period", field="period"
        )
    return Period(kind, first, after - timedelta(days=1))


def _check_day(day, field: str) -> date:
    if not isinstance(day, date) or not EARLIEST <= day <= LATEST:
        raise InvalidInput(
            _l(
                "Enter a date from %(first)s to %(last)s.",
                first=EARLIEST.isoformat(),
                last=LATEST.isoformat(),
            ),
            code="invalid_date",
            field=field,
        )
    return day


def choose_period(kind, on=None, first=None, last=None, today: date | None = None) -> Period:
    """The period a person asked for: `kind` month, quarter or year containing
    `on` (today if not given), or `custom` from `first` to `last` inclusive.

    Raises InvalidInput `invalid_period` (unknown kind), `invalid_date`
    (missing or out of range), `invalid_range` (ends before it starts, or
    longer than MAX_CUSTOM_DAYS), each naming the form field at fault.
    """
    if kind not in KINDS:
        raise InvalidInput(
            _l("Choose a month, a quarter, a year or a range of days."), code="invalid_period", field="period"
        )
    if kind != "custom":
        return period_containing(kind, _check_day(on or today or clock.today(), "on"))
    if first is None or last is None:
        raise InvalidInput(
            _l("Give the first and the last day of the range."),
            code="invalid_date",
            field="date_from" if first is None else "date_to",
        )
    first, last = _check_day(first, "date_from"), _check_day(last, "date_to")
    if last < first:
        raise InvalidInput(_l("The last day comes before the first."), code="invalid_range", field="date_to")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise InvalidInput(
            _l("Choose a range of at most %(n)d days.", n=MAX_CUSTOM_DAYS),
            code="invalid_range",
            field="date_to",
        )
    return Period("custom", first, last)
