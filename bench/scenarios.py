"""What each simulated phone does, page by page, and the target each page has.

A scenario logs its phone in (`setup`, not measured) and then repeats its
`step` until the time is up; every request a step sends is one row of the
report, named by its key in ROWS. The visit scenario uses prepared visits,
each once (a pool): its first flows warm up and are not measured.

The ids come from the plan (bench/fixtures.py): nothing here knows the data.
This module imports nothing from the app, because locust's gevent process
loads it too.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.client import Session, path_of

WARMUP = "warmup:"  # prefix of the names of requests sent while warming up


@dataclass(frozen=True)
class Row:
    title: str
    target_ms: int | None  # p95 target; None: a reference, not a page
    min_ratio: float | None = None  # throughput target, as a fraction of the trivial route's


# Issue 8: every page p95 ≤ 100 ms; honour boards and dashboards ≤ 50 ms; the task
# board's throughput ≥ 40 % of the trivial route's. 8 clients, 50 000 households.
ROWS = {
    "trivial": Row("/livez: trivial route, no database", None),
    "healthz": Row("/healthz: one SELECT 1", None),
    "board": Row("volunteer task board", 100, 0.40),
    "task": Row("task detail", 100),
    "claim": Row("claim (API)", 100),
    "unclaim": Row("unclaim (API), paired with claim", 100),
    "check-out": Row("check-out with door token (API)", 100),
    "confirm-link": Row("confirmation link (API)", 100),
    "confirm-page": Row("resident's confirmation page", 100),
    "confirm": Row("resident confirms (form POST)", 100),
    "points": Row("my points", 100),
    "honour-community": Row("honour board, community", 50),
    "honour-city": Row("honour board, city", 50),
    "households": Row("grid worker: household list", 100),
    "warnings": Row("grid worker: warning list", 100),
    "dashboard": Row("community dashboard", 50),
}
TRIVIAL = "trivial"


@dataclass(frozen=True)
class Scenario:
    rows: tuple[str, ...]
    step: Callable  # (session, plan, state, item) -> None
    setup: Callable | None = None  # (session, plan, index) -> state
    pool: str | None = None  # plan key of the items each step uses once
    needs: str | None = None  # plan key that must be set, else the scenario is "not built"
    weight_path: Callable | None = field(default=None)  # plan -> the GET path whose page weight counts


def _log_in(role: str):
    def setup(session: Session, plan: dict, _index: int):
        session.log_in(plan[role]["phone"], plan["password"])

    return setup


def _get(row: str, path: Callable[[dict], str]):
    def step(session: Session, plan: dict, _state, _item) -> None:
        session.get(path(plan), name=row)

    return step


def _claimer_setup(session: Session, plan: dict, index: int) -> dict:
    claimer = plan["claimers"][index % len(plan["claimers"])]
    return {"token": session.api_token(claimer["phone"], plan["password"]), "task_id": claimer["task_id"]}


def _claim_and_give_back(session: Session, _plan: dict, state: dict, _item) -> None:
    """Claim a place and give it back: each claim really takes the slot."""
    path = f"/api/v1/tasks/{state['task_id']}"
    session.request("POST", f"{path}/claim", name="claim", bearer=state["token"])
    session.request(
        "POST", f"{path}/unclaim", name="unclaim", bearer=state["token"], payload={"reason": "压测：放回名额"}
    )


def _visit(session: Session, _plan: dict, _state, item: dict) -> None:
    """The end of a visit as the phones do it: the volunteer's app checks out
    with the door card's token and asks for the confirmation link; the
    resident's phone opens it and posts the form."""
    prefix = WARMUP if item["warmup"] else ""
    task, bearer = f"/api/v1/tasks/{item['task_id']}", item["token"]
    door = {"door_token": item["door_token"]}
    session.request("POST", f"{task}/check-out", name=prefix + "check-out", bearer=bearer, payload=door)
    link = session.request("POST", f"{task}/confirmation", name=prefix + "confirm-link", bearer=bearer)
    resident = Session(session.transport, session.host)  # another phone, no cookies yet
    page_path = path_of(link.json()["url"])
    page = resident.get(page_path, name=prefix + "confirm-page")
    resident.submit(page_path, page, {"rating": "5", "comment": "谢谢"}, name=prefix + "confirm")


def _honour(scope_key: str):
    return lambda plan: f"/honour-board?scope={plan[scope_key]}&period=month"


SCENARIOS: dict[str, Scenario] = {
    "trivial": Scenario(("trivial",), _get("trivial", lambda plan: "/livez")),
    "healthz": Scenario(("healthz",), _get("healthz", lambda plan: "/healthz")),
    "board": Scenario(
        ("board",),
        _get("board", lambda plan: "/tasks/"),
        _log_in("volunteer"),
        weight_path=lambda p: "/tasks/",
    ),
    "task": Scenario(
        ("task",),
        _get("task", lambda plan: f"/tasks/{plan['task_id']}"),
        _log_in("volunteer"),
        weight_path=lambda plan: f"/tasks/{plan['task_id']}",
    ),
    "claim": Scenario(("claim", "unclaim"), _claim_and_give_back, _claimer_setup),
    "visit": Scenario(("check-out", "confirm-link", "confirm-page", "confirm"), _visit, pool="visits"),
    "points": Scenario(
        ("points",),
        _get("points", lambda plan: "/me/points"),
        _log_in("volunteer"),
        weight_path=lambda p: "/me/points",
    ),
    "honour-community": Scenario(
        ("honour-community",),
        _get("honour-community", _honour("community_scope")),
        weight_path=_honour("community_scope"),
    ),
    "honour-city": Scenario(("honour-city",), _get("honour-city", _honour("city_scope"))),
    "households": Scenario(
        ("households",), _get("households", lambda plan: "/registry/"), _log_in("grid_worker")
    ),
    "warnings": Scenario(
        ("warnings",), _get("warnings", lambda plan: "/registry/warnings"), _log_in("grid_worker")
    ),
    "dashboard": Scenario(
        ("dashboard",),
        _get("dashboard", lambda plan: plan["dashboard_path"]),
        _log_in("community_worker"),
        needs="dashboard_path",
    ),
}


class Pool:
    """Items handed out once each, across threads or greenlets; the first `warmup` are marked so."""

    def __init__(self, items: list[dict], warmup: int):
        self._items = list(items)
        self._warmup = warmup
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> dict | None:
        with self._lock:
            if self._next >= len(self._items):
                return None
            index, self._next = self._next, self._next + 1
        return {**self._items[index], "warmup": index < self._warmup}


def pool_warmup(clients: int, size: int) -> int:
    """Flows that warm up a pool scenario: two per client, at most a quarter of the pool."""
    return min(2 * clients, size // 4)
