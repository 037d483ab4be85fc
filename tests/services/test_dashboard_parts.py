"""The dashboard's periods, units, chart geometry, tables and cache, without HTTP."""

import json
import socket
import uuid
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import openpyxl
import pytest

from app import clock
from app.models import Role
from app.services import casework, dashboard, dashboard_cache
from app.services.dashboard_charts import bar_chart, column_chart, fit, nice_scale, svg, text_width
from app.services.dashboard_period import MAX_CUSTOM_DAYS, Period, choose_period, period_containing
from app.services.dashboard_tables import TABLES, build_tables, table_xlsx
from app.services.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO, second_app
from tests.factories import make_household, make_tree, make_user, user_by_phone

# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "day", "first", "last"),
    [
        ("month", date(2031, 2, 14), date(2031, 2, 1), date(2031, 2, 28)),
        ("month", date(2032, 2, 29), date(2032, 2, 1), date(2032, 2, 29)),
        ("month", date(2031, 12, 31), date(2031, 12, 1), date(2031, 12, 31)),
        ("quarter", date(2031, 5, 20), date(2031, 4, 1), date(2031, 6, 30)),
        ("quarter", date(2031, 12, 1), date(2031, 10, 1), date(2031, 12, 31)),
        ("year", date(2031, 7, 1), date(2031, 1, 1), date(2031, 12, 31)),
    ],
)
def test_a_period_is_the_local_month_quarter_or_year_of_a_day(kind, day, first, last):
    assert period_containing(kind, day) == Period(kind, first, last)


def test_period_bounds_are_local_midnights_in_utc():
    period = choose_period("month", date(2031, 4, 15))
    assert period.start == datetime(2031, 3, 31, 16, 0, tzinfo=UTC)
    assert period.end == datetime(2031, 4, 30, 16, 0, tzinfo=UTC)
    assert period.months() == [2031 * 12 + 3]
    one_day = choose_period("custom", first=date(2031, 4, 1), last=date(2031, 4, 1))
    assert one_day.end - one_day.start == timedelta(days=1)


def test_previous_and_next_periods():
    march = choose_period("month", date(2031, 3, 9))
    assert march.previous() == choose_period("month", date(2031, 2, 1))
    assert march.following() == choose_period("month", date(2031, 4, 1))
    q1 = choose_period("quarter", date(2031, 1, 1))
    assert q1.previous() == Period("quarter", date(2030, 10, 1), date(2030, 12, 31))
    assert choose_period("custom", first=date(2031, 1, 1), last=date(2031, 1, 9)).previous() is None
    assert march.query_args() == {"period": "month", "on": "2031-03-01"}


def test_today_is_the_default_day(app):
    clock.freeze(datetime(2031, 3, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 April in Beijing
    try:
        assert choose_period("month") == Period("month", date(2031, 4, 1), date(2031, 4, 30))
    finally:
        clock.freeze(None)


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        (("decade",), "invalid_period", "period"),
        ((None,), "invalid_period", "period"),
        (("month", date(1999, 12, 31)), "invalid_date", "on"),
        (("custom", None, None, date(2031, 1, 1)), "invalid_date", "date_from"),
        (("custom", None, date(2031, 1, 1), None), "invalid_date", "date_to"),
        (("custom", None, date(2031, 2, 1), date(2031, 1, 31)), "invalid_range", "date_to"),
        (
            ("custom", None, date(2020, 1, 1), date(2020, 1, 1) + timedelta(days=MAX_CUSTOM_DAYS)),
            "invalid_range",
            "date_to",
        ),
        (("custom", None, "2031-01-01", date(2031, 1, 2)), "invalid_date", "date_from"),
    ],
)
def test_bad_periods_are_refused_with_the_field_at_fault(args, code, field):
    with pytest.raises(InvalidInput) as refused:
        choose_period(*args)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_the_longest_range_is_allowed():
    first = date(2020, 1, 1)
    period = choose_period("custom", first=first, last=first + timedelta(days=MAX_CUSTOM_DAYS - 1))
    assert len(period.months()) == 37


# --- units -----------------------------------------------------------------------------------


def test_each_role_sees_its_own_unit_and_those_below(db):
    tree = make_tree("单元")
    community, (grid_1, grid_2) = tree["community"], tree["grids"]
    worker = make_user(Role.COMMUNITY_WORKER, community_id=community.id)
    keys = [key for key, _name in dashboard.unit_choices(worker)]
    assert keys == [f"community:{community.id}", f"grid:{grid_1.id}", f"grid:{grid_2.id}"]
    assert dashboard.resolve_unit(worker, "").key == f"community:{community.id}"
    assert dashboard.resolve_unit(worker, f"grid:{grid_2.id}").name == f"{community.name} · {grid_2.name}"
    officer = make_user(Role.STREET_OFFICER, street_id=tree["street"].id)
    assert [k for k, _ in dashboard.unit_choices(officer)][:2] == [
        f"street:{tree['street'].id}",
        f"community:{community.id}",
    ]
    admin = user_by_phone(DEMO.admin)
    assert dashboard.unit_choices(admin)[0][0] == "all"
    assert dashboard.resolve_unit(admin, f"grid:{grid_1.id}").level == "grid"  # by URL, though not listed


def test_units_outside_the_scope_are_not_found(db):
    tree = make_tree("单元外")
    worker = user_by_phone(DEMO.community_worker)
    grid_worker = user_by_phone(DEMO.grid_worker)
    for key in (
        f"community:{tree['community'].id}",
        f"grid:{tree['grids'][0].id}",
        f"street:{tree['street'].id}",
        "all",
        "grid:2147483647",
        "community:999999",
    ):
        with pytest.raises(NotFound):
            dashboard.resolve_unit(worker, key)
    with pytest.raises(NotFound):
        dashboard.resolve_unit(grid_worker, f"community:{worker.community_id}")
    for bad in ("community", "community:", "community:-1", "grid:1x", "city:1", "grid:99999999999"):
        with pytest.raises(InvalidInput):
            dashboard.resolve_unit(worker, bad)
    with pytest.raises(Forbidden):
        dashboard.resolve_unit(user_by_phone(DEMO.volunteer), "")


# --- charts ----------------------------------------------------------------------------------


def test_nice_scales():
    assert nice_scale(0) == (4.0, 1.0)
    assert nice_scale(3) == (3, 1.0)
    assert nice_scale(320) == (400, 100.0)
    assert nice_scale(7.2, whole=False) == (8.0, 2.0)
    assert nice_scale(0.4, whole=False) == pytest.approx((0.4, 0.1))


def test_labels_are_measured_and_cut_to_fit():
    assert text_width("低保") == 28 and text_width("ab") == pytest.approx(15.68)
    assert fit("高龄老人（80岁以上）", 60).endswith("…")
    assert text_width(fit("高龄老人（80岁以上）", 60)) <= 60
    assert fit("家政", 60) == "家政"


def test_bars_are_as_long_as_their_values():
    chart = bar_chart(["甲", "乙", "丙"], ["户数"], [[4], [2], [0]])
    widths = [r.width for r in chart.rects]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert [t.text for t in chart.texts if t.css == "value"] == ["4", "2", "0"]
    assert not chart.legend  # one series: no legend
    grouped = bar_chart(["甲"], ["a", "b"], [[1, None]])
    assert len(grouped.rects) == 1 and len(grouped.legend) == 2


def test_columns_are_as_tall_as_their_values():
    chart = column_chart(["2031-01", "2031-02"], ["visits"], [[3], [6]])
    heights = [r.height for r in chart.rects]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert all(
        r.y + r.height == pytest.approx(chart.rects[0].y + heights[0]) for r in chart.rects
    )  # one baseline
    many = column_chart([f"m{i}" for i in range(36)], ["v"], [[1]] * 36)
    assert len([t for t in many.texts if t.css == "axis" and t.text.startswith("m")]) == 12


# --- tables and XLSX ----------------------------------------------------------------------------


def _figures(db, today=None):
    unit = dashboard.own_unit(user_by_phone(DEMO.community_worker))
    return dashboard.compute(unit, choose_period("year", today or clock.today()), today or clock.today())


def test_every_table_is_built_in_order(db):
    figures = {**_figures(db), "computed_at": clock.now().isoformat()}
    tables = build_tables(figures)
    assert tuple(tables) == TABLES
    summary = dict(tables["summary"].rows)
    assert len(summary) == 14
    assert all(len(row) == len(t.columns) for t in tables.values() for row in t.rows)


def test_xlsx_holds_the_table_and_text_never_becomes_a_formula(db):
    figures = {**_figures(db), "computed_at": clock.now().isoformat()}
    table = build_tables(figures)["needs"]
    table.rows.append(['=HYPERLINK("http://evil","x")', 1, 0, 0, 1])
    book = openpyxl.load_workbook(BytesIO(table_xlsx(table, [("Area", "=1+1")])))
    sheet = book.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values == [table.columns, *table.rows]
    assert sheet.cell(row=len(values), column=1).data_type == "s"
    assert book.worksheets[1]["B1"].value == "=1+1" and book.worksheets[1]["B1"].data_type == "s"


# --- the cache ---------------------------------------------------------------------------------


@pytest.fixture
def cache_on(app):
    app.config["DASHBOARD_REFRESH_SECONDS"] = 300
    app.extensions.pop("dashboard_cache", None)
    yield
    app.config["DASHBOARD_REFRESH_SECONDS"] = 0
    app.extensions.pop("dashboard_cache", None)
    clock.freeze(None)


def _add_need(worker, household_id):
    casework.add_need(worker, household_id, casework.NeedData("visiting", "缓存测试"))


def test_figures_are_kept_for_the_refresh_period_then_recomputed(db, cache_on):
    worker = user_by_phone(DEMO.grid_worker)
    unit = dashboard.resolve_unit(worker, "")
    now = datetime(2031, 8, 1, 2, 0, tzinfo=UTC)
    clock.freeze(now)
    home = make_household(worker, building="缓存楼")
    period = choose_period("month")

    def opened():
        figures = dashboard.figures(unit, period)
        return sum(n["opened"] for n in figures["needs"].values()), figures["computed_at"]

    assert opened() == (0, now.isoformat())
    _add_need(worker, home.id)
    clock.freeze(now + timedelta(minutes=4, seconds=59))
    assert opened() == (0, now.isoformat())  # stale by less than five minutes, and says when it was made
    clock.freeze(now + timedelta(minutes=5))
    assert opened() == (1, (now + timedelta(minutes=5)).isoformat())
    other = choose_period("custom", first=period.first, last=period.last + timedelta(days=1))
    assert sum(n["opened"] for n in dashboard.figures(unit, other)["needs"].values()) == 1  # its own key


def test_a_setting_of_zero_computes_every_time(db, app):
    assert app.config["DASHBOARD_REFRESH_SECONDS"] == 0
    worker = user_by_phone(DEMO.grid_worker)
    unit = dashboard.resolve_unit(worker, "")
    home = make_household(worker, building="不缓存楼")
    period = choose_period("month")
    before = sum(n["opened"] for n in dashboard.figures(unit, period)["needs"].values())
    _add_need(worker, home.id)
    assert sum(n["opened"] for n in dashboard.figures(unit, period)["needs"].values()) == before + 1


def test_the_memory_store_drops_the_least_recently_used():
    store = dashboard_cache.MemoryStore(size=2)
    store.set("a", "1", 300)
    store.set("b", "2", 300)
    store.get("a")
    store.set("c", "3", 300)
    assert (store.get("a"), store.get("b"), store.get("c")) == ("1", None, "3")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_every_app_process_shares_the_figures(app):
    settings = {
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "DASHBOARD_REFRESH_SECONDS": 300,
        "DASHBOARD_CACHE_PREFIX": f"test-dash-{uuid.uuid4().hex}:",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    calls = []

    def compute():
        calls.append(1)
        return {"answer": 42}

    with second_app(**settings) as first, first.app_context():
        assert isinstance(dashboard_cache.store(), dashboard_cache.RedisStore)
        made = dashboard_cache.cached("k", compute)
    with second_app(**settings) as other, other.app_context():
        assert dashboard_cache.cached("k", compute) == made
        dashboard_cache.store().clear()
    assert len(calls) == 1 and json.dumps(made)


def test_an_unreachable_redis_computes_instead_of_failing(app):
    settings = {"REDIS_URL": "redis://127.0.0.1:1/0", "DASHBOARD_REFRESH_SECONDS": 300}
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    with second_app(SQLALCHEMY_DATABASE_URI=database, **settings) as other, other.app_context():
        assert dashboard_cache.cached("k", lambda: {"n": 1})["n"] == 1


def test_the_svg_names_itself_and_escapes_every_text():
    chart = bar_chart(["<script>x</script>"], ["a&b"], [[3]])
    markup = str(svg(chart, "chart-x", "Title <i>", "Desc"))
    assert markup.startswith('<svg class="chart" viewBox="0 0 480 ')
    assert 'role="img" aria-labelledby="chart-x-title chart-x-desc"' in markup
    assert '<title id="chart-x-title">Title &lt;i&gt;</title><desc id="chart-x-desc">Desc</desc>' in markup
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "a&amp;b" in markup
    assert "style=" not in markup


def test_text_made_from_figures_is_kept_while_they_are(app, cache_on):
    made = []

    def make():
        made.append(1)
        return f"page {len(made)}"

    with app.app_context():
        assert dashboard_cache.cached_text("html|k|t1", make) == "page 1"
        assert dashboard_cache.cached_text("html|k|t1", make) == "page 1"
        assert dashboard_cache.cached_text("html|k|t2", make) == "page 2"  # new figures, new text
