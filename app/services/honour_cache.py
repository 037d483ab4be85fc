"""A cache of computed honour boards, in Redis when REDIS_URL is set (every
app process shares it), else in this process.

A board is stored under a key made of its arguments (scope, period, kind,
limit, today) and of version numbers: the scope's own (`community:3`,
`street:1`, `city:1`) and one `epoch` for all boards. A board lives
`HONOUR_CACHE_TTL` seconds (default 60), and stops being found at once when
a version it was stored under moves on:
  - an award or a reversal (app/services/honour_tally.py) calls `changed`
    with the scopes of the award's community and of the earner's teams'
    communities (each with its street and city), whose versions move on;
  - a team, a membership, or a volunteer's name or name choice changing
    (seen at flush, whoever writes it) moves the epoch on.
Versions move only AFTER the writing transaction commits (and are forgotten
if it rolls back), so a board computed meanwhile from the old data is stored
under the old version and never found again. While a session has such
changes not yet committed, its boards skip the cache both ways.

When another process is computing the very board asked for, the reader
gets the last one stored for the same arguments instead of computing it
too: stale for at most the time one computation takes (LOCK_SECONDS at
worst).

Without Redis, each process has its own cache: a change made through one
gunicorn worker is seen at once there, and by the others within the TTL.
If Redis fails, boards are computed without the cache (and logged).
"""

import json
import logging
import threading
import time

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

DEFAULT_TTL = 60  # seconds; app.config["HONOUR_CACHE_TTL"], 0 turns the cache off
VERSION_TTL = 7 * 24 * 3600  # a version key outlives every board stored under it
LOCK_SECONDS = 10  # longest a process is trusted to be computing a board before others compute it too
EPOCH = "epoch"
_CHANGED = "honour_cache_changed"  # session.info: version names to move on after commit


class MemoryStore:
    """Strings with an expiry and counters, in this process (thread-safe)."""

    def __init__(self):
        self._values: dict[str, tuple[float, str]] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._values.get(key)
            if found is None or found[0] <= time.monotonic():
                self._values.pop(key, None)
                return None
            return found[1]

    def set(self, key: str, value: str, ttl: int) -> None:
        with self._lock:
            if len(self._values) > 10_000:  # boards are small and few; drop the expired ones
                now = time.monotonic()
                self._values = {k: v for k, v in self._values.items() if v[0] > now}
            self._values[key] = (time.monotonic() + ttl, value)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Set the key unless it is set (and not expired); whether it was set."""
        with self._lock:
            found = self._values.get(key)
            if found is not None and found[0] > time.monotonic():
                return False
            self._values[key] = (time.monotonic() + ttl, value)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def versions(self, names: list[str]) -> list[int]:
        with self._lock:
            return [self._counters.get(name, 0) for name in names]

    def bump(self, names) -> None:
        with self._lock:
            for name in names:
                self._counters[name] = self._counters.get(name, 0) + 1

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._counters.clear()


class RedisStore:
    """The same in Redis, every key under `prefix`."""

    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    def get(self, key: str) -> str | None:
        found = self._redis.get(self._prefix + key)
        return None if found is None else found.decode()

    def set(self, key: str, value: str, ttl: int) -> None:
        self._redis.set(self._prefix + key, value, ex=ttl)

    def add(self, key: str, value: str, ttl: int) -> bool:
        return bool(self._redis.set(self._prefix + key, value, ex=ttl, nx=True))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def versions(self, names: list[str]) -> list[int]:
        return [int(v or 0) for v in self._redis.mget([self._prefix + "v:" + n for n in names])]

    def bump(self, names) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.incr(self._prefix + "v:" + name)
            pipe.expire(self._prefix + "v:" + name, VERSION_TTL)
        pipe.execute()

    def clear(self) -> None:
        keys = list(self._redis.scan_iter(match=self._prefix + "*", count=500))
        if keys:
            self._redis.delete(*keys)


def store(app=None):
    """The app's store, made on first use."""
    app = app or current_app
    found = app.extensions.get("honour_cache")
    if found is None:
        url = app.config.get("REDIS_URL")
        prefix = app.config.get("HONOUR_CACHE_PREFIX", "honour:")
        found = RedisStore(url, prefix) if url else MemoryStore()
        app.extensions["honour_cache"] = found
    return found


def ttl() -> int:
    return int(current_app.config.get("HONOUR_CACHE_TTL", DEFAULT_TTL))


def clear(app=None) -> None:
    """Forget every stored board and version (tests; after restoring a backup)."""
    store(app).clear()


# --- reading through the cache ---------------------------------------------------------


def cached(scope_key: str, args: tuple, compute, encode, decode):
    """`compute()`'s answer for these arguments, from the cache when it holds one.

    `encode` turns the answer into a JSON-able value and `decode` back. On a
    miss this process computes and stores the board — unless another process
    is computing that very board (same versions) right now: then the last
    board stored for these arguments is answered instead of computing it a
    second time (a city board read by every worker at once after an award
    would otherwise be computed by each of them).
    """
    if ttl() <= 0 or db.session.info.get(_CHANGED):
        return compute()
    tail = ":".join(map(str, (scope_key, *args)))
    try:
        the_store = store()
        epoch, version = the_store.versions([EPOCH, scope_key])
        key = f"board:{epoch}:{version}:{tail}"
        found = the_store.get(key)
        locked = found is None and the_store.add("computing:" + key, "1", LOCK_SECONDS)
        if found is None and not locked:
            found = the_store.get("last:" + tail)
    except Exception:  # the cache is an optimisation: a failing Redis must not fail the page
        log.warning("honour cache unavailable; computing the board", exc_info=True)
        return compute()
    if found is not None:
        return decode(json.loads(found))
    try:
        answer = compute()
        stored = json.dumps(encode(answer), ensure_ascii=False)
        try:
            the_store.set(key, stored, ttl())
            the_store.set("last:" + tail, stored, ttl())
        except Exception:
            log.warning("honour cache unavailable; board not stored", exc_info=True)
    finally:
        if locked:
            _unlock(the_store, "computing:" + key)
    return answer


def _unlock(the_store, key: str) -> None:
    try:
        the_store.delete(key)
    except Exception:  # it expires by itself after LOCK_SECONDS
        log.warning("honour cache: could not release %s", key, exc_info=True)


# --- invalidation ------------------------------------------------------------------------


def _remember(names) -> None:
    db.session.info.setdefault(_CHANGED, set()).update(names)


def changed(names) -> None:
    """Boards of these scopes (`community:3`, `street:1`, `city:1`) change when this transaction commits."""
    _remember(names)


def changed_everywhere() -> None:
    """Every board changes when this transaction commits."""
    _remember([EPOCH])


def _watched(session: Session) -> bool:
    """Whether the flush changed a team, a membership, or a volunteer's shown name."""
    from app.models import Team, TeamMembership, User

    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Team | TeamMembership):
            return True
        if isinstance(obj, User):
            state = sa.inspect(obj)
            if obj in session.new or obj in session.deleted:
                continue  # a new user has no points yet; a deleted one's rows go with their ledger
            if state.attrs.name.history.has_changes() or state.attrs.show_full_name.history.has_changes():
                return True
    return False


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context):
    if _watched(session):
        session.info.setdefault(_CHANGED, set()).add(EPOCH)


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session):
    names = session.info.pop(_CHANGED, None)
    if not names or not has_app_context():
        return
    try:
        store().bump(sorted(names))
    except Exception:  # boards then stay as they were for at most the TTL
        log.error("honour cache: could not invalidate %s", sorted(names), exc_info=True)


@sa.event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_CHANGED, None)
