"""What a bench run does: command-line options, with defaults from the environment."""

import argparse
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench"
DEFAULT_HOUSEHOLDS = 50_000

# Fixed keys for the bench city. The data is seeded and served with the same
# ones: DATA_KEY encrypts the seeded ID numbers, SECRET_KEY signs the door
# tokens the fixtures hand to the simulated phones. Never a real site's keys.
# BENCH_SECRET_KEY and BENCH_DATA_KEY name others, for a city seeded with them.
BENCH_SECRET_KEY = "bench-secret-key-not-for-production"
BENCH_DATA_KEY = "bench-data-key-not-for-production"


@dataclass
class Settings:
    data: str  # "scale" (flask seed-scale) or "demo" (flask seed-demo)
    households: int
    seed: int
    database_url: str
    clients: int
    warmup: float  # seconds per page before measuring
    duration: float  # seconds measured per page
    visits: int  # check-out + confirmation flows prepared (each is used once)
    workers: int
    driver: str  # "locust" or "threads"
    out: Path
    only: tuple[str, ...]  # scenario keys; empty: all
    redis_url: str | None
    strict: bool = False  # exit 1 when a target is missed
    secret_key: str = BENCH_SECRET_KEY
    data_key: str = BENCH_DATA_KEY

    def app_environment(self, app_env: str) -> dict[str, str]:
        """The environment for the app's processes (seeding, the server) in this run."""
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP", "FLASK_DEBUG")}
        env.update(
            APP_ENV=app_env,
            DATABASE_URL=self.database_url,
            SECRET_KEY=self.secret_key,
            DATA_KEY=self.data_key,
            RATELIMIT_ENABLED="0",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env


def default_workers() -> int:
    """Gunicorn's usual start: (2 × cores) + 1 sync workers."""
    return 2 * (os.cpu_count() or 1) + 1


def locust_installed() -> bool:
    return importlib.util.find_spec("locust") is not None


def parse(argv: list[str] | None = None) -> Settings:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Build or reuse the bench city, serve it with gunicorn, load it with 8 phones, report.",
    )
    parser.add_argument(
        "--data",
        choices=("scale", "demo"),
        default=env.get("BENCH_DATA", "scale"),
        help="scale: flask seed-scale; demo: flask seed-demo (BENCH_DATA, default scale)",
    )
    parser.add_argument(
        "--households",
        type=int,
        default=int(env.get("BENCH_HOUSEHOLDS", DEFAULT_HOUSEHOLDS)),
        help="households of the scale city (BENCH_HOUSEHOLDS, default 50000)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=int(env.get("BENCH_SEED", 1)),
        help="seed-scale's random seed (BENCH_SEED, default 1)",
    )
    parser.add_argument(
        "--database-url",
        default=env.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help=f"the bench database (BENCH_DATABASE_URL, default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=int(env.get("BENCH_CLIENTS", 8)),
        help="concurrent clients (BENCH_CLIENTS, default 8)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=float(env.get("BENCH_WARMUP", 5)),
        help="seconds of warm-up per page (BENCH_WARMUP, default 5)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=float(env.get("BENCH_DURATION", 20)),
        help="seconds measured per page (BENCH_DURATION, default 20)",
    )
    parser.add_argument(
        "--visits",
        type=int,
        default=int(env.get("BENCH_VISITS", 240)),
        help="visits prepared for check-out + confirmation, each used once (BENCH_VISITS, default 240)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(env.get("BENCH_WORKERS", default_workers())),
        help="gunicorn workers (BENCH_WORKERS, default 2 x cores + 1)",
    )
    parser.add_argument(
        "--driver",
        choices=("locust", "threads"),
        default=env.get("BENCH_DRIVER") or ("locust" if locust_installed() else "threads"),
        help="locust (headless, requirements-bench.txt) or the built-in threads with keep-alive connections",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(env.get("BENCH_OUT", ROOT / "bench-results")),
        help="where the JSON and the logs go (BENCH_OUT, default bench-results/)",
    )
    parser.add_argument(
        "--only",
        default=env.get("BENCH_ONLY", ""),
        help="comma-separated scenarios, e.g. board,points (BENCH_ONLY)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.households < 1 or args.visits < 1 or args.workers < 1:
        parser.error("--clients, --households, --visits and --workers must be at least 1")
    if args.driver == "locust" and not locust_installed():
        parser.error("locust is not installed: pip install -r requirements-bench.txt, or --driver threads")
    return Settings(
        data=args.data,
        households=args.households,
        seed=args.seed,
        database_url=args.database_url,
        clients=args.clients,
        warmup=args.warmup,
        duration=args.duration,
        visits=args.visits,
        workers=args.workers,
        driver=args.driver,
        out=args.out,
        only=tuple(key for key in args.only.split(",") if key),
        redis_url=env.get("BENCH_REDIS_URL") or None,
        strict=args.strict,
        secret_key=env.get("BENCH_SECRET_KEY") or BENCH_SECRET_KEY,
        data_key=env.get("BENCH_DATA_KEY") or BENCH_DATA_KEY,
    )
