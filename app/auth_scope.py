"""The one place that decides who sees what.

Every query for scoped objects and every object URL goes through
`scoped()` / `get_scoped_or_404()`, and every page restricted to roles through
`role_required()`. A staff user sees the subtree below their org unit
(street → communities → grids); an administrator sees everything; everyone
else sees no staff data. An object outside the caller's scope answers 404,
exactly like a missing one, so ids cannot be probed.
"""

from dataclasses import dataclass
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Community, Grid, Role, Street, User
from app.services.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Scope:
    """The subtree a user may see: level is all, street, community, grid or none."""

    level: str
    unit_id: int | None = None


NOTHING = Scope("none")
MAX_ID = 2**31 - 1  # ids are 32-bit integers: a larger one cannot exist, and must not reach the database


def scope_of(user) -> Scope:
    """The staff scope of `user` (anonymous and non-staff users see nothing)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.has_role(Role.ADMIN):
        return Scope("all")
    if user.has_role(Role.STREET_OFFICER) and user.street_id:
        return Scope("street", user.street_id)
    if user.has_role(Role.COMMUNITY_WORKER) and user.community_id:
        return Scope("community", user.community_id)
    if user.has_role(Role.GRID_WORKER) and user.grid_id:
        return Scope("grid", user.grid_id)
    return NOTHING


def grid_ids(scope: Scope) -> sa.Select:
    """SELECT of the ids of the grids inside `scope`."""
    stmt = sa.select(Grid.id)
    if scope.level == "all":
        return stmt
    if scope.level == "street":
        return stmt.join(Community).where(Community.street_id == scope.unit_id)
    if scope.level == "community":
        return stmt.where(Grid.community_id == scope.unit_id)
    if scope.level == "grid":
        return stmt.where(Grid.id == scope.unit_id)
    return stmt.where(sa.false())


def community_ids(scope: Scope) -> sa.Select:
    """SELECT of the ids of the communities wholly inside `scope`."""
    stmt = sa.select(Community.id)
    if scope.level == "all":
        return stmt
    if scope.level == "street":
        return stmt.where(Community.street_id == scope.unit_id)
    if scope.level == "community":
        return stmt.where(Community.id == scope.unit_id)
    return stmt.where(sa.false())


def scope_clause(model, scope: Scope):
    """A WHERE clause keeping the rows of `model` inside `scope`.

    Models hang off the tree by a `grid_id` column, or by a `community_id`
    column when they have no grid (a community's public notice), unless
    handled here.
    """
    if scope.level == "all":
        return sa.true()
    if model is Grid:
        return Grid.id.in_(grid_ids(scope))
    if model is Community:
        return Community.id.in_(community_ids(scope))
    if model is Street:
        return Street.id == scope.unit_id if scope.level == "street" else sa.false()
    if model is User:
        clause = User.grid_id.in_(grid_ids(scope)) | User.community_id.in_(community_ids(scope))
        if scope.level == "street":
            clause = clause | (User.street_id == scope.unit_id)
        return clause
    if not hasattr(model, "grid_id") and hasattr(model, "community_id"):
        return model.community_id.in_(community_ids(scope))
    return model.grid_id.in_(grid_ids(scope))


def scoped(stmt: sa.Select, model, user=None) -> sa.Select:
    """`stmt` restricted to the rows of `model` the user may see."""
    return stmt.where(scope_clause(model, scope_of(user or current_user)))


def is_valid_id(object_id) -> bool:
    """True for an int that can be a row id (not a bool, positive, 32-bit)."""
    return isinstance(object_id, int) and not isinstance(object_id, bool) and 0 < object_id <= MAX_ID


def unscoped_get(model, object_id):
    """The row with this id, or None — WITHOUT a scope check: the caller must
    then check scope on its parent (e.g. a member's household)."""
    return db.session.get(model, object_id) if is_valid_id(object_id) else None


def get_scoped_or_404(model, object_id, user=None, options=()):
    """The object with this id if the user may see it; otherwise NotFound (404).

    `options` are loader options (e.g. selectinload) for what the page shows.
    """
    if not is_valid_id(object_id):
        raise NotFound()
    stmt = sa.select(model).where(model.__mapper__.primary_key[0] == object_id).options(*options)
    obj = db.session.scalar(scoped(stmt, model, user))
    if obj is None:
        raise NotFound()
    return obj


def child_or_404(model, object_id, *belongs, options=(), fresh: bool = False):
    """The row of `model` with this id that also meets `belongs` (it is the
    given household's need, the given volunteer's voucher…), or NotFound.

    For a child whose parent the caller has already checked; `fresh` reloads
    it from the database even if the session holds it.
    """
    found = None
    if is_valid_id(object_id):
        stmt = (
            sa.select(model).where(model.__mapper__.primary_key[0] == object_id, *belongs).options(*options)
        )
        found = db.session.scalar(stmt.execution_options(populate_existing=fresh))
    if found is None:
        raise NotFound()
    return found


def require_role(user, *roles: Role) -> None:
    """Forbidden unless `user` holds one of `roles` (administrators always pass)."""
    if not user.has_role(Role.ADMIN, *roles):
        raise Forbidden()


def manages_grid(user, grid_id: int) -> bool:
    """True if the grid lies inside the user's staff scope."""
    return db.session.scalar(sa.select(grid_ids(scope_of(user)).where(Grid.id == grid_id).exists()))


def role_required(*roles: Role):
    """Web decorator: log in first, then 403 unless the user holds one of `roles`.

    Administrators pass every role check.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(Role.ADMIN, *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
