"""Test data as plain functions; call them inside an app context."""

import itertools

import sqlalchemy as sa

from app.extensions import db
from app.models import City, Community, Grid, Role, Street
from app.services.accounts import create_user

_phones = itertools.count(13900000000)


def next_phone() -> str:
    return str(next(_phones))


def make_tree(name: str = "测试") -> dict[str, object]:
    """A city, a street, one community with two grids; flushed."""
    city = db.session.scalar(sa.select(City).limit(1))
    street = Street(city_id=city.id, name=f"{name}街道")
    db.session.add(street)
    db.session.flush()
    community = Community(street_id=street.id, name=f"{name}社区")
    db.session.add(community)
    db.session.flush()
    grids = [Grid(community_id=community.id, name=f"{name}网格{i}") for i in (1, 2)]
    db.session.add_all(grids)
    db.session.flush()
    return {"street": street, "community": community, "grids": grids}


def make_user(role: Role, password: str = "password123", **unit) -> object:
    """A user with one role in an org unit (street_id=, community_id= or grid_id=); committed."""
    user = create_user(f"测试{role.value}", next_phone(), password, [role], **unit)
    db.session.commit()
    return user
