"""Memory of large listings: filling, saving and searching do not grow with the entry count.

Each measurement runs in a fresh interpreter (this file run as a script) and
reports its peak resident set size. The old index held every entry as Python
objects (about 430 bytes each: 86 MB more at 200 000 entries than at 20 000),
and a search of a saved index loaded every row; the 1 M-entry figures are in
bench/bench_browse.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.index_codec import KdfLimits
from backup_inspector.inspection.index_store import IndexStore, identify_backup

FILES_PER_FOLDER = 1000
PASSWORD = "memory-test-password"
SMALL, LARGE = 20_000, 200_000
#: Peak growth allowed from SMALL to LARGE entries (SQLite caches, one batch, one page).
MAX_GROWTH_MB = 30
#: Peak allowed at LARGE entries, interpreter and imports included.
MAX_PEAK_MB = 100


def synthetic_entries(count: int) -> Iterator[TarEntry]:
    """`count` entries as a listing yields them: a folder entry, then its files."""
    for folder_number in range(count // FILES_PER_FOLDER):
        folder = f"data/d{folder_number:04d}"
        yield TarEntry(folder, folder + "/", EntryType.DIR, 0, 1.7e9, 0o755)
        for number in range(FILES_PER_FOLDER - 1):
            path = f"{folder}/file-{number:06d}.txt"
            yield TarEntry(path, path, EntryType.FILE, number % 7, 1.7e9, 0o644)


def measure(count: int, folder: Path) -> dict[str, Any]:
    """List, save (plain and sealed), reopen and search `count` entries; the answers and peak."""
    index = ArchiveIndex("share")
    for entry in synthetic_entries(count):
        index.add(entry)
    index.finish({"ok": True})
    store = IndexStore(
        folder / "index", remember_protected=True, kdf_limits=KdfLimits(1, 8 * 1024 * 1024)
    )
    answers: dict[str, Any] = {"memory": _answers(index)}
    for mode, password in (("plain", None), ("sealed", PASSWORD)):
        backup = folder / f"{mode}.tar"
        backup.write_bytes(mode.encode())
        identity = identify_backup(backup)
        is_protected = password is not None
        assert store.save(identity, index, is_protected=is_protected, password=password)
        stored = store.open_index(identity, "share", is_protected=is_protected, password=password)
        assert stored is not None
        answers[mode] = _answers(stored)
    answers["peak_mb"] = _peak_rss_mb()
    return answers


def _answers(index: Any) -> dict[str, Any]:
    """A search and a deep folder page, reduced to what the test compares."""
    found = index.search("FILE-00012", 5, 3)
    page = index.folder_page("data/d0007", 990, 50)
    return {
        "search_total": found.total,
        "search_paths": [row["path"] for row in found.rows],
        "page_total": page.total,
        "page_paths": [row["path"] for row in page.rows],
        "root_size": index.folder_page("", 0, 1).rows[0]["size"],
    }


def _peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def run_measurement(count: int, folder: Path) -> dict[str, Any]:
    """`measure` in a fresh interpreter, killed after a deadline rather than hanging CI."""
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, __file__, str(count), str(folder)],
        capture_output=True,
        text=True,
        timeout=150,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.timeout(360)
def test_listing_saving_and_searching_use_memory_independent_of_entry_count(
    tmp_path: Path,
) -> None:
    """200 000 entries listed, saved, reopened and searched peak no higher than 20 000 do."""
    small = run_measurement(SMALL, tmp_path / "small")
    large = run_measurement(LARGE, tmp_path / "large")
    expected = {
        "search_total": 10 * LARGE // FILES_PER_FOLDER,  # file-000120 … file-000129 per folder
        "search_paths": [f"data/d0000/file-{number:06d}.txt" for number in (125, 126, 127)],
        "page_total": FILES_PER_FOLDER - 1,
        "page_paths": [f"data/d0007/file-{number:06d}.txt" for number in range(990, 999)],
        "root_size": sum(number % 7 for number in range(FILES_PER_FOLDER - 1))
        * (LARGE // FILES_PER_FOLDER),
    }
    for mode in ("memory", "plain", "sealed"):
        assert large[mode] == expected, mode
    growth = large["peak_mb"] - small["peak_mb"]
    assert growth < MAX_GROWTH_MB, (small["peak_mb"], large["peak_mb"])
    assert large["peak_mb"] < MAX_PEAK_MB, large["peak_mb"]


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), Path(sys.argv[2]))))
