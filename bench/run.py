"""`python -m bench` (`make bench`): build or reuse the city, serve it, load it, report.

Exit status: 0 when everything was measured (whether or not the targets were
met; --strict makes a missed target exit 1), 2 when the run could not be made.
"""

import os
import sys
import threading
import time
from importlib import metadata

import sqlalchemy as sa

from bench import drivers, report, weight
from bench.client import Session
from bench.database import BenchError, prepare, safe_url
from bench.scenarios import ROWS, SCENARIOS, TRIVIAL
from bench.server import serving
from bench.settings import ROOT, Settings, parse

# Reads first, then the scenarios that write (claims, visits). The trivial
# route runs first in the same server, for the ratios.
ORDER = (
    "trivial",
    "healthz",
    "board",
    "task",
    "points",
    "honour-community",
    "honour-city",
    "households",
    "warnings",
    "dashboard",
    "claim",
    "visit",
)
CHEAP_HASH = (
    "pbkdf2:sha256:1000"  # for the bench volunteers the fixtures make; no measured request checks one
)


def main(argv: list[str] | None = None) -> int:
    settings = parse(argv)
    settings.out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    machine = report.hardware()
    try:
        database = prepare(settings, settings.out / "seed.log")
        print("== finding the ids and preparing visits (SQL and the app's services)", flush=True)
        plan, city = _plan(settings)
        results, notes, problems = {}, [], {}
        print(f"== gunicorn, {settings.workers} workers, APP_ENV=production, rate limits off", flush=True)
        with serving(settings, settings.out / "server.log") as server:
            for key in _chosen(settings):
                _measure(key, plan, settings, server, results, notes, problems)
            host = server.base.removeprefix("http://")
            address, port = host.split(":")
            print("== page weight", flush=True)
            weights = weight.measure(
                plan, lambda: Session(drivers.HttpTransport(address, int(port), _drop), host)
            )
    except BenchError as error:
        print(f"\n!!! {error}", file=sys.stderr)
        return 2
    report.judge(results)
    notes += _notes(settings, machine, weights)
    verdicts = [r["pass"] for r in results.values() if r.get("pass") is not None] + [
        w["pass"] for w in weights
    ]
    document = {
        "date": started,
        "git": report.git_commit(ROOT),
        "hardware": machine,
        "load_average_after": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "database": {**database, **city, "url": safe_url(settings.database_url), "data": settings.data,
                     "households_asked": settings.households if settings.data == "scale" else None,
                     "seed": settings.seed if settings.data == "scale" else None},
        "settings": {"clients": settings.clients, "warmup_s": settings.warmup, "duration_s": settings.duration,
                     "visits": settings.visits, "gunicorn_workers": settings.workers, "driver": settings.driver,
                     "locust": _version("locust") if settings.driver == "locust" else None,
                     "gunicorn": _version("gunicorn")},
        "fixtures": _fixtures(plan),
        "results": results,
        "page_weight": weights,
        "targets": {"met": sum(1 for v in verdicts if v), "of": len(verdicts)},
        "notes": notes,
        "problems": problems,
    }  # fmt: skip
    path = report.write_json(settings.out, document)
    _print_summary(settings, city, results, weights, notes, problems, document["targets"], path)
    return 1 if settings.strict and not all(verdicts) else 0


def _fixtures(plan: dict) -> dict:
    """The ids the run used (no phones, passwords or tokens)."""
    return {
        "volunteer_id": plan["volunteer"]["id"],
        "task_id": plan["task_id"],
        "grid_worker_id": plan["grid_worker"]["id"],
        "community_worker_id": plan["community_worker"]["id"],
        "community_scope": plan["community_scope"],
        "city_scope": plan["city_scope"],
        "claimers": [{"id": c["id"], "task_id": c["task_id"]} for c in plan["claimers"]],
        "visits_prepared": len(plan["visits"]),
        "dashboard_path": plan["dashboard_path"],
    }


def _drop(_sample) -> None:
    """Page-weight requests are not timed."""


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _chosen(settings: Settings) -> list[str]:
    if not settings.only:
        return list(ORDER)
    unknown = set(settings.only) - set(ORDER)
    if unknown:
        raise BenchError(f"unknown scenarios {', '.join(sorted(unknown))}; choose from {', '.join(ORDER)}")
    return [key for key in ORDER if key == TRIVIAL or key in settings.only]


def _plan(settings: Settings) -> tuple[dict, dict]:
    """The plan, made in this process by the app itself (development settings, bench keys)."""
    os.environ.update(settings.app_environment("development"))
    from app import create_app
    from app.extensions import db
    from app.models import Claim, Household, LedgerEntry, Task, User
    from bench.fixtures import build_plan

    app = create_app("development", PASSWORD_HASH_METHOD=CHEAP_HASH)
    plan = build_plan(app, settings.clients, settings.visits)
    with app.app_context():
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        postgres = db.engine.dialect.name == "postgresql"
        version = db.session.scalar(sa.text("SELECT version()" if postgres else "SELECT sqlite_version()"))
        city = {
            "dialect": db.engine.dialect.name,
            "server_version": version,
            "rows_before_run": {
                m.__tablename__: count(m) for m in (Household, User, Task, Claim, LedgerEntry)
            },
        }
        db.session.remove()
        db.engine.dispose()
    return plan, city


def _measure(key, plan, settings, server, results, notes, problems) -> None:
    scenario = SCENARIOS[key]
    if scenario.needs and not plan.get(scenario.needs):
        results.update({row: {"not_built": True} for row in scenario.rows})
        print(f"   {key:<18} not built", flush=True)
        return
    with _CpuReadings(server) as readings:
        run = drivers.run(key, plan, settings, server.base)
    numbers, window = report.summarize(
        run, scenario.rows, settings.warmup, settings.duration, pooled=bool(scenario.pool)
    )
    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    cpu_ms = report.cpu_per_request(readings, run.samples, *window) if window else None
    for row in numbers.values():
        row["load_1m_after"] = load  # how busy the machine was (others' work included)
        row["app_cpu_ms_per_request"] = cpu_ms  # gunicorn's, over every request of the window
    results.update(numbers)
    notes += run.notes
    if run.problems:
        problems[key] = run.problems
    shown = ", ".join(
        f"{row} p95 {n['p95_ms']} ms, {n['rps']} req/s, {n['errors']} errors" for row, n in numbers.items()
    )
    print(f"   {key:<18} {shown}", flush=True)


class _CpuReadings(list):
    """(time, gunicorn's CPU seconds) twice a second while a scenario runs."""

    def __init__(self, server, every: float = 0.5):
        super().__init__()
        self._server, self._every = server, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        while True:
            cpu = self._server.cpu_seconds()
            if cpu is not None:
                self.append((time.time(), cpu))
            if self._stop.wait(self._every):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join()


def _notes(settings: Settings, machine: dict, weights: list[dict]) -> list[str]:
    notes = []
    if settings.data == "demo":
        notes.append(
            "DEMO DATA (flask seed-demo), not the city of 50 000 households: not comparable with the targets."
        )
    load = (machine.get("load_average") or [0])[0]
    if load > 0.5:
        notes.append(
            f"The machine was busy before the run (1-minute load average {load:.2f} on {machine['nproc']} cores): "
            "other processes shared the CPU."
        )
    notes.append("Load generator, gunicorn and the database share the same machine and cores.")
    if not any(w["served_compressed"] for w in weights):
        notes.append(
            "The app and gunicorn do not compress: page weight counts text gzip-6 as a reverse proxy would send it."
        )
    return notes


def _print_summary(settings, city, results, weights, notes, problems, targets, path) -> None:
    print()
    rows = city["rows_before_run"]
    print(
        f"{settings.data} data on {city['dialect']}: {rows['household']} households, {rows['user_account']} users, "
        f"{rows['task']} tasks, {rows['claim']} claims, {rows['ledger_entry']} ledger entries; "
        f"{settings.clients} clients, {settings.driver}, {settings.workers} gunicorn workers"
    )
    print(report.table({key: results[key] for key in ROWS if key in results}))
    print()
    print(report.weight_table(weights))
    print()
    for note in notes:
        print(f"note: {note}")
    for key, found in problems.items():
        print(f"problems in {key} (first {len(found)}): " + "; ".join(found[:3]))
    print(f"targets met: {targets['met']} of {targets['of']}")
    print(f"results: {path}")
