"""Benchmark: what the recorder database check adds to a full check.

Prints figures; asserts nothing. A backup holding a realistic recorder
database (written by sqlite3: recorder tables, indexes, rows every 30 s) plus
some configuration text is generated once per size and encryption into
bench/.data/ (git-ignored). Then the full check runs alternately without and
with the database step (copy during the walk + SQLite quick_check + facts),
and SQLite's part is also timed alone on a copy of the file.

    .venv/bin/python bench/bench_database_check.py                  # 50 MB database
    .venv/bin/python bench/bench_database_check.py --db-mb 200 --variants v3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / ".data"
PASSWORD = "bench-password"
MIB = 1024 * 1024


def build_backup(path: Path, encryption: str, db_mb: int) -> int:
    """Write the backup (if missing); returns the database size in bytes."""
    from backup_inspector.demo.backup_writer import (  # noqa: PLC0415
        ArchiveSpec,
        FileSpec,
        patterned_content,
        write_backup,
    )
    from backup_inspector.demo.recorder_database import recorder_database_bytes  # noqa: PLC0415

    database = recorder_database_bytes(min_size_bytes=db_mb * MIB)
    if path.exists():
        return len(database)
    entries = [
        FileSpec("data/home-assistant_v2.db", content=database),
        *[
            FileSpec(
                f"data/.storage/file_{i:03d}.json",
                size=MIB // 4,
                generator=patterned_content(f"storage{i}"),
            )
            for i in range(40)
        ],
    ]
    archives = [ArchiveSpec("homeassistant", entries, encryption=encryption)]
    write_backup(path, archives, password=PASSWORD if encryption != "none" else None)
    return len(database)


def time_full_check(path: Path, password: str | None, check_database: bool) -> float:
    """Seconds for one full check of the backup."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415
    from backup_inspector.inspection.check_job import full_check  # noqa: PLC0415

    overview = open_backup(path)
    started = time.perf_counter()
    report = full_check(overview, password, check_database=check_database)
    elapsed = time.perf_counter() - started
    if check_database and (report.database is None or report.database.ok is not True):
        raise SystemExit(f"the database check did not pass: {report.database}")
    return elapsed


def time_sqlite_alone(db_mb: int) -> float:
    """Seconds for quick_check and the facts on a database file already on disk."""
    from backup_inspector.demo.recorder_database import recorder_database_bytes  # noqa: PLC0415
    from backup_inspector.inspection.recorder_database import (  # noqa: PLC0415
        inspect_recorder_database,
    )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "home-assistant_v2.db"
        path.write_bytes(recorder_database_bytes(min_size_bytes=db_mb * MIB))
        started = time.perf_counter()
        facts = inspect_recorder_database(path, has_wal=False)
        elapsed = time.perf_counter() - started
    assert facts.is_intact
    return elapsed


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-mb", type=int, default=50)
    parser.add_argument(
        "--variants", nargs="+", default=["none", "v3"], choices=["none", "v2", "v3"]
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    DATA_DIR.mkdir(exist_ok=True)
    print(f"recorder database ~{args.db_mb} MB, {args.repeats} runs each, median (min)")
    sqlite_runs = [time_sqlite_alone(args.db_mb) for _ in range(args.repeats)]
    print(
        f"  SQLite quick_check + facts alone: {statistics.median(sqlite_runs):.3f} s "
        f"({min(sqlite_runs):.3f})"
    )
    for variant in args.variants:
        path = DATA_DIR / f"database-{variant}-{args.db_mb}mb.tar"
        db_size = build_backup(path, variant, args.db_mb)
        password = PASSWORD if variant != "none" else None
        time_full_check(path, password, True)  # warm the page cache
        without: list[float] = []
        with_db: list[float] = []
        for _ in range(args.repeats):
            without.append(time_full_check(path, password, False))
            with_db.append(time_full_check(path, password, True))
        base, full = statistics.median(without), statistics.median(with_db)
        print(
            f"  {variant:>4}: backup {path.stat().st_size / MIB:.0f} MiB, database "
            f"{db_size / MIB:.1f} MiB | full check without database step {base:.3f} s "
            f"({min(without):.3f}), with {full:.3f} s ({min(with_db):.3f}) | extra "
            f"{full - base:+.3f} s ({(full - base) / base:+.0%})"
        )


if __name__ == "__main__":
    main()
