"""The app under gunicorn, as the README deploys it, on a free port of 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bench.database import BenchError
from bench.settings import ROOT, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(port: int, workers: int) -> list[str]:
    # Sync workers (the default), no access log: the app's own request log is on.
    return [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", "120", "--graceful-timeout", "10", "wsgi:app",
    ]  # fmt: skip


class Server:
    """A running gunicorn: its base URL, and the CPU time its processes have used."""

    def __init__(self, base: str, pid: int):
        self.base = base
        self.pid = pid

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the master and its workers, from /proc (None elsewhere).

        Unlike latency, this barely changes when other work shares the machine:
        the app's own cost per request, without the database's.
        """
        try:
            tick = os.sysconf("SC_CLK_TCK")
            total = 0
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # a process that just ended
                if int(entry.name) == self.pid or int(fields[1]) == self.pid:  # fields[1]: the parent
                    total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / tick
        except (OSError, ValueError):
            return None


@contextmanager
def serving(settings: Settings, log_path: Path):
    """Yield the Server: gunicorn serving the bench database in production mode."""
    port = free_port()
    env = settings.app_environment("production")
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            gunicorn_command(port, settings.workers), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log_path)
            yield Server(base, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(base: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Until /healthz answers 200 (the app and its database are up), or BenchError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            raise BenchError(f"gunicorn did not start (see {log_path}):\n{tail}")
        time.sleep(0.3)
