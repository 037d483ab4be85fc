"""The one clock: every rule that depends on "now" asks here, so tests (and
the scheduler's catch-up runs) can set the time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today's date where the platform runs (Asia/Shanghai), not in UTC."""
    return now().astimezone(LOCAL_TZ).date()


def freeze(moment: datetime | None) -> None:
    """Set the clock to `moment` (aware), or back to real time with None. Tests only."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai date of an aware timestamp (a visit at 01:00 in Beijing is that day)."""
    return moment.astimezone(LOCAL_TZ).date()


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The aware UTC start and end (exclusive) of a local (Asia/Shanghai) day."""
    start = datetime.combine(day, time(), LOCAL_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
