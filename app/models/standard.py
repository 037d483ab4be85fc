"""City standards as data: the minimum-subsistence standard and the ratios
the hardship categories are measured against (DOMAIN.md)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CityStandard(db.Model):
    """The 低保标准 of a city from a date on, in fen per person per month.

    Ratios are in percent of the standard (200 = 2×) so they stay integers:
    marginal 低保边缘 is [100 %, marginal_upper_pct); income-type 收入型 is
    (100 %, income_upper_pct] with rigid expenses below rigid_ratio_pct of
    income; expenditure-type 支出型 is (100 %, expenditure_upper_pct] with
    rigid expenses at or above it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    effective_from: Mapped[date]
    monthly_amount: Mapped[int]  # fen per person per month
    marginal_upper_pct: Mapped[int] = mapped_column(default=200)
    income_upper_pct: Mapped[int] = mapped_column(default=200)
    expenditure_upper_pct: Mapped[int] = mapped_column(default=500)
    rigid_ratio_pct: Mapped[int] = mapped_column(default=150)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("city_id", "effective_from"),
        sa.CheckConstraint("monthly_amount > 0", name="positive_amount"),
    )
