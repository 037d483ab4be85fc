"""The honour-board cache: a cached board is served without touching the
tallies; an award, a reversal, a team change or a name change committed is
seen by the very next read (in this process, and through Redis in another);
uncommitted and rolled-back changes never reach the cache; a change that
bypasses the services is seen within the TTL; a dead Redis costs speed only."""

import socket
import time
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.models import AccountKind
from app.models.honour import HonourTally
from app.services import accounts, honour, honour_cache, ledger
from tests.conftest import second_app
from tests.factories import make_tree
from tests.services.test_honour import TODAY, award, create, join, local, reverse, statements_run, volunteer

REDIS = "redis://127.0.0.1:6379/15"


def points_of(scope, kind="volunteers"):
    rows = honour.board(scope, "month", kind, today=TODAY)
    return [(r.name, r.points) for r in rows]


@pytest.fixture
def place(db):
    """Two communities of one street; two volunteers with points in the first."""
    tree = make_tree("缓存")
    other = make_tree("别处")
    a, b = volunteer(db, tree["grids"][0], "甲乙丙"), volunteer(db, tree["grids"][0], "丁戊己", True)
    community = tree["community"].id
    award(a, community, 10, local(2024, 5, 3))
    award(b, community, 4, local(2024, 5, 4))
    db.session.commit()
    street, city = tree["street"].id, tree["street"].city_id
    return {
        "a": a,
        "b": b,
        "community": community,
        "other": other["community"].id,
        "scopes": [f"community:{community}", f"street:{street}", f"city:{city}"],
        "tree": tree,
    }


def test_a_cached_board_reads_no_tallies(db, place):
    scope = honour.parse_scope(place["scopes"][0])
    first, statements = statements_run(db, lambda: honour.board(scope, "month", today=TODAY))
    assert any("honour_tally" in s for s in statements)
    again, statements = statements_run(db, lambda: honour.board(scope, "month", today=TODAY))
    assert again == first and statements == []


def test_the_scope_choices_are_cached_and_a_new_community_shows_within_the_ttl(app, db, place, monkeypatch):
    first, statements = statements_run(db, honour.scope_options)
    communities = list(first.values())[0]  # grouped under a translated heading
    assert len(statements) == 3 and (place["scopes"][0], "缓存街道 · 缓存社区") in communities
    again, statements = statements_run(db, honour.scope_options)
    assert again == first and statements == []
    monkeypatch.setitem(app.config, "HONOUR_CACHE_TTL", 1)
    honour_cache.clear()
    honour.scope_options()
    added = make_tree("新建")["community"].id
    db.session.commit()
    time.sleep(1.1)
    assert f"community:{added}" in dict(list(honour.scope_options().values())[0])


def test_an_award_is_on_every_board_at_once(db, place):
    before = {scope: points_of(scope) for scope in place["scopes"]}
    assert before[place["scopes"][0]] == [("甲*丙", 10), ("丁戊己", 4)]
    award(place["b"], place["community"], 7, local(2024, 5, 5))
    db.session.commit()
    for scope in place["scopes"]:
        assert ("丁戊己", 11) in points_of(scope), scope
    assert points_of(place["scopes"][0]) == [("丁戊己", 11), ("甲*丙", 10)]


def test_a_reversal_takes_the_points_off_at_once(db, place):
    false = award(place["a"], place["community"], 30, local(2024, 5, 6))
    db.session.commit()
    assert points_of(place["scopes"][0])[0] == ("甲*丙", 40)
    reverse(false, local(2024, 5, 7))
    db.session.commit()
    for scope in place["scopes"]:
        assert ("甲*丙", 10) in points_of(scope), scope


def test_a_members_award_elsewhere_moves_the_team_board_at_once(db, place):
    """The team belongs to one community; its member earns in another."""
    team = create(place["a"], "缓存队", local(2024, 5, 1))
    db.session.commit()
    team_scope = place["scopes"][0]
    assert points_of(team_scope, "teams") == [("缓存队", 10)]
    assert points_of(f"community:{place['other']}", "teams") == []
    award(place["a"], place["other"], 5, local(2024, 5, 8))
    db.session.commit()
    assert points_of(team_scope, "teams") == [("缓存队", 15)]
    assert team.id


def test_team_and_name_changes_show_at_once(db, place):
    scope = place["scopes"][0]
    team = create(place["b"], "新队", local(2024, 5, 1))
    rows = honour.board(scope, "month", today=TODAY)
    assert [r.team for r in rows] == [None, "新队"]
    join(place["a"], team.id, local(2024, 5, 2))
    assert [r.team for r in honour.board(scope, "month", today=TODAY)] == ["新队", "新队"]
    accounts.update_name(place["a"], "甲乙丙", True)
    assert points_of(scope)[0] == ("甲乙丙", 10)


def test_uncommitted_changes_skip_the_cache_and_a_rollback_leaves_nothing(db, place):
    scope = place["scopes"][0]
    assert points_of(scope)[0] == ("甲*丙", 10)
    award(place["a"], place["community"], 50, local(2024, 5, 9))  # not committed
    assert points_of(scope)[0] == ("甲*丙", 60)  # this transaction sees its own award …
    db.session.rollback()
    assert points_of(scope)[0] == ("甲*丙", 10)  # … which was never stored for anyone else


def test_a_change_behind_the_services_back_shows_within_the_ttl(app, db, place, monkeypatch):
    """Only writes through ledger.post and the team/account services invalidate;
    anything else (a hand-edited row) is seen once the TTL has run out."""
    monkeypatch.setitem(app.config, "HONOUR_CACHE_TTL", 1)
    scope = place["scopes"][0]
    assert points_of(scope)[0] == ("甲*丙", 10)
    db.session.execute(
        sa.update(HonourTally)
        .where(HonourTally.earner_id == place["a"].id)
        .values(points=HonourTally.points + 5)
    )
    db.session.commit()
    assert points_of(scope)[0] == ("甲*丙", 10)  # stale, as documented
    time.sleep(1.1)
    assert points_of(scope)[0] == ("甲*丙", 15)


def test_while_another_process_computes_a_board_readers_get_the_last_one(app, db, place, monkeypatch):
    """No stampede: readers of a board being computed elsewhere do not compute it too."""
    scope = honour.parse_scope(place["scopes"][1])
    assert points_of(scope)[0] == ("甲*丙", 10)
    award(place["b"], place["community"], 20, local(2024, 5, 12))
    db.session.commit()
    the_store = honour_cache.store(app)
    monkeypatch.setattr(the_store, "add", lambda *_args: False)  # another process holds the lock
    rows, statements = statements_run(db, lambda: honour.board(scope, "month", today=TODAY))
    assert [(r.name, r.points) for r in rows][0] == ("甲*丙", 10) and statements == []  # the last board
    monkeypatch.undo()
    assert points_of(scope)[0] == ("丁戊己", 24)  # computed by the next reader


def test_a_ttl_of_zero_turns_the_cache_off(app, db, place, monkeypatch):
    monkeypatch.setitem(app.config, "HONOUR_CACHE_TTL", 0)
    scope = honour.parse_scope(place["scopes"][0])
    honour.board(scope, "month", today=TODAY)
    _rows, statements = statements_run(db, lambda: honour.board(scope, "month", today=TODAY))
    assert any("honour_tally" in s for s in statements)


def test_the_monthly_roll_is_computed_not_cached(db, place):
    """compute_board is what the roll freezes: it reads the tallies every time."""
    scope = honour.parse_scope(place["scopes"][0])
    honour.board(scope, "month", today=TODAY)
    rows, statements = statements_run(
        db, lambda: honour.compute_board(scope, "month", "volunteers", 20, TODAY)
    )
    assert [r.points for r in rows] == [10, 4] and any("honour_tally" in s for s in statements)


def test_the_api_shows_an_award_at_once(app, client, place):
    url = f"/api/v1/honour-board?scope={place['scopes'][0]}&period=all"
    assert [r["points"] for r in client.get(url).get_json()["rows"]] == [10, 4]
    with app.app_context():
        award(place["b"], place["community"], 20, local(2024, 5, 10))
        _db.session.commit()
    assert [r["points"] for r in client.get(url).get_json()["rows"]] == [24, 10]


# --- several processes ------------------------------------------------------------------


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _two_workers(app, monkeypatch, redis: bool):
    """Settings for two app instances, as two gunicorn workers (sharing Redis or not)."""
    if redis:
        monkeypatch.setenv("REDIS_URL", REDIS)
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
    return {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "HONOUR_CACHE_PREFIX": f"test-honour-{uuid.uuid4().hex}:",
    }


def _award_in(worker, place, points):
    with worker.app_context():
        award(place["b"], place["community"], points, local(2024, 5, 11))
        _db.session.commit()


def _board_in(worker, place):
    with worker.app_context():
        return points_of(place["scopes"][1])


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_workers_sharing_redis_see_each_others_awards_at_once(app, place, monkeypatch):
    settings = _two_workers(app, monkeypatch, redis=True)
    with second_app(**settings) as first, second_app(**settings) as second:
        assert isinstance(honour_cache.store(first), honour_cache.RedisStore)
        assert _board_in(first, place) == [("甲*丙", 10), ("丁戊己", 4)]
        with second.app_context():  # the board the first worker stored serves the second
            scope = honour.parse_scope(place["scopes"][1])
            _rows, statements = statements_run(_db, lambda: honour.board(scope, "month", today=TODAY))
            assert statements == []
        _award_in(second, place, 9)
        assert _board_in(first, place) == [("丁戊己", 13), ("甲*丙", 10)]
        honour_cache.clear(first)


def test_without_redis_another_worker_is_stale_until_the_ttl(app, place, monkeypatch):
    """Why REDIS_URL matters with several workers (README): the in-process cache is per process."""
    settings = _two_workers(app, monkeypatch, redis=False)
    with second_app(**settings) as first, second_app(**settings) as second:
        assert _board_in(first, place) == [("甲*丙", 10), ("丁戊己", 4)]
        _award_in(second, place, 9)
        assert _board_in(second, place) == [("丁戊己", 13), ("甲*丙", 10)]
        assert _board_in(first, place) == [("甲*丙", 10), ("丁戊己", 4)]


def test_a_dead_redis_costs_speed_not_answers(app, place, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    with second_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]) as worker:
        assert _board_in(worker, place) == [("甲*丙", 10), ("丁戊己", 4)]
        _award_in(worker, place, 1)  # the invalidation fails, logged; the award stands
        assert _board_in(worker, place) == [("甲*丙", 10), ("丁戊己", 5)]
        with worker.app_context():
            assert ledger.balance_of(AccountKind.VOLUNTEER, place["b"].id) == 5
