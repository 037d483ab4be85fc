"""Load benchmark of the busy pages on PostgreSQL (run by hand; not a test).

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/14
    python -m tests.perf_bench prepare --scale 50 --tally-rows 8000000
    python -m tests.perf_bench run --clients 8 --requests 40

`prepare` migrates, loads the demo, adds tests/synthetic_city.py at `scale`
(scale 50: 100 000 volunteers, 50 000 households, 300 000 tasks, 250 000
paid visits) and, to stand for a ledger of ~20 million entries, extra
honour tally rows (volunteer-days of points written directly: the books
check will then report them, which is expected in a benchmark database);
it gives eight synthetic volunteers and a synthetic grid worker the demo
password. `run` starts gunicorn (5 workers: 2 × cores + 1) and `clients`
threads that each log in and request every page `requests` times, then
prints each page's median, p95 and maximum in milliseconds; the claim and
the visit (check-out, confirmation link, the resident's page and
confirmation) each work on rows prepared for them.
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta

import requests
import sqlalchemy as sa

PORT = 5799
_request_ids = itertools.count()
PASSWORD = "demo1234"
BENCH_PHONES = [f"199{n:08d}" for n in range(1, 9)]  # synthetic volunteers 1–8 (same grid group)
WORKER_PHONE = "19900000080"


def bench_app():
    """The app gunicorn serves in the benchmark: rate limits and CSRF off (scripted clients)."""
    from app import create_app

    return create_app(
        "development",
        RATELIMIT_ENABLED=False,
        WTF_CSRF_ENABLED=False,
        HONOUR_CACHE_PREFIX="perf-bench:",
    )


# --- prepare ---------------------------------------------------------------------------------


def prepare(scale: int, tally_rows: int) -> None:
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.services import demo, honour_cache
    from tests import synthetic_city

    app = bench_app()
    with app.app_context():
        upgrade()
        if demo.database_is_empty():
            demo.seed_demo()
        if not db.session.scalar(sa.text("SELECT count(*) FROM street WHERE name LIKE 'SYN%'")):
            started = time.perf_counter()
            synthetic_city.fill(db.session, scale)
            db.session.commit()
            print(f"synthetic city at scale {scale}: {time.perf_counter() - started:.0f} s")
        if tally_rows:
            _extra_tallies(db, tally_rows)
        hashed = generate_password_hash(PASSWORD)
        db.session.execute(
            sa.text("UPDATE user_account SET password_hash = :h WHERE phone IN :phones").bindparams(
                sa.bindparam("phones", expanding=True)
            ),
            {"h": hashed, "phones": [*BENCH_PHONES, WORKER_PHONE]},
        )
        db.session.execute(
            sa.text(
                "INSERT INTO user_role (user_id, role) SELECT id, 'GRID_WORKER' FROM user_account "
                "WHERE phone = :p ON CONFLICT DO NOTHING"
            ),
            {"p": WORKER_PHONE},
        )
        db.session.commit()
        for table in synthetic_city.LARGE_TABLES:
            db.session.execute(sa.text(f"ANALYZE {table}"))
        db.session.commit()
        honour_cache.clear(app)
        for table in ("honour_tally", "ledger_entry", "task", "household", "user_account"):
            count = db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            print(f"{table}: {count}")


def _extra_tallies(db, rows: int) -> None:
    """Volunteer-days of points for the synthetic volunteers over ~3 years, up to `rows` rows in all."""
    have = db.session.scalar(sa.text("SELECT count(*) FROM honour_tally"))
    if have >= rows:
        return
    users = db.session.scalar(sa.text("SELECT count(*) FROM user_account WHERE phone LIKE '199%'"))
    per_user = max(1, (rows - have) // users)
    started = time.perf_counter()
    db.session.execute(
        sa.text(
            """INSERT INTO honour_tally (earner_id, community_id, day, points, awards, reached_at)
               SELECT u.id, g.community_id, current_date - ((u.id * 7 + k * 13) % 1100), 5 + (u.id + k) % 20, 1,
                      (current_date - ((u.id * 7 + k * 13) % 1100))::timestamp + interval '2 hours'
               FROM user_account u JOIN grid g ON g.id = u.grid_id, generate_series(1, :k) k
               WHERE u.phone LIKE '199%'
               ON CONFLICT DO NOTHING"""
        ),
        {"k": per_user},
    )
    from app.services import honour_totals

    honour_totals.rebuild_totals()  # the current periods' totals, from all the tallies
    db.session.commit()
    print(f"extra tally rows ({per_user} per volunteer) and totals: {time.perf_counter() - started:.0f} s")


# --- rows for the writing pages -------------------------------------------------------------------


def _write_rows(clients: int, per_client: int) -> dict:
    """Per client: open tasks to claim, and checked-in visits (with the door token) to check out."""
    from app import clock
    from app.extensions import db
    from app.models import Claim, ClaimStatus, DoorCard, Household, Task, TaskStatus, User
    from app.services import visits

    app = bench_app()
    rows = {}
    with app.app_context(), app.test_request_context():
        now = clock.now()
        for n, phone in enumerate(BENCH_PHONES[:clients]):
            user = db.session.scalar(sa.select(User).where(User.phone == phone))
            first, second = db.session.scalars(
                sa.select(Household.id)
                .where(Household.grid_id == user.grid_id)
                .order_by(Household.id)
                .limit(2)
            ).all()

            def task(household_id: int, starts, status: TaskStatus, taken: int, user=user) -> Task:
                made = Task(
                    household_id=household_id,
                    grid_id=user.grid_id,
                    service_type_code="visiting",
                    description="BENCH",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=6),
                    expected_minutes=60,
                    slots=1,
                    taken=taken,
                    status=status,
                    created_by_id=user.id,
                )
                db.session.add(made)
                return made

            claimable = [
                task(first, now + timedelta(days=90 + n * 10, hours=7 * k), TaskStatus.OPEN, 0)
                for k in range(per_client)
            ]
            visiting = [
                task(second, now - timedelta(minutes=10), TaskStatus.IN_PROGRESS, 1)
                for _ in range(per_client)
            ]
            card = visits.current_card(second) or DoorCard(
                household_id=second, code=f"B{user.id:09d}"[-12:], issued_by_id=user.id
            )
            db.session.add(card)
            db.session.flush()
            db.session.add_all(
                Claim(
                    task_id=t.id,
                    volunteer_id=user.id,
                    status=ClaimStatus.CHECKED_IN,
                    check_in_at=now - timedelta(minutes=5),
                )
                for t in visiting
            )
            rows[phone] = {
                "claim": [t.id for t in claimable],
                "visit": [t.id for t in visiting],
                "door": visits.door_token(card),
            }
        db.session.commit()
    return rows


def _resident(base: str) -> "Client":
    """A client with no login: the resident's phone."""
    resident = Client.__new__(Client)
    resident.http, resident.base, resident.api = requests.Session(), base, {}
    return resident


# --- run ---------------------------------------------------------------------------------------


class Client:
    def __init__(self, base: str, phone: str):
        self.http = requests.Session()
        self.base = base
        answer = self.http.post(
            f"{base}/auth/login", data={"phone": phone, "password": PASSWORD}, allow_redirects=False
        )
        assert answer.status_code == 302, answer.text[:300]
        token = self.http.post(f"{base}/api/v1/auth/token", json={"phone": phone, "password": PASSWORD})
        self.api = {"Authorization": f"Bearer {token.json()['token']}"}

    def timed(
        self, method: str, path: str, api: bool = False, tag: str = "x", **kwargs
    ) -> tuple[float, requests.Response]:
        """(milliseconds seen by the client, response); `tag` goes into the request id, for the server's log."""
        headers = {**(self.api if api else {}), "X-Request-ID": f"{tag}.{next(_request_ids)}"}
        started = time.perf_counter()
        answer = self.http.request(method, self.base + path, headers=headers, allow_redirects=False, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code >= 500:
            raise RuntimeError(f"{method} {path}: {answer.status_code}")
        return elapsed, answer


def _pages(community_id: int, city_id: int, street_id: int, task_id: int) -> list[tuple[str, str, bool]]:
    board = f"scope=community:{community_id}&period=month"
    return [
        ("task board (web)", "/tasks/", False),
        ("task board (API)", "/api/v1/tasks", True),
        ("task detail (web)", f"/tasks/{task_id}", False),
        ("task detail (API)", f"/api/v1/tasks/{task_id}", True),
        ("my points (web)", "/me/points", False),
        ("my points (API)", "/api/v1/me/points", True),
        ("honour board, community month (web)", f"/honour-board?{board}", False),
        ("honour board, community month (API)", f"/api/v1/honour-board?{board}", False),
        ("honour board, city month (API)", f"/api/v1/honour-board?scope=city:{city_id}&period=month", False),
        ("honour board, city all time (API)", f"/api/v1/honour-board?scope=city:{city_id}&period=all", False),
        ("honour board, street year (web)", f"/honour-board?scope=street:{street_id}&period=year", False),
    ]


def run(clients: int, rounds: int, workers: int) -> None:
    from app.extensions import db

    app = bench_app()
    with app.app_context():
        ids = db.session.execute(
            sa.text(
                "SELECT g.community_id, s.city_id, s.id FROM user_account u JOIN grid g ON g.id = u.grid_id "
                "JOIN community c ON c.id = g.community_id JOIN street s ON s.id = c.street_id WHERE u.phone = :p"
            ),
            {"p": BENCH_PHONES[0]},
        ).one()
        task_id = db.session.scalar(
            sa.text(
                "SELECT t.id FROM task t JOIN grid g ON g.id = t.grid_id WHERE g.community_id = :c "
                "AND t.status = 'OPEN' AND t.starts_at > now() ORDER BY t.id LIMIT 1"
            ),
            {"c": ids[0]},
        )
    writes = _write_rows(clients, rounds)
    env = {**os.environ, "RATELIMIT_ENABLED": "0"}
    log_path = "/tmp/perf_bench_server.log"
    server_log = open(log_path, "w")  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{PORT}",
            "tests.perf_bench:bench_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=server_log,
    )
    base = f"http://127.0.0.1:{PORT}"
    times: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    errors: list[str] = []
    guard = threading.Lock()
    pages = _pages(*ids, task_id)
    wall = 0.0
    try:
        _wait_for(base)

        def hit(client: Client, name: str, method: str, path: str, api: bool = False, **kwargs):
            with guard:
                tag = names.setdefault(name, f"p{len(names)}")
            elapsed, answer = client.timed(method, path, api=api, tag=tag, **kwargs)
            with guard:
                times.setdefault(name, []).append(elapsed)
            return answer

        def volunteer(phone: str) -> None:
            try:
                client = Client(base, phone)
                mine = writes[phone]
                for n in range(rounds):
                    for name, path, api in pages:
                        hit(client, name, "GET", path, api)
                    hit(client, "claim (API)", "POST", f"/api/v1/tasks/{mine['claim'][n]}/claim", True)
                    visit, door = mine["visit"][n], {"door_token": mine["door"]}
                    hit(
                        client, "check-out (API)", "POST", f"/api/v1/tasks/{visit}/check-out", True, json=door
                    )
                    answer = hit(
                        client, "confirmation link (API)", "POST", f"/api/v1/tasks/{visit}/confirmation", True
                    )
                    path = "/" + answer.json()["url"].split("/", 3)[3]
                    resident = _resident(base)
                    hit(resident, "resident's page", "GET", path)
                    hit(resident, "resident confirms (award)", "POST", path, data={"rating": "5"})
            except Exception as error:  # reported after the run
                errors.append(f"{phone}: {error!r}")

        def grid_worker() -> None:
            try:
                client = Client(base, WORKER_PHONE)
                for _ in range(rounds):
                    hit(client, "household list (web)", "GET", "/registry/")
                    hit(client, "household list (API)", "GET", "/api/v1/households", True)
                    hit(client, "warning list (web)", "GET", "/registry/warnings")
            except Exception as error:
                errors.append(f"grid worker: {error!r}")

        threads = [threading.Thread(target=volunteer, args=(p,)) for p in BENCH_PHONES[: clients - 1]]
        threads.append(threading.Thread(target=grid_worker))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
    server_times = _server_times(log_path, {tag: name for name, tag in names.items()})
    print(f"{clients} clients, {rounds} rounds, {workers} gunicorn workers, {wall:.0f} s; milliseconds")
    print(
        f"{'page':40} {'n':>4} | {'client: median':>14} {'p95':>7} {'max':>7} | {'server: median':>14} {'p95':>7}"
    )
    for name, found in times.items():
        server = server_times.get(name, [0.0])
        print(
            f"{name:40} {len(found):4} | {statistics.median(found):14.1f} {_p95(found):7.1f} {max(found):7.1f}"
            f" | {statistics.median(server):14.1f} {_p95(server):7.1f}"
        )
    for error in errors:
        print("ERROR", error)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def _server_times(log_path: str, names: dict[str, str]) -> dict[str, list[float]]:
    """Each page's durations as the app logged them (its request log: from the request's start to its response)."""
    found: dict[str, list[float]] = {}
    with open(log_path) as log:
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            tag = str(entry.get("request_id", "")).split(".")[0]
            if tag in names and entry.get("duration_ms") is not None:
                found.setdefault(names[tag], []).append(float(entry["duration_ms"]))
    return found


def _wait_for(base: str) -> None:
    for _ in range(120):
        try:
            if requests.get(base + "/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--scale", type=int, default=50)
    p.add_argument("--tally-rows", type=int, default=0)
    r = sub.add_parser("run")
    r.add_argument("--clients", type=int, default=8)
    r.add_argument("--requests", type=int, default=40)
    r.add_argument("--workers", type=int, default=5)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.scale, args.tally_rows)
    else:
        run(args.clients, args.requests, args.workers)


if __name__ == "__main__":
    main()
