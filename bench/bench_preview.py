"""Benchmark: previewing a small file at the start of a large archive (issue 9, finding 8 follow-up).

Prints figures; asserts nothing. Run it against any checkout to compare
before and after (PYTHONPATH picks the source tree):

    PYTHONPATH=src .venv/bin/python bench/bench_preview.py [--big-mib 256] [--encryption v3]

The archive holds configuration.yaml, a note stored twice, then BIG_MIB of
half-compressible data. Each case reads one file with read_entry and prints the
time and the bytes of the backup file read:

* no listing: the archive is read to its end (a later copy could follow);
* complete listing, only copy: the read stops at the file;
* complete listing, duplicated path: read to the end, the last copy sent.
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
from pathlib import Path

from backup_inspector.backup_format.tar_entry import DataSink
from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    random_content,
    write_backup,
)
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.backup_overview import BackupOverview, open_backup
from backup_inspector.inspection.extract_job import read_entry
from backup_inspector.inspection.listing_job import list_entries
from backup_inspector.inspection.progress import Progress

PASSWORD = "bench-password"


class _CountingSink(DataSink):
    """Counts the bytes of the member streamed into it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        """Count a piece."""
        self.size += len(data)

    def close(self) -> None:
        """Nothing to finish."""

    def abort(self) -> None:
        """Nothing to undo."""


_RANDOM = random_content("big")


def _half_random(offset: int, size: int) -> bytes:
    """Bytes that gzip shrinks to about half: zero and random blocks of 4 KiB taking turns."""
    data = bytearray(_RANDOM(offset, size))
    end = offset + size
    for block_start in range(offset - offset % 8192, end, 8192):
        low, high = max(block_start, offset), min(block_start + 4096, end)
        if low < high:
            data[low - offset : high - offset] = bytes(high - low)
    return bytes(data)


def _write(work_dir: Path, big_mib: int, encryption: str) -> BackupOverview:
    """The benchmark backup."""
    entries = [
        FileSpec("configuration.yaml", content=b"homeassistant:\n  name: Home\n"),
        FileSpec("notes/a.txt", content=b"first copy\n"),
        FileSpec("notes/a.txt", content=b"last copy\n"),
        # Half random, half patterned: inflating costs about what a real backup's does.
        FileSpec("big.bin", size=big_mib * 1024 * 1024, generator=_half_random),
    ]
    password = None if encryption == "none" else PASSWORD
    archive = ArchiveSpec("share", entries, encryption=encryption)  # type: ignore[arg-type]
    return open_backup(write_backup(work_dir / "bench.tar", [archive], password=password))


def _complete_index(overview: BackupOverview, password: str | None) -> ArchiveIndex:
    """The archive's listing, read to its end."""
    index = ArchiveIndex("share", names_are_private=password is not None)
    check = list_entries(overview, "share", password, on_entry=index.add)
    index.finish(check.to_json())
    return index


def _time_read(
    overview: BackupOverview, password: str | None, path: str, occurs_once: bool | None
) -> tuple[float, int, int]:
    """(seconds, bytes of the backup read, bytes sent) of one read_entry."""
    bytes_read = [0]

    def on_progress(progress: Progress) -> None:
        bytes_read[0] = progress.done_bytes

    sink = _CountingSink()
    options = {"occurs_once": occurs_once} if _knows_hints() else {}
    started = time.perf_counter()
    read_entry(overview, "share", path, password, sink, progress=on_progress, **options)
    return time.perf_counter() - started, bytes_read[0], sink.size


def _knows_hints() -> bool:
    """Whether this checkout's read_entry takes the listing's word (before: it does not)."""
    return "occurs_once" in inspect.signature(read_entry).parameters


def main() -> None:
    """Write the backup, list it, and time the three reads."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--encryption", default="none", choices=["none", "v2", "v3"])
    arguments = parser.parse_args()
    password = None if arguments.encryption == "none" else PASSWORD
    with tempfile.TemporaryDirectory() as work_dir:
        overview = _write(Path(work_dir), arguments.big_mib, arguments.encryption)
        archive = overview.find_archive("share")
        assert archive is not None
        print(
            f"archive: {archive.member.available_size / 2**20:.1f} MiB, {arguments.encryption}; "
            f"hints understood: {_knows_hints()}"
        )
        index = _complete_index(overview, password)
        # An index from before this change has no occurs_once: it gives no hint.
        occurs_once = getattr(index, "occurs_once", lambda _path: None)
        cases = [
            ("no listing", "configuration.yaml", None),
            ("listed, only copy", "configuration.yaml", occurs_once("configuration.yaml")),
            ("listed, duplicated", "notes/a.txt", occurs_once("notes/a.txt")),
        ]
        for label, path, hint in cases:
            seconds, bytes_read, sent = _time_read(overview, password, path, hint)
            print(
                f"{label:20s} {path:20s} hint={hint!s:5s} {seconds:6.2f} s, "
                f"{bytes_read / 2**20:7.1f} MiB read, {sent} bytes sent"
            )


if __name__ == "__main__":
    main()
