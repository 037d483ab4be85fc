"""Drive one scenario with N concurrent phones: locust (headless) or plain threads.

Both record the same samples — (name, start, milliseconds, ok) per request —
from which bench/report.py computes percentiles and throughput. `locust`
runs bench/locustfile.py in its own process (gevent must patch the standard
library before anything else loads, so it cannot share the bench's process);
`threads` is the small built-in generator the smoke test uses and the
fallback where locust is not installed: one thread per client, each with its
own keep-alive HTTP/1.1 connection.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import Answer, Refused, Session
from bench.scenarios import SCENARIOS, Pool, pool_warmup
from bench.settings import ROOT, Settings

MAX_PROBLEMS = 20


@dataclass
class Run:
    samples: list[tuple[str, float, float, bool]]
    started: float  # epoch seconds when the clients started
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run(scenario_key: str, plan: dict, settings: Settings, base_url: str) -> Run:
    if settings.driver == "locust":
        return run_locust(scenario_key, plan, settings, base_url)
    return run_threads(scenario_key, plan, settings, base_url)


class HttpTransport:
    """A phone's connection: kept alive while the server allows (gunicorn's sync
    workers close it after each response; then the next request reconnects)."""

    def __init__(self, host: str, port: int, record):
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.record = record

    def __call__(self, method, path, headers, body, name, expect) -> Answer:
        start, clock = time.time(), time.perf_counter()
        try:
            response = self._send(method, path, headers, body)
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.record((name, start, (time.perf_counter() - clock) * 1000, False))
            raise Refused(f"{name}: {method} {path}: {error!r}") from None
        self.record((name, start, (time.perf_counter() - clock) * 1000, response.status == expect))
        lowered = {key.lower(): value for key, value in response.getheaders()}
        return Answer(response.status, lowered, response.msg.get_all("Set-Cookie") or [], data)

    def _send(self, method, path, headers, body):
        try:
            self.connection.request(method, path, body=body, headers=headers)
            return self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed the kept-alive connection between two requests: reconnect once.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            return self.connection.getresponse()


def run_threads(scenario_key: str, plan: dict, settings: Settings, base_url: str) -> Run:
    """Every client logs in, then all start together; warm-up and measurement follow."""
    scenario = SCENARIOS[scenario_key]
    host, port = base_url.removeprefix("http://").split(":")
    samples: list = []
    problems: list[str] = []
    pool = None
    if scenario.pool:
        items = plan[scenario.pool]
        pool = Pool(items, pool_warmup(settings.clients, len(items)))
    start = _StartLine(settings.clients)

    def client(index: int) -> None:
        session = Session(HttpTransport(host, int(port), samples.append), f"{host}:{port}")
        try:
            state = scenario.setup(session, plan, index) if scenario.setup else None
        except Refused as error:
            _note(problems, f"setup: {error}")
            start.arrive()
            return
        start.arrive()
        stop_at = start.wait() + settings.warmup + settings.duration
        while time.time() < stop_at:
            item = pool.take() if pool else None
            if pool and item is None:
                return
            try:
                scenario.step(session, plan, state, item)
            except Refused as error:
                _note(problems, str(error))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(settings.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=settings.warmup + settings.duration + 300)
    return Run(list(samples), start.started or time.time(), problems)


class _StartLine:
    """The clients' start: when the last has logged in, the clock starts for all."""

    def __init__(self, clients: int):
        self.clients = clients
        self.arrived = 0
        self.started: float | None = None
        self._lock = threading.Lock()
        self._go = threading.Event()

    def arrive(self) -> None:
        with self._lock:
            self.arrived += 1
            if self.arrived == self.clients:
                self.started = time.time()
                self._go.set()

    def wait(self) -> float:
        self._go.wait()
        return self.started


def _note(problems: list[str], problem: str) -> None:
    if len(problems) < MAX_PROBLEMS:
        problems.append(problem)


def run_locust(scenario_key: str, plan: dict, settings: Settings, base_url: str) -> Run:
    """`locust --headless` with bench/locustfile.py for one scenario; its samples come back in a file."""
    seconds = settings.warmup + settings.duration + 120  # a safety cap: the phones stop themselves
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as folder:
        plan_path, samples_path = Path(folder) / "plan.json", Path(folder) / "samples.json"
        plan_path.write_text(json.dumps(plan))
        env = {
            **os.environ,
            "BENCH_PLAN": str(plan_path),
            "BENCH_SCENARIO": scenario_key,
            "BENCH_SAMPLES": str(samples_path),
            "BENCH_CLIENTS": str(settings.clients),
            "BENCH_WARMUP": str(settings.warmup),
            "BENCH_DURATION": str(settings.duration),
            "PYTHONPATH": str(ROOT),
        }
        command = [
            sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
            "--headless", "--only-summary", "--loglevel", "WARNING",
            "--users", str(settings.clients), "--spawn-rate", str(settings.clients),
            "--run-time", f"{max(1, round(seconds))}s", "--host", base_url,
        ]  # fmt: skip
        log_path = settings.out / f"locust-{scenario_key}.log"
        with open(log_path, "w") as log:
            subprocess.run(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 300
            )
        if not samples_path.exists():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"locust wrote no samples for {scenario_key}; the end of {log_path}:\n{tail}")
        result = json.loads(samples_path.read_text())
    notes = []
    if "CPU usage above" in log_path.read_text(errors="replace"):
        notes.append(f"{scenario_key}: locust warned that its CPU usage was above 90% (see {log_path.name})")
    samples = [tuple(sample) for sample in result["samples"]]
    return Run(samples, result["started"], result["problems"], notes)
