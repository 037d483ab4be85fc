"""Catalogues kept as data: skills volunteers offer and the services they give."""

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class LocalisedName:
    """Mixin for catalogue rows that carry a Chinese and an English name."""

    @property
    def name(self) -> str:
        """The name in the language of the current request."""
        locale = get_locale()
        return self.name_en if locale and locale.language == "en" else self.name_zh


class Skill(LocalisedName, db.Model):
    """A skill a volunteer offers (家政, 学习辅导 …); the catalogue is data."""

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)


class ServiceType(LocalisedName, db.Model):
    """A kind of service (家政, 助餐, 助医 …) with its skill; its points are PointRate rows.

    Administrators add more; the defaults come with the migration.
    """

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    skill_code: Mapped[str] = mapped_column(sa.ForeignKey("skill.code"))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
