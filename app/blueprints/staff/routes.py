"""Staff overview: the grids under the user's unit and their volunteers."""

from flask import render_template, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.auth_scope import get_scoped_or_404, role_required, scope_of
from app.blueprints.staff import bp
from app.extensions import db
from app.models import Grid, Role
from app.services.org import grids_in_scope, volunteer_counts, volunteers_stmt

STAFF = (Role.STREET_OFFICER, Role.COMMUNITY_WORKER, Role.GRID_WORKER)


@bp.get("/")
@role_required(*STAFF)
def overview():
    scope = scope_of(current_user)
    return render_template("staff/overview.html", grids=grids_in_scope(scope), counts=volunteer_counts(scope))


@bp.get("/grids/<int:grid_id>")
@role_required(*STAFF)
def grid(grid_id: int):
    grid = get_scoped_or_404(Grid, grid_id, options=[selectinload(Grid.community)])
    page = db.paginate(volunteers_stmt(scope_of(current_user), grid.id), per_page=30)
    return render_template("staff/grid.html", grid=grid, page=page)


@bp.get("/volunteers")
@role_required(*STAFF)
def volunteers():
    page = db.paginate(volunteers_stmt(scope_of(current_user)), per_page=30)
    return render_template("staff/volunteers.html", page=page, args=request.args)
