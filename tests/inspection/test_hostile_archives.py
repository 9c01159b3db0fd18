"""Hostile inner archives end cleanly: deep names in bounded memory, cancel inside a parser loop (issue 9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.demo.hostile_tar import (
    END_OF_ARCHIVE,
    file_member,
    header_block,
    pax_member,
    repeated_members_gzip,
    write_backup_with_inner_archive,
    write_backup_with_inner_tar,
)
from backup_inspector.inspection import archive_index
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.check_job import full_check
from backup_inspector.inspection.listing_job import list_entries
from backup_inspector.inspection.progress import CancelToken, JobCancelledError

# The child lists the archive into an index under an address-space limit and
# reports tracemalloc's peak: a blow-up fails with MemoryError, it cannot hang CI.
_LIST_IN_CHILD = """
import json, resource, sys, tracemalloc
limit = int(sys.argv[2]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.listing_job import list_entries
overview = open_backup(sys.argv[1])
index = ArchiveIndex("share")
tracemalloc.start()
check = list_entries(overview, "share", None, index.add)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({
    "problems": [p.code.value for p in check.problems],
    "entries": index.entry_count,
    "root": [row["path"] for row in index.folder_page("", 0, 10).rows],
    "peak_mb": peak / 2**20,
}))
"""
CHILD_ADDRESS_SPACE_MB = 1024
DEEP_NAME_PEAK_MB = 16  # reading buffers and the index of two small files; the bug needed gigabytes


def deep_name(levels: int) -> str:
    """A file name `levels` levels deep: "a/a/.../f"."""
    return "a/" * (levels - 1) + "f"


def list_in_child(backup: Path) -> dict[str, object]:
    """List the backup's "share" archive in a memory-limited child; its JSON report."""
    source = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-c", _LIST_IN_CHILD, str(backup), str(CHILD_ADDRESS_SPACE_MB)],
        env={**os.environ, "PYTHONPATH": f"{source}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("levels", [10_000, 200_000])
def test_deep_names_are_listed_in_bounded_memory_and_reported(tmp_path: Path, levels: int) -> None:
    """A 10 000- or 200 000-level name lists in a few MB and is reported unsafe-entry (finding 3)."""
    inner = pax_member([("path", deep_name(levels))]) + file_member("f", b"x")
    inner += file_member("ok.txt", b"fine") + END_OF_ARCHIVE
    backup = write_backup_with_inner_tar(tmp_path / "deep.tar", inner)
    report = list_in_child(backup)
    assert report["problems"] == [FindingCode.UNSAFE_ENTRY.value]
    assert report["entries"] == 1  # the deep name is reported, not indexed
    assert report["root"] == ["ok.txt"]
    assert report["peak_mb"] < DEEP_NAME_PEAK_MB, report


def test_listing_names_the_too_deep_entry(tmp_path: Path) -> None:
    """The listing's unsafe-entry message says why, with the name cut short."""
    inner = pax_member([("path", deep_name(1_500))]) + file_member("f", b"x") + END_OF_ARCHIVE
    backup = write_backup_with_inner_tar(tmp_path / "deep.tar", inner)
    seen: list[str] = []
    check = list_entries(open_backup(backup), "share", None, lambda entry: seen.append(entry.path))
    assert check.ok  # a warning: the rest of the archive is fine
    [problem] = check.problems
    assert problem.code is FindingCode.UNSAFE_ENTRY
    assert "deeper than 1,024 levels" in problem.message
    assert len(problem.message) < 1000
    assert len(seen) == 1  # the entry is still handed to the caller; only the index leaves it out


@pytest.mark.timeout(30)
def test_cancel_stops_a_listing_inside_one_inflated_piece(tmp_path: Path) -> None:
    """Cancel lands within a second even when one read holds 200 000 headers (finding 2)."""
    backup = write_backup_with_inner_archive(
        tmp_path / "busy.tar", repeated_members_gzip(200_000), compressed=True
    )
    overview = open_backup(backup)
    token = CancelToken()
    seen = 0
    cancelled_at = 0.0

    def on_entry(entry: TarEntry) -> None:
        nonlocal seen, cancelled_at
        seen += 1
        if seen == 1:
            cancelled_at = time.monotonic()
            token.cancel()

    with pytest.raises(JobCancelledError):
        list_entries(overview, "share", None, on_entry, cancel=token)
    assert time.monotonic() - cancelled_at < 1.0
    assert seen == 1  # stopped at the next header, not at the next read of the backup file


def test_full_check_reports_too_deep_names_as_unsafe(tmp_path: Path) -> None:
    """The full check names an over-deep or over-long entry as unsafe-entry, like the listing."""
    inner = pax_member([("path", deep_name(200_000))]) + file_member("f", b"x")
    inner += pax_member([("linkpath", "x" * 5000)]) + header_block("link", type_flag=b"2")
    backup = write_backup_with_inner_tar(tmp_path / "deep.tar", inner + END_OF_ARCHIVE)
    report = full_check(open_backup(backup), None)
    [archive] = report.archives
    [problem] = archive.problems
    assert problem.code is FindingCode.UNSAFE_ENTRY
    assert "has 2 entries" in problem.message
    # Home Assistant cannot create a 400 KB name either: its restore of this archive stops there.
    breaks = [p for p in report.problems if p.code is FindingCode.ENTRY_BREAKS_RESTORE]
    assert len(breaks) == 1 and "more than Linux allows" in breaks[0].message


def test_index_folders_share_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_FOLDER_BYTES, entries needing new folders are left out and counted (finding 3)."""
    monkeypatch.setattr(archive_index, "MAX_FOLDER_BYTES", 2 * 1024 * 1024)
    index = archive_index.ArchiveIndex("share")
    index.add(TarEntry("keep/first.txt", "keep/first.txt", EntryType.FILE, 5, 0.0, 0o644))
    deep = deep_name(1000)
    tracemalloc.start()
    for number in range(200):  # each needs about 1 000 new folders: 1.4 MB of paths and summaries
        path = f"top{number}/{deep}"
        index.add(TarEntry(path, path, EntryType.FILE, 1, 0.0, 0o644))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    index.add(TarEntry("keep/second.txt", "keep/second.txt", EntryType.FILE, 7, 0.0, 0o644))
    status = index.status_json()
    assert status["left_out_entries"] >= 190
    assert peak < 8 * 1024 * 1024
    assert [row["name"] for row in index.folder_page("keep", 0, 10).rows] == [
        "first.txt",
        "second.txt",
    ]
    assert index.selection_size(["keep"]) == (12, 2)


def test_index_of_a_plain_archive_leaves_nothing_out() -> None:
    """An ordinary archive's status has no left_out_entries (the shape saved indexes share)."""
    index = archive_index.ArchiveIndex("share")
    for number in range(100):
        path = f"data/d{number % 7}/f{number}.txt"
        index.add(TarEntry(path, path, EntryType.FILE, 1, 0.0, 0o644))
    assert "left_out_entries" not in index.status_json()
    assert index.status_json()["entry_count"] == 100
