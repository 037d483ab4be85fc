"""The three-level network (三级发现网络): city → street → community → grid."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class City(db.Model):
    """A city (市): the level at which standards such as 低保标准 are set."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)

    streets: Mapped[list["Street"]] = relationship(back_populates="city", lazy="raise")


class Street(db.Model):
    """A street office (街道办事处): several communities."""

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))

    city: Mapped[City] = relationship(back_populates="streets", lazy="raise")
    communities: Mapped[list["Community"]] = relationship(
        back_populates="street", lazy="raise", order_by="Community.id"
    )

    __table_args__ = (sa.UniqueConstraint("city_id", "name"),)


class Community(db.Model):
    """A community (社区): several grids, run by community workers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(sa.ForeignKey("street.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))

    street: Mapped[Street] = relationship(back_populates="communities", lazy="raise")
    grids: Mapped[list["Grid"]] = relationship(back_populates="community", lazy="raise", order_by="Grid.id")

    __table_args__ = (sa.UniqueConstraint("street_id", "name"),)


class Grid(db.Model):
    """A grid (网格): the smallest unit of community management."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))

    community: Mapped[Community] = relationship(back_populates="grids", lazy="raise")

    __table_args__ = (sa.UniqueConstraint("community_id", "name"),)
