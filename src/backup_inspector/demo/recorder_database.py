"""Real SQLite databases shaped like Home Assistant's recorder, written with sqlite3.

The full check opens `home-assistant_v2.db` with SQLite, so synthetic
backups need a database SQLite accepts: the tables the check reads
(`schema_changes`, `states` with `last_updated_ts` or the pre-2023
`last_updated` text, `recorder_runs`) with their indexes, filled with
deterministic rows. Built in memory and serialised, so the same arguments
give the same bytes with the same SQLite library.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

RECORDER_SCHEMA_VERSION = 48  # Core 2025.x
LEGACY_SCHEMA_VERSION = 25  # Core 2021.x: text times, no *_ts columns
FIRST_STATE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
STATE_INTERVAL_S = 30.0
_ENTITIES = (
    "sensor.living_room_temperature",
    "sensor.outdoor_humidity",
    "light.hallway",
    "binary_sensor.hallway_motion",
    "sensor.energy_consumption",
)
_BATCH_ROWS = 250

_SCHEMA = """
CREATE TABLE schema_changes (
    change_id INTEGER PRIMARY KEY, schema_version INTEGER, changed DATETIME NOT NULL);
CREATE TABLE recorder_runs (
    run_id INTEGER PRIMARY KEY, start DATETIME NOT NULL, "end" DATETIME,
    closed_incorrect BOOLEAN NOT NULL, created DATETIME NOT NULL);
CREATE INDEX ix_recorder_runs_start_end ON recorder_runs (start, "end");
CREATE TABLE states_meta (metadata_id INTEGER PRIMARY KEY, entity_id VARCHAR(255));
CREATE TABLE states (
    state_id INTEGER PRIMARY KEY, state VARCHAR(255), attributes TEXT,
    last_changed_ts FLOAT, last_updated_ts FLOAT, old_state_id INTEGER,
    metadata_id INTEGER, context_id_bin BLOB);
CREATE INDEX ix_states_last_updated_ts ON states (last_updated_ts);
CREATE INDEX ix_states_metadata_id_last_updated_ts ON states (metadata_id, last_updated_ts);
"""

_LEGACY_SCHEMA = """
CREATE TABLE schema_changes (
    change_id INTEGER PRIMARY KEY, schema_version INTEGER, changed DATETIME NOT NULL);
CREATE TABLE recorder_runs (
    run_id INTEGER PRIMARY KEY, start DATETIME, "end" DATETIME,
    closed_incorrect BOOLEAN, created DATETIME);
CREATE TABLE states (
    state_id INTEGER PRIMARY KEY, domain VARCHAR(64), entity_id VARCHAR(255),
    state VARCHAR(255), attributes TEXT, last_changed DATETIME, last_updated DATETIME,
    created DATETIME, old_state_id INTEGER);
CREATE INDEX ix_states_last_updated ON states (last_updated);
CREATE INDEX ix_states_entity_id_last_updated ON states (entity_id, last_updated);
"""


def state_time(row: int) -> datetime:
    """When the `row`-th state (0-based) was recorded."""
    return FIRST_STATE_TIME + timedelta(seconds=row * STATE_INTERVAL_S)


def _sqlalchemy_text(moment: datetime) -> str:
    """How SQLAlchemy stored a DATETIME in SQLite: naive UTC, space separator."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def create_recorder_tables(connection: sqlite3.Connection, *, legacy: bool = False) -> None:
    """The recorder tables and indexes, plus the schema version and one recorder run."""
    connection.executescript(_LEGACY_SCHEMA if legacy else _SCHEMA)
    version = LEGACY_SCHEMA_VERSION if legacy else RECORDER_SCHEMA_VERSION
    created = _sqlalchemy_text(FIRST_STATE_TIME)
    connection.executemany(
        "INSERT INTO schema_changes (schema_version, changed) VALUES (?, ?)",
        [(version - 1, created), (version, created)],
    )
    connection.execute(
        'INSERT INTO recorder_runs (start, "end", closed_incorrect, created) VALUES (?, NULL, 0, ?)',
        (created, created),
    )
    if not legacy:
        connection.executemany(
            "INSERT INTO states_meta (entity_id) VALUES (?)", [(e,) for e in _ENTITIES]
        )


def add_states(
    connection: sqlite3.Connection, first_row: int, count: int, *, legacy: bool = False
) -> None:
    """Insert states number first_row … first_row+count-1, one every 30 s, seeded by number."""
    rows = []
    for row in range(first_row, first_row + count):
        chooser = random.Random(row)  # noqa: S311 - test data, not security
        entity = row % len(_ENTITIES)
        value = f"{chooser.uniform(-10, 40):.2f}"
        attributes = f'{{"unit_of_measurement": "°C", "friendly_name": "Sensor {entity}"}}'
        moment = state_time(row)
        if legacy:
            text = _sqlalchemy_text(moment)
            domain = _ENTITIES[entity].split(".")[0]
            rows.append((domain, _ENTITIES[entity], value, attributes, text, text, text))
        else:
            stamp = moment.timestamp()
            context = chooser.randbytes(16)
            rows.append((value, attributes, stamp, stamp, entity + 1, context))
    if legacy:
        connection.executemany(
            "INSERT INTO states (domain, entity_id, state, attributes, last_changed, "
            "last_updated, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    else:
        connection.executemany(
            "INSERT INTO states (state, attributes, last_changed_ts, last_updated_ts, "
            "metadata_id, context_id_bin) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )


def recorder_database_bytes(
    *, rows: int = 300, min_size_bytes: int = 0, legacy: bool = False
) -> bytes:
    """A recorder database with at least `rows` states and at least `min_size_bytes` bytes.

    Rows are added in batches until the file reaches `min_size_bytes`, so
    the size is a lower bound (whole pages), not exact.
    """
    connection = sqlite3.connect(":memory:")
    try:
        create_recorder_tables(connection, legacy=legacy)
        add_states(connection, 0, rows, legacy=legacy)
        written = rows
        while _file_size(connection) < min_size_bytes:
            add_states(connection, written, _BATCH_ROWS, legacy=legacy)
            written += _BATCH_ROWS
        connection.commit()
        return connection.serialize()
    finally:
        connection.close()


def _file_size(connection: sqlite3.Connection) -> int:
    page_count = connection.execute("PRAGMA page_count").fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    return int(page_count) * int(page_size)


def recorder_database_with_wal(
    folder: Path, *, rows: int = 300, wal_rows: int = 50
) -> tuple[bytes, bytes]:
    """(.db, -wal) bytes of a WAL-mode database whose last `wal_rows` states live only in the WAL.

    This is what Core's backup copies while the recorder runs: the main file
    plus a WAL that was not checkpointed yet. The files are read while the
    writing connection is still open (closing it would checkpoint the WAL
    into the main file), then the connection is closed and `folder` emptied.
    """
    path = folder / "recorder-with-wal.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        create_recorder_tables(connection)
        connection.execute("BEGIN")
        add_states(connection, 0, rows)
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the first rows into the main file
        connection.execute("BEGIN")
        add_states(connection, rows, wal_rows)
        connection.execute("COMMIT")
        database = path.read_bytes()
        wal = Path(f"{path}-wal").read_bytes()
    finally:
        connection.close()
        for leftover in folder.glob(path.name + "*"):
            leftover.unlink()
    return database, wal
