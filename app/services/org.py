"""The org tree: listing it for choosers and staff overviews."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.auth_scope import Scope, grid_ids, scope_clause
from app.extensions import db
from app.models import Community, Grid, Role, Street, User, UserRole


def org_tree() -> list[Street]:
    """Every street with its communities and their grids, loaded in 3 queries."""
    stmt = (
        sa.select(Street)
        .options(selectinload(Street.communities).selectinload(Community.grids))
        .order_by(Street.id)
    )
    return list(db.session.scalars(stmt))


def grid_choices() -> dict[str, list[tuple[int, str]]]:
    """Grids grouped by "street · community", for a select with optgroups."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for street in org_tree():
        for community in street.communities:
            label = f"{street.name} · {community.name}"
            # The community in each option too: a closed select shows only the option.
            groups[label] = [(grid.id, f"{community.name} · {grid.name}") for grid in community.grids]
    return groups


def grids_in_scope(scope: Scope) -> list[Grid]:
    """The grids a staff scope covers, with their communities, in tree order."""
    stmt = (
        sa.select(Grid)
        .where(Grid.id.in_(grid_ids(scope)))
        .options(selectinload(Grid.community).selectinload(Community.street))
        .order_by(Grid.community_id, Grid.id)
    )
    return list(db.session.scalars(stmt))


def volunteer_counts(scope: Scope) -> dict[int, int]:
    """Number of volunteers per grid id inside the scope (one query)."""
    stmt = (
        sa.select(User.grid_id, sa.func.count())
        .join(UserRole)
        .where(UserRole.role == Role.VOLUNTEER, User.grid_id.in_(grid_ids(scope)))
        .group_by(User.grid_id)
    )
    return dict(db.session.execute(stmt).all())


def volunteers_stmt(scope: Scope, grid_id: int | None = None) -> sa.Select:
    """SELECT of the volunteers inside the scope, newest first, with skills loaded."""
    stmt = (
        sa.select(User)
        .join(UserRole)
        .where(UserRole.role == Role.VOLUNTEER, scope_clause(User, scope))
        .options(selectinload(User.skills), selectinload(User.grid))
        .order_by(User.created_at.desc(), User.id.desc())
    )
    if grid_id is not None:
        stmt = stmt.where(User.grid_id == grid_id)
    return stmt


def unit_label(user: User) -> str | None:
    """The name of a user's org unit, e.g. "幸福街道 · 阳光社区 · 第一网格"."""
    if user.grid_id:
        grid = db.session.get(Grid, user.grid_id)
        community = db.session.get(Community, grid.community_id)
        street = db.session.get(Street, community.street_id)
        return f"{street.name} · {community.name} · {grid.name}"
    if user.community_id:
        community = db.session.get(Community, user.community_id)
        street = db.session.get(Street, community.street_id)
        return f"{street.name} · {community.name}"
    if user.street_id:
        return db.session.get(Street, user.street_id).name
    return None


def unit_of(user: User) -> dict | None:
    """The user's org unit as {level, id, name}, or None."""
    for level, model, unit_id in (
        ("grid", Grid, user.grid_id),
        ("community", Community, user.community_id),
        ("street", Street, user.street_id),
    ):
        if unit_id:
            return {"level": level, "id": unit_id, "name": db.session.get(model, unit_id).name}
    return None
