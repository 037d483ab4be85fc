"""Smoke test of `make bench` (bench/): the whole harness, for under a second a page.

`python -m bench --data demo` takes a copy of the test run's SQLite demo
database (it reuses a city whose marker matches; building one is what
`make bench` itself does, and would double this test's time), finds its ids
by SQL, prepares visits, serves it with gunicorn (2 workers) and drives every
scenario with 2 clients of the built-in threads driver (locust is in
requirements-bench.txt, which `make test` does not install), then measures
page weight and writes the table and the JSON. The numbers mean nothing
here; that they all come out, and that the writes really happened, is what
is checked. Skipped in the PostgreSQL pass (the bench uses its own database
either way) and if gunicorn cannot start.
"""

import json
import os
import sqlite3
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.database import wanted_marker, write_marker
from bench.report import percentile
from bench.scenarios import ROWS, SCENARIOS
from bench.settings import parse

ROOT = Path(__file__).resolve().parent.parent
WEIGHED = {key for key, scenario in SCENARIOS.items() if scenario.weight_path} | {"confirm-page"}

needs_sqlite_pass = pytest.mark.skipif(
    os.environ.get("TEST_DB") == "postgres", reason="the bench smoke test runs in the SQLite pass"
)


@pytest.fixture(scope="module")
def bench_run(_app, tmp_path_factory):
    """One short bench run on a copy of the test run's demo database (migrated and
    seeded once for every test), which the bench finds marked as its city and
    reuses, served with the keys it was seeded with."""
    out = tmp_path_factory.mktemp("bench")
    database = out / "bench.db"
    source = sqlite3.connect(sa.engine.make_url(_app.config["SQLALCHEMY_DATABASE_URI"]).database)
    copy = sqlite3.connect(database)
    try:
        source.backup(copy)  # a consistent copy, WAL included
    finally:
        source.close()
        copy.close()
    args = ["--data", "demo", "--database-url", f"sqlite:///{database}", "--driver", "threads",
            "--clients", "2", "--warmup", "0.2", "--duration", "0.6", "--visits", "6", "--workers", "2",
            "--out", str(out)]  # fmt: skip
    keys = {"BENCH_SECRET_KEY": _app.config["SECRET_KEY"], "BENCH_DATA_KEY": _app.config["DATA_KEY"]}
    settings = replace(parse(args), secret_key=keys["BENCH_SECRET_KEY"], data_key=keys["BENCH_DATA_KEY"])
    engine = sa.create_engine(f"sqlite:///{database}")
    write_marker(engine, {"city": wanted_marker(settings)})
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "APP_ENV", "DATABASE_URL"))}
    answer = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env=env | keys,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if "gunicorn did not start" in answer.stderr:
        pytest.skip(f"gunicorn could not start on SQLite here: {answer.stderr[-500:]}")
    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-3000:]
    assert "reusing the bench city" in answer.stdout
    (document,) = [json.loads(path.read_text()) for path in out.glob("bench-*.json")]
    return answer.stdout, document, database


@needs_sqlite_pass
def test_the_table_shows_every_page_and_the_page_weights(bench_run):
    stdout, document, _db = bench_run
    table = stdout[stdout.index("page   ") :]
    for key, row in ROWS.items():
        line = next(line for line in table.splitlines() if line.startswith(row.title[:36]))
        if document["results"][key].get("not_built"):
            assert "not built" in line
        else:
            assert line.split()[-1] in ("pass", "FAIL", "-"), line
    for weight in document["page_weight"]:
        assert any(line.startswith(weight["title"][:36]) and "KB" in line for line in table.splitlines())
    assert "targets met:" in stdout and "DEMO DATA" in stdout


@needs_sqlite_pass
def test_the_json_holds_every_number(bench_run):
    _stdout, document, _db = bench_run
    assert set(document["results"]) == set(ROWS)
    for key, numbers in document["results"].items():
        if numbers.get("not_built"):
            assert key == "dashboard"
            continue
        assert numbers["n"] > 0 and numbers["errors"] == 0, (key, numbers, document["problems"])
        assert 0 < numbers["p50_ms"] <= numbers["p95_ms"] <= numbers["p99_ms"] <= numbers["max_ms"]
        assert numbers["rps"] > 0 and numbers["ratio"] > 0
        cpu = numbers["app_cpu_ms_per_request"]
        # Sampled a few times a second: a window this short may hold fewer than two readings.
        assert cpu is None or cpu > 0
    assert document["results"]["trivial"]["ratio"] == 1.0
    assert {w["key"] for w in document["page_weight"]} == WEIGHED
    for weight in document["page_weight"]:
        assert weight["files"][0]["type"] == "text/html" and "/static/css/app.css" in {
            f["path"] for f in weight["files"]
        }
        assert 0 < weight["gzip_bytes"] < weight["raw_bytes"]
    assert document["hardware"]["nproc"] == os.cpu_count()
    assert document["database"]["data"] == "demo" and document["database"]["rows_before_run"]["household"] > 0
    assert document["settings"]["driver"] == "threads" and document["settings"]["clients"] == 2


@needs_sqlite_pass
def test_the_writes_really_happened(bench_run):
    """Counted in the database itself: every confirmed visit paid once; every claim given back."""
    _stdout, document, database = bench_run
    confirm = document["results"]["confirm"]
    claimers = document["fixtures"]["claimers"]
    with sqlite3.connect(database) as conn:
        confirmed = conn.execute(
            "SELECT count(*) FROM claim JOIN task ON task.id = claim.task_id"
            " WHERE task.description LIKE '压测上门%' AND claim.status = 'CONFIRMED' AND claim.confirmed_via = 'QR'"
        ).fetchone()[0]
        paid = conn.execute(
            "SELECT count(*) FROM ledger_transaction WHERE kind = 'AWARD' AND claim_id IN"
            " (SELECT claim.id FROM claim JOIN task ON task.id = claim.task_id"
            "  WHERE task.description LIKE '压测上门%' AND claim.status = 'CONFIRMED')"
        ).fetchone()[0]
        given_back = [
            conn.execute(
                "SELECT status FROM claim WHERE volunteer_id = ? AND task_id = ?", (c["id"], c["task_id"])
            ).fetchone()
            for c in claimers
        ]
    assert confirmed == confirm["n"] + confirm["unmeasured_n"] > 0
    assert paid == confirmed
    assert len(claimers) == 2 and given_back == [("RELEASED",)] * 2


def test_percentile_matches_the_standard_library():
    values = [12.0, 3.5, 7.25, 99.0, 41.0, 8.0, 15.5, 2.0, 60.0, 33.3]
    cuts = statistics.quantiles(values, n=100, method="inclusive")  # cuts[k - 1] is the k-th percentile
    for k in (50, 95, 99):
        assert percentile(values, k / 100) == pytest.approx(cuts[k - 1]), k
