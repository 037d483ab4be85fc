"""The honour board page, the notice-board display (HTML, data.json, QR codes)
and the team pages, through the client."""

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app import clock
from app.extensions import db
from app.models import Community, Grid, Role, Team, TeamMembership
from app.services import teams
from tests.factories import make_tree, make_user
from tests.services.test_honour import at_time, award

PASSWORD = "test-pass-8642"


def community_one_grid() -> Grid:
    return db.session.scalar(sa.select(Grid).join(Community).order_by(Community.id, Grid.id).limit(1))


def new_volunteer(grid_id: int, name: str, show_full_name: bool = False):
    user = make_user(Role.VOLUNTEER, PASSWORD, grid_id=grid_id)
    user.name, user.show_full_name = name, show_full_name
    db.session.commit()
    return user


@pytest.fixture
def board(app):
    """Two volunteers of the first community with points this month, one in a team."""
    with app.app_context():
        grid = community_one_grid()
        hidden = new_volunteer(grid.id, "欧阳秀华")
        shown = new_volunteer(grid.id, "司马相如", show_full_name=True)
        at_time(clock.now() - timedelta(minutes=1), lambda: teams.create_team(shown, "相如队"))
        award(hidden, grid.community_id, 900, clock.now() - timedelta(seconds=5))
        award(shown, grid.community_id, 800, clock.now() - timedelta(seconds=5))
        db.session.commit()
        return {
            "community_id": grid.community_id,
            "phones": [hidden.phone, shown.phone],
            "ids": [hidden.id, shown.id],
        }


def login(client, phone, password=PASSWORD):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": password})
    assert response.status_code == 302


def assert_private(html: str, board: dict):
    for phone in board["phones"]:
        assert phone not in html
    assert "欧阳秀华" not in html  # masked: 欧**华
    first, second = board["ids"]
    assert not re.search(rf'user_id|"id"\s*:\s*({first}|{second})\b', html)


def test_honour_board_page_is_public(client, board):
    page = client.get("/honour-board")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'selected value="community:{board["community_id"]}"' in html  # the first community by default
    assert "欧**华" in html and "司马相如" in html and "相如队" in html
    assert html.index("欧**华") < html.index("司马相如")  # 900 before 800
    assert_private(html, board)


def test_honour_board_choices(client, board):
    street = client.get("/honour-board?scope=street:1&period=year").get_data(as_text=True)
    assert 'selected value="street:1"' in street and 'selected value="year"' in street
    assert "欧**华" in street
    for bad in ("scope=junk", "scope=community:999999&period=month", "period=decade", "scope=community:x"):
        response = client.get(f"/honour-board?{bad}")
        assert response.status_code == 200, bad
        assert "欧**华" in response.get_data(as_text=True)  # back to the default board


def test_honour_board_defaults_to_the_viewers_community(app, client, board):
    with app.app_context():
        other = make_tree("他处")
        elsewhere = new_volunteer(other["grids"][0].id, "异地人")
        phone, community = elsewhere.phone, other["community"].id
    login(client, phone)
    html = client.get("/honour-board").get_data(as_text=True)
    assert f'selected value="community:{community}"' in html and "欧**华" not in html


def test_display_page_renders_without_script(client, board):
    community = board["community_id"]
    page = client.get(f"/board/{community}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-url="/board/{community}/data.json"' in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
    assert "欧**华" in html and "900" in html  # the same data, rendered on the server
    assert f"/board/{community}/qr/join.png" in html and f"/board/{community}/qr/help.png" in html
    assert "css/board.css" in html and "js/notice-board.js" in html
    assert_private(html, board)


def test_display_data_json(client, board):
    community = board["community_id"]
    response = client.get(f"/board/{community}/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert data["community"]["id"] == community
    assert [(v["name"], v["points"]) for v in data["volunteers"][:2]] == [("欧**华", 900), ("司马相如", 800)]
    assert data["teams"][0]["name"] == "相如队"
    assert set(data["totals"]) == {"services", "hours", "households", "open_needs"}
    assert_private(response.get_data(as_text=True), board)


def decode(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1
    return found[0].text


def test_display_qr_codes(app, client, board):
    community = board["community_id"]
    join = client.get(f"/board/{community}/qr/join.png")
    assert join.status_code == 200 and join.mimetype == "image/png"
    assert decode(join.data) == "http://localhost/auth/register"
    with app.app_context():
        first_grid = db.session.scalar(
            sa.select(Grid.id).where(Grid.community_id == community).order_by(Grid.id)
        )
    assert (
        urlsplit(decode(client.get(f"/board/{community}/qr/help.png").data)).path == f"/help/g/{first_grid}"
    )
    assert client.get(f"/board/{community}/qr/other.png").status_code == 404
    for path in ("/board/2000000000", "/board/2000000000/data.json", "/board/2000000000/qr/join.png"):
        assert client.get(path).status_code == 404


def test_teams_page_needs_a_login(client):
    response = client.get("/teams")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_volunteer_creates_joins_and_leaves(app, client):
    with app.app_context():
        grid = community_one_grid()
        first, second = new_volunteer(grid.id, "甲队员"), new_volunteer(grid.id, "乙队员")
        ids, phones = (first.id, second.id), (first.phone, second.phone)
    login(client, phones[0])
    page = client.get("/teams").get_data(as_text=True)
    assert 'action="/teams"' in page  # the create form
    refused = client.post("/teams", data={"name": "队", "motto": ""})
    assert refused.status_code == 422 and 'id="name-errors"' in refused.get_data(as_text=True)
    assert client.post("/teams", data={"name": "网页队", "motto": "有求必应"}).status_code == 302
    with app.app_context():
        team = db.session.scalar(sa.select(Team).where(Team.name == "网页队"))
        team_id = team.id
    again = client.post("/teams", data={"name": "第二个队"}, follow_redirects=True)
    assert again.status_code == 200 and "网页队" in again.get_data(as_text=True)

    login(client, phones[1])
    page = client.get("/teams").get_data(as_text=True)
    assert f'action="/teams/{team_id}/join"' in page and "甲*员" in page
    assert client.post(f"/teams/{team_id}/join").status_code == 302
    with app.app_context():
        members = set(
            db.session.scalars(
                sa.select(TeamMembership.user_id).where(
                    TeamMembership.team_id == team_id, TeamMembership.left_at.is_(None)
                )
            )
        )
        assert members == set(ids)
        assert db.session.scalar(sa.select(sa.func.count(Team.id)).where(Team.name == "第二个队")) == 0
    assert client.post("/teams/leave").status_code == 302
    assert client.post("/teams/leave", follow_redirects=True).status_code == 200  # not in a team: a message
    with app.app_context():
        assert teams.current_membership(ids[1]) is None


def test_staff_see_teams_without_forms(client):
    login(client, "13800000003", "demo1234")
    page = client.get("/teams")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'action="/teams"' not in html and "/join" not in html


def test_joining_a_team_of_another_community_is_not_found(app, client):
    """Once a flash and a redirect; a team URL outside the volunteer's community is 404 like any
    object URL, and a user who is no volunteer is refused with 403 (joining or creating)."""
    with app.app_context():
        first = community_one_grid()
        other_grid = db.session.scalar(
            sa.select(Grid.id).where(Grid.community_id != first.community_id).order_by(Grid.id).limit(1)
        )
        team_id = teams.create_team(new_volunteer(first.id, "甲队长"), "邻里一队").id
        outsider = new_volunteer(other_grid, "乙队员").phone
    login(client, outsider)
    assert client.post(f"/teams/{team_id}/join").status_code == 404
    client.post("/auth/logout")
    login(client, "13800000005", "demo1234")  # the demo resident
    assert client.post(f"/teams/{team_id}/join").status_code == 403
    assert client.post("/teams", data={"name": "居民队", "motto": ""}).status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(TeamMembership)
                .where(TeamMembership.team_id == team_id)
            )
            == 1
        )


def test_the_long_select_writes_what_wtforms_writes():
    """The board's scope select (LongSelect, a city's ~190 options) renders
    exactly as WTForms' own Select would, escaping included."""
    from wtforms import Form, SelectField
    from wtforms.fields.choices import SelectChoice

    from app.blueprints.forms import LongSelect

    choices = [
        SelectChoice("community:1", "东<街> & 西", optgroup="社区"),
        SelectChoice('street:"2"', "街道", optgroup="街道"),
        SelectChoice("city:1", "", optgroup="全市"),
    ]

    class Choice(Form):
        plain = SelectField(choices=choices)
        long = SelectField(choices=choices, widget=LongSelect())

    form = Choice(data={"plain": 'street:"2"', "long": 'street:"2"'})
    long = str(form.long())
    assert long == str(form.plain()).replace('"plain"', '"long"')
    assert "东&lt;街&gt; &amp; 西" in long and '<option selected value="street:&#34;2&#34;">' in long
