"""Bulk writing for `flask seed-scale`: rows as tuples, COPY on PostgreSQL,
executemany on SQLite.

Generators hand rows to `BulkWriter.table(name, columns)`'s put function as
plain tuples in the order of `columns`. Times are whole minutes from the
anchor (the start of the `--as-of` day in Beijing) and dates are whole days
from the `--as-of` day; the writer turns them into each database's storage
format, so the same generator feeds both databases and the rows are the
same whatever the database.

On PostgreSQL rows become COPY text in the generating thread and are sent by
writer threads, each with its own connection, a chunk per COPY and commit.
When the connection may (a superuser), the writer sessions skip the
per-row foreign-key triggers (`session_replication_role = replica`, as
`pg_restore --disable-triggers` does): the generators make every reference
point at a row they wrote, and the SQLite tests check every foreign key
row by row. Otherwise there is one writer, and a table's chunk is always
preceded by the chunks of the tables it refers to, so the checks pass.

`DeferredIndexes` drops the plain indexes (those behind no primary key or
constraint) before the load and builds them again after it: one sorted build
costs a fraction of keeping a b-tree up to date row by row (on 5 000
households the database's CPU fell from 96 s to 53 s, builds included).
"""

import itertools
import queue
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models.types import UTCDateTime

NULL = "\\N"
CHUNK_ROWS = 20_000
PG_WRITERS = 2


class _Texts(dict):
    """A memo of storage texts: key → text, made on first use by `make`."""

    def __init__(self, make: Callable):
        super().__init__()
        self._make = make

    def __missing__(self, key):
        value = self[key] = self._make(key)
        return value


class Times:
    """Minutes from the anchor and days from the as-of date, as the databases store them.

    The anchor is local midnight at the start of `as_of` (Asia/Shanghai), so
    minute `m` of the local day `d` is `d * 1440 + m`; timestamps are stored
    in UTC like the models' UTCDateTime does. A timestamp's text is its UTC
    day's text and its time of day's, looked up (strftime per row is slow).
    """

    def __init__(self, as_of: date):
        self.as_of = as_of
        self.anchor = datetime.combine(as_of, datetime.min.time(), clock.LOCAL_TZ).astimezone(UTC)
        utc_day = self.anchor.date()
        self.offset = self.anchor.hour * 60 + self.anchor.minute  # the anchor's minute of its UTC day
        self.utc_days = _Texts(lambda k: (utc_day + timedelta(days=k)).isoformat() + " ")
        self.pg_clock = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(1440)]
        self.sqlite_clock = [f"{m // 60:02d}:{m % 60:02d}:00.000000" for m in range(1440)]
        self.dates = _Texts(lambda d: (as_of + timedelta(days=d)).isoformat())

    def text(self, minute: int, sqlite: bool = False) -> str:
        utc = minute + self.offset
        clock_texts = self.sqlite_clock if sqlite else self.pg_clock
        return self.utc_days[utc // 1440] + clock_texts[utc % 1440]

    def moment(self, minute: int) -> datetime:
        return self.anchor + timedelta(minutes=minute)

    def day(self, days: int) -> date:
        return self.as_of + timedelta(days=days)

    def days_of(self, day: date) -> int:
        return (day - self.as_of).days


def _kind(column: sa.Column) -> str:
    """How a column's values travel: t(ime minute), d(ay), b(ool), or as they are."""
    if isinstance(column.type, UTCDateTime):
        return "t"
    if isinstance(column.type, sa.Date):
        return "d"
    if isinstance(column.type, sa.Boolean):
        return "b"
    return "v"


def _pg_format_source(columns: list[sa.Column]) -> str:
    """The source of a function row → one line of COPY text, made once per table for speed.

    Text values are written as they are: every text the generators make comes
    from fixed vocabularies, codes, keys and JSON without tabs, newlines or
    backslashes (tests/test_seed_scale.py checks the vocabularies).
    """
    parts = []
    for i, column in enumerate(columns):
        kind = _kind(column)
        if kind == "t" and not column.nullable:  # the common case, inline
            parts.append(f"{{U[(r[{i}] + O) // 1440]}}{{H[(r[{i}] + O) % 1440]}}")
            continue
        value = {
            "t": f"U[(r[{i}] + O) // 1440] + H[(r[{i}] + O) % 1440]",
            "d": f"D[r[{i}]]",
            "b": f"('t' if r[{i}] else 'f')",
            "v": f"r[{i}]",
        }[kind]
        parts.append("{" + (f"N if r[{i}] is None else {value}" if column.nullable else value) + "}")
    return 'lambda r: f"' + "\\t".join(parts) + '\\n"'


def _configure_pg_session(raw, superuser: bool) -> None:
    """A writer session: no waiting for the WAL flush at each commit (a crash
    loses only the seeding, which is rerun anyway); as a superuser, no
    per-row foreign-key triggers and compressed full-page images in the WAL
    (random index inserts would otherwise write a full 8 kB page image each)."""
    settings = ["SET synchronous_commit = off"]
    if superuser:
        settings += ["SET session_replication_role = replica", "SET wal_compression = lz4"]
    for setting in settings:
        try:
            raw.execute(setting)
            raw.commit()
        except Exception:
            raw.rollback()
            if "wal_compression" in setting:
                raw.execute("SET wal_compression = on")
                raw.commit()


class DeferredIndexes:
    """The plain indexes of the schema, dropped while loading and built again after.

    Only on PostgreSQL. Indexes behind a primary key or a constraint stay, so
    the rows are still checked by them; a unique index of its own (a partial
    one) is checked when it is built again, which fails the seeding if the
    rows break it. `restore()` is safe to call twice; call it in a `finally`
    so a failed load still leaves a schema with all its indexes.
    """

    FIND = (
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        " ORDER BY c.relname"
    )

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.dropped: list[tuple[str, str]] = []

    def drop(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.begin() as conn:
            found = [(name, definition) for name, definition in conn.exec_driver_sql(self.FIND)]
            for name, _ in found:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
        self.dropped = found

    def restore(self) -> None:
        """Build the dropped indexes again, with enough memory to sort each in one go."""
        if not self.dropped:
            return
        with self.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            for _, definition in self.dropped:
                conn.exec_driver_sql(definition)
        self.dropped = []


class BulkWriter:
    """Rows in, chunks out; ids handed out per table; counts kept."""

    def __init__(self, times: Times):
        self.times = times
        self.engine = db.engine
        self.dialect = self.engine.dialect.name
        self.counts: dict[str, int] = {}
        self._next_id: dict[str, itertools.count] = {}
        self._buffers: dict[str, list] = {}
        self._sql: dict[str, str] = {}
        self._parents: dict[str, set[str]] = {}
        self._errors: list[BaseException] = []
        self._queue: queue.Queue | None = None
        self._threads: list[threading.Thread] = []
        self.fast_path = False
        if self.dialect == "postgresql":
            self._start_pg_writers()

    # --- ids -------------------------------------------------------------------------

    def counter(self, table: str) -> Callable[[], int]:
        """A function giving fresh ids for `table`, after the largest there was at the start."""
        found = self._next_id.get(table)
        if found is None:
            with self.engine.connect() as conn:
                first = conn.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar_one()
            found = self._next_id[table] = itertools.count(first)
        return found.__next__

    def next_id(self, table: str) -> int:
        return self.counter(table)()

    def last_ids(self) -> dict[str, int]:
        """The last id given out per table (reading a count leaves it as it was)."""
        return {table: int(repr(count)[6:-1]) - 1 for table, count in self._next_id.items()}

    # --- tables ----------------------------------------------------------------------

    def table(self, name: str, columns: tuple[str, ...]) -> Callable[[tuple], None]:
        """The put function for rows of `name` given as tuples of `columns`.

        Refuses a column list that leaves out a column the database needs
        (NOT NULL without a server default): model defaults are Python-side
        and a bulk insert would not apply them.
        """
        table = db.metadata.tables[name]
        missing = [
            c.name
            for c in table.columns
            if c.name not in columns and not c.nullable and c.server_default is None and not c.autoincrement
        ]
        if missing:
            raise ValueError(f"{name}: rows need {missing}")
        cols = [table.columns[c] for c in columns]
        self._parents[name] = {fk.column.table.name for fk in table.foreign_keys} - {name}
        buffer: list = self._buffers.setdefault(name, [])
        self.counts.setdefault(name, 0)
        quoted = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "postgresql":
            self._sql[name] = f"COPY {name} ({quoted}) FROM STDIN"
            names = {"U": self.times.utc_days, "H": self.times.pg_clock, "O": self.times.offset}
            fmt = eval(_pg_format_source(cols), names | {"D": self.times.dates, "N": NULL})
        else:
            self._sql[name] = f"INSERT INTO {name} ({quoted}) VALUES ({', '.join('?' for _ in columns)})"
            fmt = self._sqlite_converter(cols)
        append = buffer.append

        def put(row: tuple) -> None:
            append(fmt(row))
            if len(buffer) >= CHUNK_ROWS:
                self.flush(name)

        return put

    def _sqlite_converter(self, columns: list[sa.Column]) -> Callable[[tuple], tuple]:
        times, dates = self.times, self.times.dates
        convert = {
            "t": lambda v: None if v is None else times.text(v, sqlite=True),
            "d": lambda v: None if v is None else dates[v],
            "b": lambda v: None if v is None else int(bool(v)),
        }
        plan = [(i, convert[k]) for i, k in enumerate(_kind(c) for c in columns) if k in convert]
        width = len(columns)

        def fmt(row) -> tuple:
            row = list(row[:width])  # a row may carry more after its columns (the claim's volunteer index)
            for i, change in plan:
                row[i] = change(row[i])
            return tuple(row)

        return fmt

    # --- flushing --------------------------------------------------------------------

    def flush(self, name: str, _seen: frozenset = frozenset()) -> None:
        """Send `name`'s buffered rows, after those of the tables it refers to."""
        if not self.fast_path:
            for parent in self._parents.get(name, ()):
                if parent not in _seen and self._buffers.get(parent):
                    self.flush(parent, _seen | {name})
        rows = self._buffers.get(name)
        if not rows:
            return
        self.counts[name] += len(rows)
        chunk = rows[:]
        rows.clear()  # in place: the table's put function appends to this very list
        if self.dialect == "postgresql":
            self._check_errors()
            self._queue.put((self._sql[name], "".join(chunk)))
        else:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(self._sql[name], chunk)

    def flush_all(self) -> None:
        for name in list(self._buffers):
            self.flush(name)
        if self._queue is not None:
            self._queue.join()
            self._check_errors()

    def close(self) -> None:
        """Flush everything and stop the writer threads; raises a writer's error."""
        try:
            self.flush_all()
        finally:
            if self._queue is not None:
                for _ in self._threads:
                    self._queue.put(None)
                for thread in self._threads:
                    thread.join()
                self._queue = None
        self._check_errors()

    # --- PostgreSQL writer threads ---------------------------------------------------

    def _start_pg_writers(self) -> None:
        with self.engine.connect() as conn:
            self.fast_path = bool(
                conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
            )
        count = PG_WRITERS if self.fast_path else 1
        self._queue = queue.Queue(maxsize=4 * count)
        for _ in range(count):
            thread = threading.Thread(target=self._pg_writer, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pg_writer(self) -> None:
        connection = self.engine.raw_connection()
        try:
            raw = connection.driver_connection
            _configure_pg_session(raw, self.fast_path)
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    if not self._errors:
                        sql, data = item
                        with raw.cursor() as cursor, cursor.copy(sql) as copy:
                            copy.write(data)
                        raw.commit()
                except BaseException as error:  # reported to the generating thread
                    self._errors.append(error)
                    raw.rollback()
                finally:
                    self._queue.task_done()
        finally:
            connection.close()

    def _check_errors(self) -> None:
        if self._errors:
            raise RuntimeError(f"writing failed: {self._errors[0]}") from self._errors[0]
