"""The dashboard's cache of computed figures: in Redis when REDIS_URL is set
(every worker shares it), otherwise in this process.

Figures are kept per (unit, period) for DASHBOARD_REFRESH_SECONDS (300: five
minutes), measured on the app's clock from the moment they were computed,
so a page shows figures at most that old and says when they were made.
Closed periods are kept no longer than the current one: late confirmations,
reversals and approvals still change them. A setting of 0 turns the cache
off (the tests' default, since each test rolls its data back). If Redis is
unreachable the figures are computed for every request instead of failing.
"""

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from app import clock

log = logging.getLogger(__name__)

DEFAULT_REFRESH_SECONDS = 300
KEY_PREFIX = "mutual-aid:dashboard:v1:"
MEMORY_ENTRIES = 1000  # figures and pages kept in one process, the least recently used dropped


class MemoryStore:
    """A small in-process store, least recently used dropped first."""

    def __init__(self, size: int = MEMORY_ENTRIES):
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class RedisStore:
    """Values in Redis under a key prefix, expiring on their own after `seconds`."""

    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = prefix
        self._errors = (redis.RedisError, OSError)

    def get(self, key: str) -> str | None:
        try:
            value = self._redis.get(self._prefix + key)
        except self._errors:
            log.warning("dashboard cache: Redis unreachable, computing the figures")
            return None
        return value.decode("utf-8") if value is not None else None

    def set(self, key: str, value: str, seconds: int) -> None:
        try:
            self._redis.set(self._prefix + key, value, ex=max(seconds, 1))
        except self._errors:
            log.warning("dashboard cache: Redis unreachable, figures not kept")

    def clear(self) -> None:
        try:
            for key in self._redis.scan_iter(match=self._prefix + "*"):
                self._redis.delete(key)
        except self._errors:
            pass


def refresh_seconds() -> int:
    return int(current_app.config.get("DASHBOARD_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))


def store():
    """This app's store, made on first use."""
    found = current_app.extensions.get("dashboard_cache")
    if found is None:
        url = current_app.config.get("REDIS_URL")
        prefix = current_app.config.get("DASHBOARD_CACHE_PREFIX", KEY_PREFIX)
        found = RedisStore(url, prefix) if url else MemoryStore()
        current_app.extensions["dashboard_cache"] = found
    return found


def cached(key: str, compute: Callable[[], dict]) -> dict:
    """The figures under `key` if computed less than the refresh period ago,
    else `compute()` now, stamped with `computed_at` (ISO, UTC) and kept."""
    seconds = refresh_seconds()
    now = clock.now()
    if seconds > 0:
        found = store().get(key)
        if found is not None:
            figures = json.loads(found)
            age = (now - datetime.fromisoformat(figures["computed_at"])).total_seconds()
            if 0 <= age < seconds:
                return figures
    figures = compute()
    figures["computed_at"] = now.isoformat()
    if seconds > 0:
        store().set(key, json.dumps(figures, ensure_ascii=False, separators=(",", ":")), seconds)
    return figures


def cached_text(key: str, make: Callable[[], str]) -> str:
    """Text made from cached figures — the page's rendered figures, per
    language — kept for the refresh period. `key` names the figures'
    `computed_at`, so new figures always get new text."""
    seconds = refresh_seconds()
    if seconds <= 0:
        return make()
    found = store().get(key)
    if found is None:
        found = make()
        store().set(key, found, seconds)
    return found
