"""The locust side of a bench run: N phones doing one scenario (bench/drivers.py starts it).

Environment: BENCH_PLAN (the plan as JSON), BENCH_SCENARIO (a key of
bench.scenarios.SCENARIOS), BENCH_SAMPLES (where to write the samples when
locust quits), BENCH_CLIENTS, BENCH_WARMUP, BENCH_DURATION. Every phone logs
in, then all start together; they stop themselves after the warm-up and the
duration (or when the prepared visits are used up), each after its step, so
no request is cut off; when the last has stopped, locust quits. Locust
measures each request (its `response_time`, body included); every sample is
also kept, with its start time, so the report can drop the warm-up and
compute exact percentiles.
"""

import itertools
import json
import os
import time

import gevent
import gevent.event
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

from bench.client import Answer, Refused, Session
from bench.scenarios import SCENARIOS, Pool, pool_warmup

with open(os.environ["BENCH_PLAN"]) as _file:
    PLAN = json.load(_file)
SCENARIO = SCENARIOS[os.environ["BENCH_SCENARIO"]]
SAMPLES: list[tuple[str, float, float, bool]] = []
PROBLEMS: list[str] = []
CLIENTS = int(os.environ["BENCH_CLIENTS"])
SECONDS = float(os.environ["BENCH_WARMUP"]) + float(os.environ["BENCH_DURATION"])
STARTED: float | None = None  # when the last phone had logged in
_READY = gevent.event.Event()
_arrived = 0
_finished = 0
_INDEX = itertools.count()
_POOL = None
if SCENARIO.pool:
    _items = PLAN[SCENARIO.pool]
    _POOL = Pool(_items, pool_warmup(CLIENTS, len(_items)))


def _arrive() -> None:
    global _arrived, STARTED
    _arrived += 1
    if _arrived == CLIENTS:
        STARTED = time.time()
        _READY.set()


def _finish(user) -> None:
    """A phone stops between two steps, so no request is cut off; the last one ends the run."""
    global _finished
    _finished += 1
    if _finished == CLIENTS:
        gevent.spawn(user.environment.runner.quit)
    raise StopUser()


class LocustTransport:
    """A bench transport over locust's FastHttpSession (geventhttpclient)."""

    def __init__(self, client):
        self.client = client

    def __call__(self, method, path, headers, body, name, expect) -> Answer:
        with self.client.request(
            method, path, name=name, data=body, headers=headers, catch_response=True, allow_redirects=False
        ) as response:
            status = response.status_code or 0
            meta = response.request_meta
            ok = status == expect and meta.get("exception") is None
            if status == expect:
                response.success()
            else:
                response.failure(f"answered {status}, not {expect}")
            SAMPLES.append((name, meta["start_time"], meta["response_time"], ok))
            raw = response.headers
            headers_out = {key.lower(): value for key, value in raw.items()} if raw else {}
            cookies = raw.getlist("set-cookie") if raw else []
            return Answer(status, headers_out, cookies, response.content or b"")


class Phone(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.session = Session(LocustTransport(self.client), self.host.removeprefix("http://"))
        try:
            self.state = SCENARIO.setup(self.session, PLAN, next(_INDEX)) if SCENARIO.setup else None
        except Refused as error:
            _problem(f"setup: {error}")
            _arrive()
            _finish(self)
        _arrive()
        _READY.wait()

    @task
    def step(self):
        item = _POOL.take() if _POOL else None
        if time.time() >= STARTED + SECONDS or (_POOL and item is None):
            _finish(self)  # time is up, or every prepared visit is used
        try:
            SCENARIO.step(self.session, PLAN, self.state, item)
        except Refused as error:
            _problem(str(error))


def _problem(text: str) -> None:
    if len(PROBLEMS) < 20:
        PROBLEMS.append(text)


@events.quitting.add_listener
def _write_samples(**_kwargs):
    with open(os.environ["BENCH_SAMPLES"], "w") as file:
        json.dump({"started": STARTED or time.time(), "samples": SAMPLES, "problems": PROBLEMS}, file)
