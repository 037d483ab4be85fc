"""The honour board's periods as local (Asia/Shanghai) days: pure date arithmetic.

A period of a day is the week (from Monday), month, quarter or year that
contains it, or all time; `local_days` gives its first day and the day
after it, and `period_key` names it ("month:2024-05-01", "all"), which is
how the ranked totals (app/models/honour.py HonourTotal) file it.
"""

from datetime import date, timedelta

PERIODS = ("week", "month", "quarter", "year", "all")


def local_days(period: str, day: date) -> tuple[date | None, date | None]:
    """[first, after) of the period containing `day`; (None, None) for all time."""
    if period == "all":
        return None, None
    if period == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    if period == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    months = {"month": 1, "quarter": 3}[period]
    start_month = (day.month - 1) // months * months  # 0-based
    end_month = start_month + months
    return date(day.year, start_month + 1, 1), date(day.year + end_month // 12, end_month % 12 + 1, 1)


def period_key(period: str, day: date) -> str:
    """The name of the period containing `day`: its kind and first day."""
    first, _after = local_days(period, day)
    return f"{period}:{first.isoformat()}" if first else period
