"""Benchmark: making a copy (byte copy, decrypt, new password) against `cp`, with peak memory.

Prints figures; asserts nothing. Backups are generated once into bench/.data/
(git-ignored) and reused. Each copy runs in its own process so that its peak
RSS is its own; the write and the check of the copy are timed apart (the
check is the same full check `backup-inspector check` runs).

    .venv/bin/python bench/bench_copy.py                    # 2000 MB of content, v3 source
    .venv/bin/python bench/bench_copy.py --content-mb 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import bench_check
from bench_check import _peak_rss_mb

DATA_DIR = Path(__file__).resolve().parent / ".data"
PASSWORD = "bench-password"
NEW_PASSWORD = "bench-new-password"
OPERATIONS = ("byte-copy", "decrypt", "new-password")


def build_backup(path: Path, content_mb: int) -> None:
    """A v3 backup: one large incompressible file, many text files, an add-on, a share folder.

    No file is called home-assistant_v2.db: random bytes are not a database,
    and the copy's full check would rightly refuse the copy.
    """
    bench_check.build_backup(path, "v3", content_mb, blob_name="data/media_blob.bin")


def child_main(operation: str, source: Path, destination: Path) -> None:
    """Make one copy; print write and check seconds and the peak RSS as JSON."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415
    from backup_inspector.inspection.copy_job import (  # noqa: PLC0415
        CHECKING,
        CopyRequest,
        make_copy,
    )

    options = {
        "byte-copy": {},
        "decrypt": {"decrypt": True},
        "new-password": {"new_password": NEW_PASSWORD},
    }[operation]
    marks: dict[str, float] = {}

    def progress(update) -> None:
        if update.message == CHECKING and "check" not in marks:
            marks["check"] = time.perf_counter()

    started = time.perf_counter()
    report = make_copy(
        open_backup(source),
        PASSWORD,
        CopyRequest(destination=destination, overwrite=True, **options),
        progress=progress,
        database_dir=DATA_DIR,
    )
    ended = time.perf_counter()
    check_started = marks.get("check", ended)
    print(
        json.dumps(
            {
                "write_seconds": check_started - started,
                "check_seconds": ended - check_started,
                "ok": report.check.ok,
                "copy_mb": destination.stat().st_size / 1024 / 1024,
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
    )


def time_cp(source: Path, destination: Path) -> float:
    """Seconds for `cp` of the same file, synced like the copy job syncs its copy."""
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(destination)], check=True)
    subprocess.run(["sync", str(destination)], check=True)
    return time.perf_counter() - started


def main() -> None:
    """Generate (once) and time `cp` and each copy operation; print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--content-mb", type=int, default=2000)
    parser.add_argument("--operations", nargs="+", default=list(OPERATIONS), choices=OPERATIONS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    DATA_DIR.mkdir(exist_ok=True)
    source = DATA_DIR / f"bench_copy_v3_{args.content_mb}mb.tar"
    if not source.exists():
        started = time.perf_counter()
        build_backup(source, args.content_mb)
        print(f"generated {source.name} in {time.perf_counter() - started:.0f} s")
    size_mb = source.stat().st_size / 1024 / 1024
    destination = DATA_DIR / "bench_copy_out.tar"
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    print(f"source: {size_mb:.0f} MB backup (SecureTar v3), {args.content_mb} MB of content")
    cp_seconds = time_cp(source, destination)
    print(f"  cp                {cp_seconds:7.1f} s   {size_mb / cp_seconds:7.1f} MB/s")
    for operation in args.operations:
        out = subprocess.run(
            [sys.executable, __file__, "--child", operation, str(source), str(destination)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        write = figures["write_seconds"]
        print(
            f"  {operation:<17} {write:7.1f} s   {size_mb / write:7.1f} MB/s of source "
            f"({write / cp_seconds:.1f}× cp); check of the copy {figures['check_seconds']:.1f} s; "
            f"copy {figures['copy_mb']:.0f} MB; peak {figures['peak_rss_mb']:.0f} MB; "
            f"ok={figures['ok']}"
        )
    destination.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
