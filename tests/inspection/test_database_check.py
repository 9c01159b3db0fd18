"""The recorder database step of the full check: SQLite's verdict, facts, notes, and no copy left behind."""

from __future__ import annotations

import errno
import io
import os
import random
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.backup_format.findings import FindingCode, Severity
from backup_inspector.backup_format.tar_entry import TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, WrittenBackup, make_metadata
from backup_inspector.demo.recorder_database import (
    RECORDER_SCHEMA_VERSION,
    recorder_database_bytes,
    recorder_database_with_wal,
    state_time,
)
from backup_inspector.demo.sample_content import addon_archive_entries
from backup_inspector.inspection import database_check, recorder_database
from backup_inspector.inspection.backup_overview import InnerArchive, open_backup
from backup_inspector.inspection.check_job import CheckReport, full_check
from backup_inspector.inspection.private_folder import (
    LOCK_FILE_NAME,
    PRIVATE_FOLDER_PREFIX,
    PrivateFolder,
)
from backup_inspector.inspection.progress import CancelToken, JobCancelledError
from backup_inspector.inspection.recorder_database import (
    DatabaseCheckTimeout,
    inspect_recorder_database,
)

ROWS = 300
PAGE_SIZE = 4096
DB_PATH = "data/home-assistant_v2.db"


@pytest.fixture
def database_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder checks may use; the system temp is moved too, to catch stray copies."""
    stray = tmp_path / "system-temp"
    stray.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(stray))
    folder = tmp_path / "database-check"
    yield folder
    assert not any(stray.iterdir()), "something was written to the system temp folder"


def homeassistant_files(database: bytes, wal: bytes | None = None, prefix: str = "data/"):
    """A small /config holding `database` (and its WAL) under `prefix`."""
    files = {
        f"{prefix}configuration.yaml": b"default_config:\n",
        f"{prefix}home-assistant_v2.db": database,
    }
    if wal is not None:
        files[f"{prefix}home-assistant_v2.db-wal"] = wal
    files[f"{prefix}zz_after_database.yaml"] = b"# written after the database\n"
    return files


def backup_with(
    build_backup: Callable[..., Path],
    files: dict[str, bytes],
    encryption: str = "none",
    *,
    extra_archives: tuple[ArchiveSpec, ...] = (),
    file_name: str = "db.tar",
    **metadata_options: object,
) -> Path:
    """A backup of Home Assistant with `files`, plus optional add-on archives."""
    archives = [ArchiveSpec("homeassistant", files, encryption=encryption), *extra_archives]
    password = "Tëst pässword 42" if encryption != "none" else None
    metadata = make_metadata(archives, password=password, **metadata_options)
    return build_backup(file_name, archives, metadata=metadata)


def check(path: Path, database_dir: Path, password: str | None = None, **options) -> CheckReport:
    """A full check with the database folder under the test's control."""
    return full_check(open_backup(path), password, database_dir=database_dir, **options)


def copies_left(database_dir: Path) -> list[Path]:
    """Everything left under the database folder after a check."""
    return list(database_dir.rglob("*")) if database_dir.exists() else []


def with_noise_page(database: bytes, page_number: int) -> bytes:
    """`database` with page `page_number` (1-based) overwritten by random bytes."""
    noise = random.Random(page_number).randbytes(PAGE_SIZE)
    start = (page_number - 1) * PAGE_SIZE
    return database[:start] + noise + database[start + PAGE_SIZE :]


# --------------------------------------------------------------------------
# SQLite's verdict and the facts
# --------------------------------------------------------------------------


def test_clean_database_is_ok_with_its_facts(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """An intact recorder database: ok, its size, schema version and first and last state time."""
    database = recorder_database_bytes(rows=ROWS)
    report = check(backup_with(build_backup, homeassistant_files(database)), database_dir)
    assert report.ok
    assert report.database is not None
    facts = report.database.to_json()
    assert facts["ok"] is True
    assert facts["archive"] == "homeassistant.tar.gz"
    assert facts["path"] == DB_PATH
    assert facts["size"] == len(database)
    assert facts["schema_version"] == RECORDER_SCHEMA_VERSION
    assert facts["first_time"] == "2026-11-01T00:00:00Z"
    assert facts["last_time"] == state_time(ROWS - 1).isoformat().replace("+00:00", "Z")
    assert "no problems" in str(facts["message"])
    assert report.to_json()["database"] == facts
    assert copies_left(database_dir) == []


def test_page_of_noise_is_database_corrupt(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A page overwritten with noise: database-corrupt, an error that says history is lost."""
    database = with_noise_page(recorder_database_bytes(rows=ROWS), page_number=4)
    report = check(backup_with(build_backup, homeassistant_files(database)), database_dir)
    corrupt = [p for p in report.problems if p.code == FindingCode.DATABASE_CORRUPT]
    assert len(corrupt) == 1
    assert corrupt[0].severity == Severity.ERROR
    assert corrupt[0].archive == "homeassistant"
    assert "move the database aside and start without history" in corrupt[0].message
    assert not report.ok
    assert report.database is not None and report.database.ok is False
    assert copies_left(database_dir) == []


def test_database_cut_short_is_database_corrupt(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A database file missing its second half fails SQLite's check."""
    whole = recorder_database_bytes(rows=ROWS * 4)
    database = whole[: (len(whole) // PAGE_SIZE // 2) * PAGE_SIZE]
    report = check(backup_with(build_backup, homeassistant_files(database)), database_dir)
    assert FindingCode.DATABASE_CORRUPT in [p.code for p in report.problems]
    assert report.database is not None and report.database.size == len(database)
    assert not report.ok


def test_not_a_database_is_database_corrupt(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """Random bytes under the database's name: SQLite cannot open them, Core would not either."""
    database = random.Random(1).randbytes(64 * 1024)
    report = check(backup_with(build_backup, homeassistant_files(database)), database_dir)
    assert FindingCode.DATABASE_CORRUPT in [p.code for p in report.problems]


def test_rows_only_in_the_wal_are_counted(
    build_backup: Callable[..., Path], database_dir: Path, tmp_path: Path
) -> None:
    """A -wal beside the .db is applied: the last time is that of a row the main file lacks."""
    database, wal = recorder_database_with_wal(tmp_path, rows=ROWS, wal_rows=50)
    main_only = tmp_path / "main-only.db"
    main_only.write_bytes(database)
    without_wal = inspect_recorder_database(main_only, has_wal=False)
    assert without_wal.last_time == state_time(ROWS - 1)  # the WAL's rows are not in the file
    report = check(backup_with(build_backup, homeassistant_files(database, wal)), database_dir)
    assert report.ok
    assert report.database is not None
    assert report.database.ok is True
    assert report.database.wal_size == len(wal)
    assert report.database.last_time == state_time(ROWS + 50 - 1)
    assert copies_left(database_dir) == []


def test_read_only_open_with_wal_writes_nothing_back(tmp_path: Path) -> None:
    """Opening with a WAL leaves the .db and -wal bytes as they were (no checkpoint)."""
    database, wal = recorder_database_with_wal(tmp_path, rows=ROWS, wal_rows=20)
    path = tmp_path / "copy.db"
    path.write_bytes(database)
    Path(f"{path}-wal").write_bytes(wal)
    facts = inspect_recorder_database(path, has_wal=True)
    assert facts.is_intact and facts.last_time == state_time(ROWS + 20 - 1)
    assert path.read_bytes() == database
    assert Path(f"{path}-wal").read_bytes() == wal


def test_immutable_open_without_wal(tmp_path: Path) -> None:
    """Without a WAL the file is opened immutable: no -shm or journal appears beside it."""
    path = tmp_path / "alone.db"
    path.write_bytes(recorder_database_bytes(rows=ROWS))
    facts = inspect_recorder_database(path, has_wal=False)
    assert facts.is_intact and facts.schema_version == RECORDER_SCHEMA_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alone.db"]


def test_old_schema_with_text_times(tmp_path: Path) -> None:
    """A pre-2023 schema (`last_updated` text) still gives first and last time in UTC."""
    path = tmp_path / "old.db"
    path.write_bytes(recorder_database_bytes(rows=ROWS, legacy=True))
    facts = inspect_recorder_database(path, has_wal=False)
    assert facts.is_intact
    assert facts.schema_version == 25
    assert facts.first_time == state_time(0)
    assert facts.last_time == state_time(ROWS - 1)


def test_database_without_states_falls_back_to_recorder_runs(tmp_path: Path) -> None:
    """No states table: the times come from recorder_runs.start."""
    path = tmp_path / "runs.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recorder_runs (run_id INTEGER PRIMARY KEY, start TEXT)")
        connection.execute("INSERT INTO recorder_runs (start) VALUES ('2024-03-01 10:00:00')")
        connection.execute("INSERT INTO recorder_runs (start) VALUES ('2024-03-02 11:30:00')")
    connection.close()
    facts = inspect_recorder_database(path, has_wal=False)
    assert facts.schema_version is None
    assert (
        facts.first_time is not None and facts.first_time.isoformat() == "2024-03-01T10:00:00+00:00"
    )
    assert (
        facts.last_time is not None and facts.last_time.isoformat() == "2024-03-02T11:30:00+00:00"
    )


# --------------------------------------------------------------------------
# Both layouts, every encryption
# --------------------------------------------------------------------------


def test_folder_layout_without_data_prefix(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A format-v1 folder archive (files at the root, "./" names) has its database checked too."""
    database = recorder_database_bytes(rows=ROWS)
    archives = [
        ArchiveSpec("homeassistant", homeassistant_files(database, prefix=""), entry_dot_slash=True)
    ]
    metadata = make_metadata(archives, supervisor_version="2021.12.2")
    path = build_backup("folder.tar", archives, metadata=metadata)
    report = check(path, database_dir)
    assert report.ok
    assert report.database is not None
    assert report.database.path == "home-assistant_v2.db"
    assert report.database.ok is True


@pytest.mark.parametrize("encryption", ["v1-legacy", "v2", "v3"])
def test_encrypted_archive_database_is_checked(
    build_backup: Callable[..., Path], database_dir: Path, encryption: str
) -> None:
    """Encrypted archives (v1, v2, v3): the database is decrypted privately, checked, removed."""
    database, corrupt = (
        recorder_database_bytes(rows=ROWS),
        with_noise_page(recorder_database_bytes(rows=ROWS), 3),
    )
    good = check(
        backup_with(build_backup, homeassistant_files(database), encryption),
        database_dir,
        "Tëst pässword 42",
    )
    assert good.ok and good.database is not None and good.database.ok is True
    assert good.database.last_time == state_time(ROWS - 1)
    bad_path = backup_with(
        build_backup, homeassistant_files(corrupt), encryption, file_name="bad.tar"
    )
    bad = check(bad_path, database_dir, "Tëst pässword 42")
    assert FindingCode.DATABASE_CORRUPT in [p.code for p in bad.problems]
    assert copies_left(database_dir) == []


def test_every_era_preset_database_is_intact(
    era_backups: dict[str, WrittenBackup], database_dir: Path
) -> None:
    """Every era the demo writes (both layouts, every encryption) holds a database SQLite accepts."""
    checked = 0
    for name, written in era_backups.items():
        overview = open_backup(written.path)
        if overview.find_archive("homeassistant") is None:
            continue  # a partial backup of add-ons or folders only
        report = full_check(overview, written.password, database_dir=database_dir)
        assert report.database is not None, name
        assert report.database.ok is True, (name, report.database.message)
        checked += 1
    assert checked >= len(era_backups) // 2
    assert copies_left(database_dir) == []


def test_damaged_archive_leaves_the_database_unchecked(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A homeassistant archive that fails its gzip check: the database copy is never opened."""
    database = recorder_database_bytes(rows=ROWS)
    path = backup_with(build_backup, homeassistant_files(database))
    data_offset = open_backup(path).find_archive("homeassistant").member.data_offset
    size = open_backup(path).find_archive("homeassistant").member.size
    with path.open("r+b") as handle:  # the gzip trailer's CRC32
        handle.seek(data_offset + size - 8)
        crc = handle.read(1)
        handle.seek(data_offset + size - 8)
        handle.write(bytes([crc[0] ^ 0xFF]))
    report = check(path, database_dir)
    assert FindingCode.ARCHIVE_CORRUPT in [p.code for p in report.problems]
    assert FindingCode.DATABASE_CORRUPT not in [p.code for p in report.problems]
    assert report.database is not None and report.database.ok is None
    assert "could not be read and verified" in report.database.message
    assert copies_left(database_dir) == []


# --------------------------------------------------------------------------
# Notes: excluded, external
# --------------------------------------------------------------------------


def test_excluded_database_is_an_info_note(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """exclude_database: a database-excluded note (info) that leaves ok true."""
    files = {"data/configuration.yaml": b"default_config:\n"}
    report = check(backup_with(build_backup, files, exclude_database=True), database_dir)
    notes = [p for p in report.problems if p.code == FindingCode.DATABASE_EXCLUDED]
    assert len(notes) == 1 and notes[0].severity == Severity.INFO
    assert notes[0].to_json()["severity"] == "info"
    assert report.ok
    assert report.database is None and report.to_json()["database"] is None


def test_external_database_app_is_an_info_note(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A MariaDB app and no SQLite file: database-external (info), ok stays true."""
    files = {"data/configuration.yaml": b"recorder:\n  db_url: !secret mariadb\n"}
    mariadb = ArchiveSpec(
        "core_mariadb",
        addon_archive_entries("core_mariadb", data_files={"data/mysql/ibdata1": b"\0" * 1024}),
    )
    report = check(backup_with(build_backup, files, extra_archives=(mariadb,)), database_dir)
    notes = [p for p in report.problems if p.code == FindingCode.DATABASE_EXTERNAL]
    assert len(notes) == 1 and notes[0].severity == Severity.INFO
    assert "core_mariadb" in notes[0].message
    assert report.ok


def test_sqlite_file_beside_a_database_app_is_no_external_note(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A SQLite file present: the history is there, whatever apps exist; no external note."""
    postgres = ArchiveSpec("a0d7b954_postgres", {"data/pg/PG_VERSION": b"16\n"})
    files = homeassistant_files(recorder_database_bytes(rows=ROWS))
    report = check(backup_with(build_backup, files, extra_archives=(postgres,)), database_dir)
    assert FindingCode.DATABASE_EXTERNAL not in [p.code for p in report.problems]
    assert report.database is not None and report.database.ok is True


@pytest.mark.parametrize(
    ("slug", "is_external"),
    [
        ("core_mariadb", True),
        ("77f1785d_mariadb", True),
        ("a0d7b954_postgres", True),
        ("local_postgresql", True),
        ("core_mosquitto", False),
        ("core_ssh", False),
    ],
)
def test_external_database_app_slugs(slug: str, is_external: bool) -> None:
    """Which app slugs count as a MariaDB or PostgreSQL server."""
    assert database_check.is_external_database_app(slug) is is_external


# --------------------------------------------------------------------------
# The copy never outlives the check
# --------------------------------------------------------------------------


def _database_copies_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("home-assistant_v2.db*") if p.is_file()]


def test_copy_exists_only_in_the_private_folder_during_the_check(
    build_backup: Callable[..., Path], database_dir: Path, tmp_path: Path
) -> None:
    """While the walk runs, the only copy is in a 0700 folder under the database folder."""
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))
    seen: list[list[Path]] = []
    modes: list[int] = []

    def observer_for(archive: InnerArchive):
        def observe(entry: TarEntry) -> None:
            if entry.path.endswith("zz_after_database.yaml"):
                seen.append(_database_copies_under(tmp_path))
                modes.extend(p.stat().st_mode & 0o777 for p in database_dir.iterdir())

        return observe

    report = check(path, database_dir, on_archive_entries=observer_for)
    assert report.database is not None and report.database.ok is True
    assert len(seen) == 1 and len(seen[0]) == 1
    copy = seen[0][0]
    assert copy.parent.parent.parent == database_dir
    assert copy.parent.parent.name.startswith(PRIVATE_FOLDER_PREFIX)
    assert modes == [0o700]
    assert copies_left(database_dir) == []
    assert _database_copies_under(tmp_path) == []


def test_cancel_during_the_walk_removes_the_copy(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """Cancel after the database was copied: JobCancelledError, and the folder is empty."""
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))
    token = CancelToken()
    copies_at_cancel: list[int] = []

    def observer_for(archive: InnerArchive):
        def observe(entry: TarEntry) -> None:
            if entry.path.endswith("zz_after_database.yaml"):
                copies_at_cancel.append(len(_database_copies_under(database_dir)))
                token.cancel()

        return observe

    with pytest.raises(JobCancelledError):
        check(path, database_dir, cancel=token, on_archive_entries=observer_for)
    assert copies_at_cancel == [1]
    assert copies_left(database_dir) == []


def test_crash_in_the_walk_removes_the_copy(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """An unexpected error after the copy was written propagates, and the copy is gone."""
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))

    def observer_for(archive: InnerArchive):
        def observe(entry: TarEntry) -> None:
            if entry.path.endswith("zz_after_database.yaml"):
                raise RuntimeError("the job broke")

        return observe

    with pytest.raises(RuntimeError, match="the job broke"):
        check(path, database_dir, on_archive_entries=observer_for)
    assert copies_left(database_dir) == []


def test_sqlite_failure_removes_the_copy(
    build_backup: Callable[..., Path], database_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error inside the SQLite step propagates, and the copy is gone."""
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(database_check, "inspect_recorder_database", broken)
    with pytest.raises(OSError, match="disk went away"):
        check(path, database_dir)
    assert copies_left(database_dir) == []


def test_abandoned_folder_of_a_killed_check_is_removed(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A folder whose lock nobody holds (its check died) goes at the next check; a held one stays."""
    database_dir.mkdir()
    abandoned = database_dir / f"{PRIVATE_FOLDER_PREFIX}killed"
    abandoned.mkdir(mode=0o700)
    (abandoned / LOCK_FILE_NAME).touch()
    (abandoned / "home-assistant_v2.db").write_bytes(b"decrypted history")
    running = PrivateFolder(database_dir)  # another check still at work
    try:
        check(backup_with(build_backup, {"data/a.yaml": b"a: 1\n"}), database_dir)
        assert not abandoned.exists()
        assert running.path.exists()
    finally:
        running.remove()
    assert copies_left(database_dir) == []


# --------------------------------------------------------------------------
# A hostile or huge database, and no room
# --------------------------------------------------------------------------


def _endless_database(path: Path) -> None:
    """A database whose schema_changes is a view that never ends (a recursive CTE)."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE VIEW schema_changes AS WITH RECURSIVE c(x) AS "
            "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) AS schema_version FROM c"
        )
    connection.close()


@pytest.mark.timeout(30)
def test_crafted_endless_query_stops_at_the_time_budget(tmp_path: Path) -> None:
    """A view that loops forever is interrupted when the time budget runs out."""
    path = tmp_path / "endless.db"
    _endless_database(path)
    started = time.monotonic()
    with pytest.raises(DatabaseCheckTimeout):
        inspect_recorder_database(path, has_wal=False, budget_s=0.5)
    assert time.monotonic() - started < 10


@pytest.mark.timeout(30)
def test_cancel_interrupts_sqlite(tmp_path: Path) -> None:
    """Cancel stops a running SQLite query within moments."""
    path = tmp_path / "endless.db"
    _endless_database(path)
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    with pytest.raises(JobCancelledError):
        inspect_recorder_database(
            path, has_wal=False, is_cancelled=lambda: token.is_cancelled, budget_s=600
        )


@pytest.mark.timeout(60)
def test_full_check_of_a_crafted_database_does_not_hang(
    build_backup: Callable[..., Path],
    database_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a full check, the endless database ends as "not checked", not as a hang or a crash."""
    crafted = tmp_path / "crafted.db"
    _endless_database(crafted)
    monkeypatch.setattr(recorder_database, "BASE_TIME_BUDGET_S", 0.5)
    path = backup_with(build_backup, homeassistant_files(crafted.read_bytes()))
    report = check(path, database_dir)
    assert report.database is not None and report.database.ok is None
    assert "in time" in report.database.message
    assert report.ok  # not checked is not a problem of the backup
    assert copies_left(database_dir) == []


def test_not_enough_space_is_a_clear_note(
    build_backup: Callable[..., Path], database_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too little free space for the copy: "not checked" with the sizes, no crash, no copy."""
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))
    real_usage = database_check.shutil.disk_usage

    def nearly_full(folder: object):
        usage = real_usage(folder)
        return usage._replace(free=1024)

    monkeypatch.setattr(database_check.shutil, "disk_usage", nearly_full)
    report = check(path, database_dir)
    assert report.database is not None and report.database.ok is None
    assert "not checked" in report.database.message and "free" in report.database.message
    assert report.ok
    assert copies_left(database_dir) == []


def test_no_database_no_database_object(
    build_backup: Callable[..., Path], database_dir: Path
) -> None:
    """A backup without a database file and without notes: `database` is null."""
    report = check(backup_with(build_backup, {"data/a.yaml": b"a: 1\n"}), database_dir)
    assert report.database is None and report.to_json()["database"] is None
    assert report.problems == []
    assert not database_dir.exists() or os.listdir(database_dir) == []


class _FullDisk(io.BufferedWriter):
    """A file whose writes fail the way a full disk fails them."""

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_filling_up_during_the_copy_is_a_note(
    build_backup: Callable[..., Path], database_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails with ENOSPC ends the copy, not the check: "not checked", no copy left."""
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        """Writes (the database copy) hit a full disk; reads (the backup) work."""
        if "w" in mode:
            return _FullDisk(io.FileIO(fd, "wb"))
        return real_fdopen(fd, mode, *args, **kwargs)

    # database_check.os is the os module itself: the backup is opened through it too.
    monkeypatch.setattr(database_check.os, "fdopen", fdopen)
    report = check(path, database_dir)
    assert report.database is not None and report.database.ok is None
    assert "copying the database failed (No space left on device)" in report.database.message
    assert report.archives[0].read_to_end
    assert copies_left(database_dir) == []


def test_unusable_database_folder_is_a_note(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """A database folder that cannot be created: "not checked", the rest of the check goes on."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    path = backup_with(build_backup, homeassistant_files(recorder_database_bytes(rows=ROWS)))
    report = check(path, blocker / "database-check")
    assert report.ok
    assert report.database is not None and report.database.ok is None
    assert "no private folder" in report.database.message
