"""The scope helper: who sees which part of the org tree."""

import pytest
import sqlalchemy as sa

from app.auth_scope import Scope, get_scoped_or_404, scope_of, scoped
from app.models import Community, Grid, Street, User
from app.services.accounts import find_by_phone
from app.services.errors import NotFound
from tests.conftest import DEMO


def visible(model, phone):
    user = find_by_phone(phone)
    from app.extensions import db

    return set(db.session.scalars(scoped(sa.select(model.id), model, user)))


def demo_grids(db):
    """Demo grid ids: community 1 has grids 1, 2; community 2 has grids 3, 4."""
    return list(db.session.scalars(sa.select(Grid.id).join(Community).order_by(Community.id, Grid.id)))[:4]


def test_scope_of_each_role(db):
    assert scope_of(find_by_phone(DEMO.admin)) == Scope("all")
    assert scope_of(find_by_phone(DEMO.street_officer)).level == "street"
    assert scope_of(find_by_phone(DEMO.community_worker)).level == "community"
    assert scope_of(find_by_phone(DEMO.grid_worker)).level == "grid"
    for phone in (DEMO.volunteer, DEMO.resident, DEMO.partner):
        assert scope_of(find_by_phone(phone)) == Scope("none")
    assert scope_of(None) == Scope("none")


def test_grids_in_scope(db):
    g1, g2, g3, g4 = demo_grids(db)
    assert visible(Grid, DEMO.grid_worker) == {g1}
    assert visible(Grid, DEMO.grid_worker_2) == {g2}
    assert visible(Grid, DEMO.community_worker) == {g1, g2}
    assert {g1, g2, g3, g4} <= visible(Grid, DEMO.street_officer)
    assert visible(Grid, DEMO.volunteer) == set()
    assert visible(Grid, DEMO.partner) == set()


def test_communities_and_streets_in_scope(db):
    c1 = find_by_phone(DEMO.community_worker).community_id
    assert visible(Community, DEMO.community_worker) == {c1}
    assert visible(Community, DEMO.grid_worker) == set()
    assert len(visible(Community, DEMO.street_officer)) == 2
    assert visible(Street, DEMO.street_officer) == {find_by_phone(DEMO.street_officer).street_id}
    assert visible(Street, DEMO.community_worker) == set()


def test_users_in_scope(db):
    seen_by_grid_worker = visible(User, DEMO.grid_worker)
    assert find_by_phone(DEMO.volunteer).id in seen_by_grid_worker
    assert find_by_phone(DEMO.volunteer_2).id not in seen_by_grid_worker  # grid 2
    seen_by_community = visible(User, DEMO.community_worker)
    assert {find_by_phone(DEMO.volunteer).id, find_by_phone(DEMO.volunteer_2).id} <= seen_by_community
    assert find_by_phone(DEMO.street_officer).id in visible(User, DEMO.street_officer)
    assert find_by_phone(DEMO.street_officer).id not in seen_by_community


def test_get_scoped_or_404_hides_other_grids_like_missing_ones(db, app):
    g1, g2, *_ = demo_grids(db)
    grid_worker = find_by_phone(DEMO.grid_worker)
    assert get_scoped_or_404(Grid, g1, grid_worker).id == g1
    for object_id in (g2, 999999, "1", True):
        with pytest.raises(NotFound):
            get_scoped_or_404(Grid, object_id, grid_worker)
