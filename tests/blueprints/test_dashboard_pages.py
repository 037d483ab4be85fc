"""The dashboard pages through HTTP: who sees which area (another community's
figures answer 404 like a missing one), bad period choices answered with a
form error and never a 500, every XLSX download equal to the table shown,
downloads audit-logged, and the same number of SQL statements per request
whatever the amount of data."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db as _db
from app.models import AuditEntry, Grid, Role, ServiceType
from app.services import casework, dashboard, dashboard_cache, tasks
from app.services.dashboard_tables import TABLES
from tests.conftest import DEMO
from tests.dashboard_world import at, go, local, need, post
from tests.factories import make_household, make_tree, make_user, user_by_phone
from tests.querycount import count_statements


class TableReader(HTMLParser):
    """The cells' text of every <table id="table-…"> on a page, by key."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._key = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._key = attrs["id"].removeprefix("table-")
            self.tables[self._key] = []
        elif self._key and tag == "tr":
            self.tables[self._key].append([])
        elif self._key and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._key = None
        elif self._key and tag in ("td", "th") and self._cell is not None:
            self.tables[self._key][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    reader = TableReader()
    reader.feed(html)
    return reader.tables


def shown(value) -> str:
    """A workbook value as the page shows it."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def same(text: str):
    """A cell's text, numbers as numbers (a workbook keeps 2.0 as 2)."""
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


def workbook_rows(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture(autouse=True)
def _real_clock_after():
    yield
    clock.freeze(None)


def range_for_demo() -> str:
    """A custom range over the demo's five months of history (made relative to today)."""
    today = clock.today()
    return f"period=custom&from={(today - timedelta(days=200)).isoformat()}&to={today.isoformat()}"


# --- who sees what ---------------------------------------------------------------------------


def test_a_community_worker_sees_the_community_dashboard(client, auth):
    auth.login(DEMO.community_worker)
    page = client.get(f"/dashboard/?{range_for_demo()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert html.count('role="img"') >= 6 and "<title id=" in html and "<desc id=" in html
    assert ' style="' not in html
    found = tables_of(html)
    assert set(found) == set(TABLES) - {"summary"}
    services = found["services_month"]
    assert sum(int(row[1]) for row in services[1:]) > 0  # the demo's months of visits


def test_another_communitys_figures_are_not_found(app, client, auth):
    with app.app_context():
        community_2 = user_by_phone(DEMO.community_worker_2).community_id
        grid_of_2 = _db.session.scalar(sa.select(Grid.id).where(Grid.community_id == community_2))
        street = user_by_phone(DEMO.street_officer).street_id
    auth.login(DEMO.community_worker)
    for unit in (
        f"community:{community_2}",
        f"grid:{grid_of_2}",
        f"street:{street}",
        "all",
        "community:999999",
    ):
        assert client.get(f"/dashboard/?unit={unit}").status_code == 404, unit
        assert client.get(f"/dashboard/households.xlsx?unit={unit}").status_code == 404, unit
    auth.logout()
    auth.login(DEMO.grid_worker)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(f"/dashboard/?unit=community:{community_2}").status_code == 404
    with app.app_context():
        own_community = user_by_phone(DEMO.community_worker).community_id
    assert client.get(f"/dashboard/?unit=community:{own_community}").status_code == 404
    auth.logout()
    auth.login(DEMO.street_officer)
    assert client.get(f"/dashboard/?unit=community:{community_2}").status_code == 200
    assert client.get(f"/dashboard/?unit=grid:{grid_of_2}").status_code == 200


def test_volunteers_are_forbidden_and_strangers_sent_to_log_in(client, auth):
    assert client.get("/dashboard/").status_code == 302
    auth.login(DEMO.volunteer)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/needs.xlsx").status_code == 403


def test_a_street_officer_sees_the_sum_of_the_communities(app, client, auth):
    with app.app_context():
        communities = [
            user_by_phone(p).community_id for p in (DEMO.community_worker, DEMO.community_worker_2)
        ]
    auth.login(DEMO.street_officer)
    period = range_for_demo()

    def summary(unit: str = "") -> list:
        data = client.get(f"/dashboard/summary.xlsx?unit={unit}&{period}").data
        return [value for _name, value in workbook_rows(data)[1:]]

    street = summary()
    parts = [summary(f"community:{c}") for c in communities]
    volunteers_and_teams = (8, 9)  # one volunteer may serve in both communities: not additive
    for index, value in enumerate(street):
        if index not in volunteers_and_teams:
            assert value == pytest.approx(sum(p[index] for p in parts)), index
    assert street[6] > 0  # verified visits: the sum is not of zeros
    assert street[8] >= max(p[8] for p in parts)


# --- bad choices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "period=decade",
        "period=month&on=2031-13-45",
        "period=month&on=yesterday",
        "period=month&on=1999-12-31",
        "period=custom",
        "period=custom&from=2031-02-01",
        "period=custom&from=2031-02-01&to=2031-01-01",
        "period=custom&from=2020-01-01&to=2031-01-01",
        "period=custom&from=2031-02-30&to=2031-03-01",
        "unit=community",
        "unit=grid:abc",
        "unit=grid:99999999999999999999",
        "unit=%E7%A4%BE%E5%8C%BA",
    ],
)
def test_bad_choices_get_a_form_error_never_a_500(client, auth, query):
    auth.login(DEMO.community_worker)
    page = client.get(f"/dashboard/?{query}")
    assert page.status_code == 422, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    assert 'class="errors"' in html or "flash-error" in html
    assert "table-needs" not in html  # no figures under a wrong choice
    assert client.get(f"/dashboard/needs.xlsx?{query}").status_code == 422


def test_an_unknown_table_is_not_found(client, auth):
    auth.login(DEMO.community_worker)
    assert client.get("/dashboard/secrets.xlsx").status_code == 404


# --- downloads ----------------------------------------------------------------------------------


def test_every_download_equals_the_table_on_the_page(app, client, auth):
    clock.freeze(datetime.now(UTC).replace(microsecond=0))  # one clock for the page and the downloads
    auth.login(DEMO.community_worker)
    query = range_for_demo()
    html = client.get(f"/dashboard/?{query}").get_data(as_text=True)
    on_page = tables_of(html)
    for key in TABLES:
        answer = client.get(f"/dashboard/{key}.xlsx?{query}")
        assert answer.status_code == 200
        assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert answer.headers["Cache-Control"] == "no-store"
        rows = workbook_rows(answer.data)
        if key == "summary":
            for name, value in rows[1:]:
                assert (
                    f'<span class="stat-value">{shown(value)}</span> <span class="stat-label">{name}</span>'
                    in html
                )
            continue
        assert [[same(shown(v)) for v in row] for row in rows] == [
            [same(t) for t in r] for r in on_page[key]
        ], key
    with app.app_context():
        logged = _db.session.scalars(
            sa.select(AuditEntry.note).where(
                AuditEntry.action == "export", AuditEntry.object_type == "dashboard"
            )
        ).all()
    assert sorted(note.split()[0] for note in logged) == sorted(TABLES)


def test_a_service_named_like_a_formula_is_text_in_the_download(app, client, auth):
    with app.app_context():
        worker = user_by_phone(DEMO.grid_worker)
        _db.session.add(
            ServiceType(code="formula", name_zh="=1+2", name_en="=1+2", skill_code="housekeeping")
        )
        _db.session.commit()
        home = make_household(worker, building="公式楼")
        casework.add_need(worker, home.id, casework.NeedData("formula", "公式"))
    auth.login(DEMO.grid_worker)
    answer = client.get("/dashboard/needs.xlsx")
    sheet = openpyxl.load_workbook(BytesIO(answer.data)).worksheets[0]
    cells = [c for c in sheet["A"] if c.value == "=1+2"]
    assert cells and all(c.data_type == "s" for c in cells)


# --- the page states when its figures were made ------------------------------------------------


def test_the_page_says_when_the_figures_were_made_and_how_often(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_REFRESH_SECONDS", 300)
    monkeypatch.setitem(app.extensions, "dashboard_cache", dashboard_cache.MemoryStore())
    with app.app_context():
        user_by_phone(DEMO.community_worker).locale = "en"
        _db.session.commit()
    clock.freeze(datetime(2031, 8, 1, 1, 7, tzinfo=UTC))  # 09:07 in Beijing
    auth.login(DEMO.community_worker)
    html = client.get("/dashboard/?period=month").get_data(as_text=True)
    assert "Figures as of 09:07, refreshed every 5 minutes." in html
    assert "2031-08-01 – 2031-08-31" in html
    assert "period=month&amp;on=2031-07-01" in html and "period=month&amp;on=2031-09-01" in html


# --- a fixed number of statements per request -----------------------------------------------


def _grid_with(app, visits: int):
    """A fresh community with a grid worker and `visits` verified visits in March 2031."""
    with app.app_context(), app.test_request_context():
        tree = make_tree(f"计数{visits}")
        grid = tree["grids"][0]
        worker = make_user(Role.GRID_WORKER, grid_id=grid.id)
        volunteer = make_user(Role.VOLUNTEER, grid_id=grid.id)
        for i in range(visits):
            home = at(local(2031, 3, 1, 9), make_household, worker, today=local(2031, 3, 1).date())
            wanted = need(worker, home.id, "visiting", local(2031, 3, 1, 10 + i))
            task = post(
                worker, home.id, "visiting", local(2031, 3, 10 + i, 9), local(2031, 3, 2, 9), wanted.id
            )
            at(local(2031, 3, 2, 10), tasks.claim_task, volunteer, task.id)
            go(worker, volunteer, task, local(2031, 3, 10 + i, 9), 30 + i)
        return worker.phone


def test_the_page_sends_the_same_statements_for_one_visit_or_six(app, client, auth):
    counts = []
    for visits in (1, 6):
        phone = _grid_with(app, visits)
        auth.login(phone, "test-pass-8642")
        with count_statements(app) as statements:
            page = client.get("/dashboard/?period=month&on=2031-03-01")
        assert page.status_code == 200
        assert f'<span class="stat-value">{visits}</span>' in page.get_data(as_text=True)
        counts.append(len(statements))
        auth.logout()
    assert counts[0] == counts[1]


def test_unit_names_are_escaped(app, client, auth):
    with app.app_context():
        tree = make_tree("<b>x</b>")
        phone = make_user(Role.COMMUNITY_WORKER, community_id=tree["community"].id).phone
    auth.login(phone, "test-pass-8642")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_dashboard_shows_only_its_own_units(app, client, auth):
    auth.login(DEMO.community_worker)
    html = client.get("/dashboard/").get_data(as_text=True)
    with app.app_context():
        names = dict(dashboard.unit_choices(user_by_phone(DEMO.community_worker)))
        other = user_by_phone(DEMO.community_worker_2).community_id
    assert f'value="community:{other}"' not in html
    assert all(f'value="{key}"' in html for key in names)


def test_a_cached_page_computes_nothing(app, client, auth, monkeypatch):
    """Within the refresh period the figures and their rendering are reused:
    the request only loads the user, the areas to choose from and the unread count."""
    monkeypatch.setitem(app.config, "DASHBOARD_REFRESH_SECONDS", 300)
    monkeypatch.setitem(app.extensions, "dashboard_cache", dashboard_cache.MemoryStore())
    auth.login(DEMO.community_worker)
    with count_statements(app) as first:
        first_page = client.get("/dashboard/?period=year").get_data(as_text=True)
    with count_statements(app) as second:
        second_page = client.get("/dashboard/?period=year").get_data(as_text=True)
    assert len(second) <= 4 < len(first), "\n".join(second)
    assert second_page == first_page
