"""Love teams (爱心团队): creating, joining, leaving, listing, team points and the demo team."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.models import Team, TeamMembership
from app.services import honour, teams
from app.services.demo_teams import DEMO_TEAM, seed_demo_teams
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, count_rows
from tests.factories import make_tree, user_by_phone
from tests.services.test_honour import award, create, join, leave, local, volunteer


@pytest.fixture
def place(db):
    """Two communities, three volunteers in the first and one in the second."""
    first, second = make_tree("团一"), make_tree("团二")
    grid = first["grids"][0]
    people = [volunteer(db, grid, name) for name in ("欧阳秀华", "李建国", "张伟")]
    people[2].show_full_name = True
    db.session.commit()
    stranger = volunteer(db, second["grids"][1], "赵国强")
    return first["community"], second["community"], people, stranger


def members_of(db, team_id):
    return set(
        db.session.scalars(
            sa.select(TeamMembership.user_id).where(
                TeamMembership.team_id == team_id, TeamMembership.left_at.is_(None)
            )
        )
    )


def test_create_makes_the_creator_first_member(db, place):
    community, _other, (a, *_), _stranger = place
    team = teams.create_team(a, "  银发关爱队 ", "多走一步")
    assert (team.community_id, team.name, team.motto, team.created_by_id) == (
        community.id,
        "银发关爱队",
        "多走一步",
        a.id,
    )
    assert members_of(db, team.id) == {a.id}
    assert teams.current_team(a).id == team.id


@pytest.mark.parametrize(
    ("name", "motto", "code"),
    [
        ("队", "", "invalid_name"),
        ("   ", "", "invalid_name"),
        ("队" * 41, "", "invalid_name"),
        (None, "", "invalid_name"),
        ("好邻居队", "长" * 201, "invalid_motto"),
        ("好邻居队", 5, "invalid_motto"),
    ],
)
def test_create_refuses_bad_names_and_mottos(db, place, name, motto, code):
    _c, _o, (a, *_), _s = place
    before = count_rows(Team)
    with pytest.raises(InvalidInput) as refused:
        teams.create_team(a, name, motto)
    assert refused.value.code == code and count_rows(Team) == before


def test_names_are_unique_within_a_community_only(db, place):
    _c, _o, (a, b, _c2), stranger = place
    teams.create_team(a, "好邻居队")
    before = count_rows(Team)
    with pytest.raises(Conflict) as refused:
        teams.create_team(b, "好邻居队")
    assert refused.value.code == "team_name_taken" and count_rows(Team) == before
    assert teams.current_team(b) is None
    assert teams.create_team(stranger, "好邻居队").community_id != teams.current_team(a).community_id


def test_one_team_at_a_time(db, place):
    _c, _o, (a, b, c), _s = place
    first = teams.create_team(a, "第一队")
    second = teams.create_team(b, "第二队")
    with pytest.raises(Conflict) as refused:
        teams.join_team(a, second.id)
    assert refused.value.code == "already_in_team"
    with pytest.raises(Conflict) as refused:
        teams.join_team(a, first.id)
    assert refused.value.code == "already_in_team"
    before = count_rows(Team)
    with pytest.raises(Conflict) as refused:
        teams.create_team(a, "第三队")
    assert refused.value.code == "already_in_team" and count_rows(Team) == before
    teams.join_team(c, first.id)
    assert members_of(db, first.id) == {a.id, c.id}
    teams.leave_team(a)
    assert members_of(db, first.id) == {c.id} and teams.current_team(a) is None
    with pytest.raises(Conflict) as refused:
        teams.leave_team(a)
    assert refused.value.code == "not_in_team"
    teams.join_team(a, second.id)  # free again
    assert members_of(db, second.id) == {a.id, b.id}


def test_only_volunteers_of_the_teams_community_join(db, place):
    _c, _o, (a, *_), stranger = place
    team = teams.create_team(a, "本社区队")
    with pytest.raises(NotFound):
        teams.join_team(stranger, team.id)  # another community's team
    for missing in (2_000_000_000, 0, -1, "1", None):
        with pytest.raises(NotFound):
            teams.join_team(stranger, missing)
    worker = user_by_phone(DEMO.grid_worker)
    with pytest.raises(Forbidden):
        teams.create_team(worker, "网格员队")
    with pytest.raises(Forbidden):
        teams.join_team(user_by_phone(DEMO.admin), team.id)
    team.active = False
    db.session.commit()
    with pytest.raises(NotFound):
        teams.join_team(place[2][1], team.id)


def test_listing_masks_members_and_counts_them(db, place):
    community, _o, (a, b, c), _s = place
    team = teams.create_team(a, "列表队", "有事找我们")
    teams.join_team(c, team.id)
    empty = teams.create_team(b, "空队")
    teams.leave_team(b)
    listed = teams.community_teams(a, community.id)
    assert [(t.name, t.member_count, t.members, t.is_mine) for t in listed] == [
        ("列表队", 2, ["欧**华", "张伟"], True),
        ("空队", 0, [], False),
    ]
    assert listed[1].id == empty.id
    with pytest.raises(NotFound):
        teams.community_teams(a, 2_000_000_000)


def test_team_points_count_only_while_members(db, place):
    community, _o, (a, b, _c), _s = place
    today = date(2024, 5, 15)
    team = create(a, "积分队", local(2024, 5, 5))
    award(a, community.id, 3, local(2024, 5, 4))  # before the team existed
    award(a, community.id, 5, local(2024, 5, 6))
    award(b, community.id, 7, local(2024, 5, 6))  # before b joined
    join(b, team.id, local(2024, 5, 7))
    award(b, community.id, 11, local(2024, 5, 8))
    leave(b, local(2024, 5, 9))
    award(b, community.id, 13, local(2024, 5, 10))  # after b left
    db.session.commit()
    rows = honour.board(f"community:{community.id}", "month", "teams", today=today)
    assert [(r.name, r.points, r.members) for r in rows] == [("积分队", 16, 1)]
    assert honour.team_points(community.id, "month", today) == {team.id: 16}


def test_demo_team_is_idempotent(db, place):
    community, _o, people, stranger = place

    def memberships(team_id):
        stmt = sa.select(TeamMembership).where(TeamMembership.team_id == team_id)
        return {m.user_id: m.joined_at for m in db.session.scalars(stmt)}

    first = seed_demo_teams(community.id, people)
    assert first.name == DEMO_TEAM and members_of(db, first.id) == {p.id for p in people}
    joined = memberships(first.id)
    assert all(at < clock.now() - timedelta(days=30) for at in joined.values())  # past visits count
    rows = count_rows(TeamMembership), count_rows(Team)
    again = seed_demo_teams(community.id, people)
    assert again.id == first.id and memberships(first.id) == joined
    assert (count_rows(TeamMembership), count_rows(Team)) == rows
    with pytest.raises(ValueError):
        seed_demo_teams(community.id, [stranger])  # not of that community
