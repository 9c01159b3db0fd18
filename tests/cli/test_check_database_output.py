"""`check` shows the recorder database: the JSON object, two human lines, notes that keep exit 0."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from backup_inspector.demo.backup_writer import ArchiveSpec, make_metadata
from backup_inspector.demo.recorder_database import RECORDER_SCHEMA_VERSION, recorder_database_bytes

from .test_cli import run_cli

DATABASE_KEYS = {
    "archive",
    "path",
    "size",
    "wal_size",
    "schema_version",
    "first_time",
    "last_time",
    "ok",
    "message",
}


def _backup(build_backup: Callable[..., Path], files: dict[str, bytes], **options: object) -> Path:
    archives = [ArchiveSpec("homeassistant", files)]
    return build_backup("cli-db.tar", archives, metadata=make_metadata(archives, **options))


def _run_check(path: Path, tmp_path: Path, *args: str):
    """Run `check` with the system temp pointed at a folder of the test's own."""
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    result = run_cli("check", path, *args, cwd=tmp_path, env={"TMPDIR": str(temp)})
    assert list(temp.rglob("*")) == [], "the check left files in the temp folder"
    return result


def test_check_json_has_the_database_object(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """`check --json` gains "database" with its facts in ISO 8601 UTC; exit 0."""
    database = recorder_database_bytes(rows=200)
    path = _backup(build_backup, {"data/home-assistant_v2.db": database})
    result = _run_check(path, tmp_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    facts = json.loads(result.stdout)["database"]
    assert set(facts) == DATABASE_KEYS
    assert facts["ok"] is True
    assert facts["size"] == len(database)
    assert facts["schema_version"] == RECORDER_SCHEMA_VERSION
    assert facts["first_time"] == "2026-11-01T00:00:00Z"
    assert facts["last_time"].endswith("Z")


def test_check_human_output_shows_the_database(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """The human output names the database, its schema and its time span."""
    path = _backup(build_backup, {"data/home-assistant_v2.db": recorder_database_bytes(rows=200)})
    result = _run_check(path, tmp_path)
    assert result.returncode == 0
    assert "Database: ok  homeassistant.tar.gz: data/home-assistant_v2.db" in result.stdout
    assert f"schema {RECORDER_SCHEMA_VERSION}, history 2026-11-01 00:00 UTC to" in result.stdout


def test_corrupt_database_exits_1(build_backup: Callable[..., Path], tmp_path: Path) -> None:
    """A database SQLite rejects is an error: exit 1 and database-corrupt in the JSON."""
    database = recorder_database_bytes(rows=600)
    noise = random.Random(7).randbytes(4096)
    damaged = database[: 3 * 4096] + noise + database[4 * 4096 :]
    path = _backup(build_backup, {"data/home-assistant_v2.db": damaged})
    result = _run_check(path, tmp_path, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["database"]["ok"] is False
    assert [p["code"] for p in report["problems"]] == ["database-corrupt"]


def test_excluded_database_note_keeps_exit_0(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """An info note is printed under Notes, and the exit code stays 0."""
    path = _backup(build_backup, {"data/configuration.yaml": b"a: 1\n"}, exclude_database=True)
    result = _run_check(path, tmp_path)
    assert result.returncode == 0
    assert "Notes:\n  note [database-excluded]" in result.stdout
    assert "Problems:" not in result.stdout
