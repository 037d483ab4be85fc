"""The bench city: built once with the app's own commands, reused while its marker matches.

A table `bench_city` (outside the app's models; it goes with the schema)
records what the city was built with: data kind, households, seed and a
fingerprint of DATA_KEY. A run that wants the same reuses it (after `flask db
upgrade`); anything else drops the schema and builds it again, because
50 000 households take minutes. The marker is written last, so a build that
was interrupted is built again.
"""

import hashlib
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bench.settings import ROOT, Settings
from config import database_url

MARKER_TABLE = "bench_city"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


class BenchError(RuntimeError):
    """The run cannot go on; the message says why and what to do."""


def wanted_marker(settings: Settings) -> dict:
    scale = settings.data == "scale"
    return {
        "data": settings.data,
        "households": settings.households if scale else None,
        "seed": settings.seed if scale else None,
        "data_key": hashlib.sha256(settings.data_key.encode()).hexdigest()[:12],
    }


def seed_command(settings: Settings) -> list[str]:
    if settings.data == "demo":
        return ["seed-demo"]
    return ["seed-scale", "--households", str(settings.households), "--seed", str(settings.seed)]


def seed_scale_exists(settings: Settings) -> bool:
    """True if this checkout has `flask seed-scale` (issue 8 adds it)."""
    answer = subprocess.run(
        FLASK + ["seed-scale", "--help"],
        cwd=ROOT,
        env=settings.app_environment("development"),
        capture_output=True,
        text=True,
    )
    return answer.returncode == 0


def prepare(settings: Settings, log_path: Path) -> dict:
    """Reuse or build the bench database; returns what was done, for the report."""
    if settings.data == "scale" and not seed_scale_exists(settings):
        raise BenchError(
            "`flask seed-scale` does not exist in this checkout yet (issue 8 is adding it), so the "
            "city-scale data cannot be built. Run `make bench BENCH_DATA=demo` "
            "(python -m bench --data demo) to measure on the demo data meanwhile."
        )
    url = database_url(settings.database_url)
    _ensure_database(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    wanted = wanted_marker(settings)
    try:
        found = read_marker(engine)
        if found is not None and found.get("city") == wanted:
            print(f"== reusing the bench city in {safe_url(url)}: {_describe(wanted)}", flush=True)
            _flask(settings, ["db", "upgrade"], log_path)
            return {
                "reused": True,
                "built_seconds": found.get("built_seconds"),
                "built_at": found.get("built_at"),
            }
        why = "it holds another city" if found else "it holds no complete bench city"
        print(f"== building the bench city in {safe_url(url)} ({why}): {_describe(wanted)}", flush=True)
        started = time.monotonic()
        _drop_everything(engine, url)
        _flask(settings, ["db", "upgrade"], log_path)
        _flask(settings, seed_command(settings), log_path)
        built = round(time.monotonic() - started, 1)
        built_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        write_marker(engine, {"city": wanted, "built_seconds": built, "built_at": built_at})
        print(f"== built in {built} s", flush=True)
        return {"reused": False, "built_seconds": built, "built_at": built_at}
    finally:
        engine.dispose()


def _describe(marker: dict) -> str:
    if marker["data"] == "demo":
        return "demo data (flask seed-demo)"
    return f"{marker['households']} households, seed {marker['seed']} (flask seed-scale)"


def safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def read_marker(engine: sa.Engine) -> dict | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(MARKER_TABLE):
            return None
        value = conn.execute(sa.text(f"SELECT marker FROM {MARKER_TABLE}")).scalar()
    return json.loads(value) if value else None


def write_marker(engine: sa.Engine, marker: dict) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (marker TEXT NOT NULL)"))
        conn.execute(sa.text(f"DELETE FROM {MARKER_TABLE}"))
        conn.execute(sa.text(f"INSERT INTO {MARKER_TABLE} (marker) VALUES (:m)"), {"m": json.dumps(marker)})


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database if the server has none of that name."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            return
    except sa.exc.OperationalError as error:
        if "does not exist" not in str(error):
            raise BenchError(f"cannot reach the bench database {safe_url(url)}: {error.orig}") from None
    finally:
        engine.dispose()
    server = sa.create_engine(parsed.set(database="postgres"), poolclass=sa.pool.NullPool)
    try:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
        print(f"== created the database {parsed.database}", flush=True)
    finally:
        server.dispose()


def _drop_everything(engine: sa.Engine, url: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return
    database = sa.engine.make_url(url).database
    if database:
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)


def _flask(settings: Settings, command: list[str], log_path: Path) -> None:
    """Run `flask --app wsgi COMMAND` for the bench database.

    Its stdout (progress bars) goes to the terminal; its stderr to the log,
    except lines that are not the app's JSON log records, which are shown too.
    """
    print(f"   flask {' '.join(command)}", flush=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            FLASK + command,
            cwd=ROOT,
            env=settings.app_environment("development"),
            stderr=subprocess.PIPE,
        )
        pump = threading.Thread(target=_pump, args=(process.stderr, log), daemon=True)
        pump.start()
        code = process.wait()
        pump.join(timeout=5)
    if code != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-20:]
        raise BenchError(
            f"`flask {' '.join(command)}` failed (exit {code}); the end of {log_path}:\n" + "\n".join(tail)
        )


def _pump(stream, log) -> None:
    pending = b""
    while chunk := stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096):
        log.write(chunk)
        pending += chunk
        *parts, pending = re.split(rb"(?<=[\r\n])", pending)
        shown = b"".join(part for part in parts if not part.startswith(b'{"time"'))
        if shown:
            sys.stdout.buffer.write(shown)
            sys.stdout.flush()
    log.flush()
