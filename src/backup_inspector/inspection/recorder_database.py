"""Open a recorder database copy read-only and ask SQLite whether Core can use it.

Core's recorder renames a database SQLite calls malformed to
`home-assistant_v2.db.corrupt.<time>` and starts with an empty one
(restore-rules.md §4), so `PRAGMA quick_check` here predicts whether the
history survives a restore. The file comes from a backup and may be hostile:
it is opened read-only, a progress handler enforces a time budget and the
job's cancel token, and every query is one that an index answers (or one
bounded row), so a crafted file can neither hang the check nor write.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from .progress import JobCancelledError

# SQLite calls the handler every N virtual-machine instructions: often enough
# to stop within milliseconds, rarely enough to cost nothing measurable.
PROGRESS_HANDLER_INSTRUCTIONS = 20_000
WATCHDOG_INTERVAL_S = 0.2
# quick_check reads every page once; 60 s plus 1 s per 10 MB is generous even
# on a Raspberry Pi SD card, and finite for a crafted file.
BASE_TIME_BUDGET_S = 60.0
TIME_BUDGET_S_PER_BYTE = 1.0 / (10 * 1024 * 1024)
MAX_REPORTED_ERRORS = 5  # PRAGMA quick_check(N): stop after N problems


class DatabaseCheckTimeout(Exception):
    """SQLite did not finish within the time budget."""


@dataclass(frozen=True)
class RecorderFacts:
    """What SQLite said about one recorder database."""

    is_intact: bool
    errors: tuple[str, ...]  # quick_check's lines (or the error that stopped it), empty if intact
    schema_version: int | None
    first_time: datetime | None
    last_time: datetime | None


def time_budget_s(size_bytes: int) -> float:
    """Seconds a check of a database of this size may take before it is stopped."""
    return BASE_TIME_BUDGET_S + size_bytes * TIME_BUDGET_S_PER_BYTE


def _connect_read_only(database: Path, has_wal: bool) -> sqlite3.Connection:
    """A read-only connection; `immutable=1` only when no WAL must be applied.

    immutable=1 makes SQLite skip locking and the -shm file, but it also makes
    SQLite ignore a -wal file, losing the rows only the WAL holds. With a WAL,
    read-only mode needs the -shm to be creatable: the private folder is
    writable, and SQLite writes nothing to the database or the WAL.
    """
    uri = f"file:{quote(str(database))}?mode=ro" + ("" if has_wal else "&immutable=1")
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")
    connection.execute("PRAGMA trusted_schema = OFF")  # no SQL functions run from its schema
    return connection


class _SqliteGuard:
    """Stops SQLite past the deadline or on cancel, from inside and from outside.

    The progress handler covers ordinary statements; a watchdog thread calls
    `interrupt()` too, because some work (parts of the integrity check in
    older SQLite) runs without calling the progress handler.
    """

    def __init__(
        self, connection: sqlite3.Connection, deadline: float, is_cancelled: Callable[[], bool]
    ) -> None:
        self._connection = connection
        self._deadline = deadline
        self._is_cancelled = is_cancelled
        self._done = threading.Event()
        self.reason: str | None = None
        connection.set_progress_handler(self._should_stop, PROGRESS_HANDLER_INSTRUCTIONS)
        self._watchdog = threading.Thread(target=self._watch, name="sqlite-guard", daemon=True)
        self._watchdog.start()

    def _should_stop(self) -> int:
        if self.reason is None:
            if self._is_cancelled():
                self.reason = "cancelled"
            elif time.monotonic() > self._deadline:
                self.reason = "timeout"
        return 1 if self.reason is not None else 0

    def _watch(self) -> None:
        while not self._done.wait(WATCHDOG_INTERVAL_S):
            if self._should_stop():
                self._connection.interrupt()
                return

    def stop(self) -> None:
        """The connection is done: end the watchdog before the connection closes."""
        self._done.set()
        self._watchdog.join()

    def raise_if_stopped(self) -> None:
        """Raise JobCancelledError or DatabaseCheckTimeout if SQLite was stopped."""
        if self.reason == "cancelled":
            raise JobCancelledError("cancelled")
        if self.reason == "timeout":
            raise DatabaseCheckTimeout("SQLite did not finish checking the database in time")


def _quick_check_lines(connection: sqlite3.Connection) -> list[str]:
    """PRAGMA quick_check: ["ok"] for an intact file, else the problems SQLite found."""
    rows = connection.execute(f"PRAGMA quick_check({MAX_REPORTED_ERRORS})").fetchall()
    return [str(row[0]) for row in rows]


def _scalar(connection: sqlite3.Connection, sql: str) -> object:
    """The one value a query returns, or None when the table or column is not there."""
    try:
        row = connection.execute(sql).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    """Column names of `table` (empty when there is no such table)."""
    try:
        rows = connection.execute(f"PRAGMA table_info({table})").fetchall()
    except sqlite3.DatabaseError:
        return set()
    return {str(row[1]) for row in rows}


def as_utc_time(value: object) -> datetime | None:
    """A recorder time as UTC: float seconds (schema ≥ 32) or SQLAlchemy's naive-UTC text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace(" ", "T", 1))
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


_STATES_TIME_QUERIES = {
    "last_updated_ts": (
        "SELECT MIN(last_updated_ts) FROM states",
        "SELECT MAX(last_updated_ts) FROM states",
    ),
    "last_updated": (
        "SELECT MIN(last_updated) FROM states",
        "SELECT MAX(last_updated) FROM states",
    ),
}
_RUNS_LAST_WITH_END = "SELECT MAX(COALESCE(end, start)) FROM recorder_runs"
_RUNS_LAST_WITHOUT_END = "SELECT MAX(start) FROM recorder_runs"


def _time_range(connection: sqlite3.Connection) -> tuple[datetime | None, datetime | None]:
    """First and last recorded time, each from a single-column MIN/MAX an index answers.

    SQLite answers `SELECT MIN(col)` from an index on `col` in one seek; a
    combined MIN and MAX would scan the table. Schema ≥ 32 has
    `states.last_updated_ts` (float, indexed); older ones `last_updated`
    text (indexed); `recorder_runs.start` is the fallback (a small table).
    """
    states = _columns(connection, "states")
    for column, (first_sql, last_sql) in _STATES_TIME_QUERIES.items():
        if column in states:
            first = as_utc_time(_scalar(connection, first_sql))
            last = as_utc_time(_scalar(connection, last_sql))
            if first is not None and last is not None:
                return first, last
    runs = _columns(connection, "recorder_runs")
    if "start" in runs:
        first = as_utc_time(_scalar(connection, "SELECT MIN(start) FROM recorder_runs"))
        last_sql = _RUNS_LAST_WITH_END if "end" in runs else _RUNS_LAST_WITHOUT_END
        return first, as_utc_time(_scalar(connection, last_sql))
    return None, None


def _schema_version(connection: sqlite3.Connection) -> int | None:
    """The recorder's schema version: the highest one `schema_changes` records."""
    value = _scalar(connection, "SELECT MAX(schema_version) FROM schema_changes")
    return value if isinstance(value, int) else None


def inspect_recorder_database(
    database: Path,
    *,
    has_wal: bool,
    is_cancelled: Callable[[], bool] = lambda: False,
    budget_s: float | None = None,
) -> RecorderFacts:
    """Run PRAGMA quick_check and read the recorder's facts; never writes to the files.

    Raises JobCancelledError when `is_cancelled` turns true, and
    DatabaseCheckTimeout when SQLite needs longer than `budget_s` (by
    default `time_budget_s` of the file sizes).
    """
    if budget_s is None:
        wal = database.with_name(database.name + "-wal")
        size = database.stat().st_size + (wal.stat().st_size if has_wal else 0)
        budget_s = time_budget_s(size)
    if is_cancelled():
        raise JobCancelledError("cancelled")
    connection = _connect_read_only(database, has_wal)
    guard = _SqliteGuard(connection, time.monotonic() + budget_s, is_cancelled)
    try:
        try:
            lines = _quick_check_lines(connection)
        except sqlite3.DatabaseError as err:
            guard.raise_if_stopped()
            # "file is not a database", "database disk image is malformed": Core moves it aside too.
            return RecorderFacts(False, (str(err),), None, None, None)
        is_intact = lines == ["ok"]
        schema_version = _schema_version(connection)
        first_time, last_time = _time_range(connection)
        guard.raise_if_stopped()
        return RecorderFacts(
            is_intact, () if is_intact else tuple(lines), schema_version, first_time, last_time
        )
    finally:
        guard.stop()
        connection.close()
