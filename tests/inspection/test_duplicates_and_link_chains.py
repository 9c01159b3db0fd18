"""Duplicate member names (the last copy wins) and hard-link chains (followed a bounded number of times)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec
from backup_inspector.inspection import extract_job
from backup_inspector.inspection.backup_overview import BackupOverview, open_backup
from backup_inspector.inspection.extract_job import (
    MAX_HARDLINK_HOPS,
    ConflictPolicy,
    ReadEntryError,
    extract,
    read_entry,
)

from .test_extract_job import CollectingSink


def copies_of(entries: list[FileSpec], path: str) -> list[bytes]:
    """The contents of every member called `path`, in archive order."""
    return [spec.content or b"" for spec in entries if spec.path == path]


@pytest.fixture
def duplicate_backup(
    build_backup: Callable[..., Path], duplicate_entries: list[FileSpec]
) -> BackupOverview:
    """The duplicate-name entries as an unencrypted "share" archive."""
    return open_backup(build_backup("dups.tar", [ArchiveSpec("share", duplicate_entries)]))


@pytest.mark.parametrize("conflict", list(ConflictPolicy))
@pytest.mark.parametrize("selected", [[], ["notes/a.txt"], ["notes"]])
def test_extract_keeps_the_last_copy(
    duplicate_backup: BackupOverview,
    duplicate_entries: list[FileSpec],
    tmp_path: Path,
    conflict: ConflictPolicy,
    selected: list[str],
) -> None:
    """Extraction writes the last copy, once, and never calls the later copy "exists"."""
    first, last = copies_of(duplicate_entries, "notes/a.txt")
    destination = tmp_path / "out"
    report = extract(duplicate_backup, [("share", selected)], None, destination, conflict)
    assert (destination / "notes/a.txt").read_bytes() == last
    assert report.skipped == [] and report.refused == []
    assert report.written.count("notes/a.txt") == 1
    assert not (destination / "notes/a (1).txt").exists()
    if not selected or selected == ["notes"]:
        # The link was made when the first copy had the name: it keeps those bytes, as in tar.
        assert (destination / "notes/link").read_bytes() == first


def test_existing_file_still_skips_both_copies(
    duplicate_backup: BackupOverview, tmp_path: Path
) -> None:
    """A file that was there before the run is still kept under SKIP, for every copy."""
    destination = tmp_path / "out"
    (destination / "notes").mkdir(parents=True)
    (destination / "notes/a.txt").write_bytes(b"mine\n")
    report = extract(duplicate_backup, [("share", ["notes/a.txt"])], None, destination)
    assert (destination / "notes/a.txt").read_bytes() == b"mine\n"
    assert report.skipped == [("notes/a.txt", "exists"), ("notes/a.txt", "exists")]


def test_read_entry_streams_the_last_copy(
    duplicate_backup: BackupOverview, duplicate_entries: list[FileSpec]
) -> None:
    """Preview and download read the last copy, and announce its size before the bytes."""
    last = copies_of(duplicate_entries, "notes/a.txt")[-1]
    sink = CollectingSink()
    announced = []
    entry = read_entry(
        duplicate_backup, "share", "notes/a.txt", None, sink, on_located=announced.append
    )
    assert bytes(sink.data) == last and sink.closed
    assert entry.size == len(last) == announced[0].size


def test_hard_link_reads_the_copy_before_it(
    duplicate_backup: BackupOverview, duplicate_entries: list[FileSpec]
) -> None:
    """A hard link means the copy its target name had when the link came: here the first."""
    first = copies_of(duplicate_entries, "notes/a.txt")[0]
    sink = CollectingSink()
    read_entry(duplicate_backup, "share", "notes/link", None, sink)
    assert bytes(sink.data) == first


def count_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the archive walks read_entry makes from now on."""
    walks = [0]
    real_walk = extract_job.walk_archive

    def counting_walk(*args, **kwargs):  # type: ignore[no-untyped-def]
        walks[0] += 1
        return real_walk(*args, **kwargs)

    monkeypatch.setattr(extract_job, "walk_archive", counting_walk)
    return walks


def link_chain(length: int) -> list[FileSpec]:
    """A file "link0" and `length` hard links, each to the one before."""
    return [
        FileSpec("link0", content=b"target\n"),
        *(
            FileSpec(f"link{n}", type="hardlink", link_target=f"link{n - 1}")
            for n in range(1, length + 1)
        ),
    ]


def test_short_chain_is_followed(
    build_backup: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain within the bound is followed, one walk per hop plus the one that streams."""
    overview = open_backup(
        build_backup("chain.tar", [ArchiveSpec("share", link_chain(MAX_HARDLINK_HOPS))])
    )
    walks = count_walks(monkeypatch)
    sink = CollectingSink()
    read_entry(overview, "share", f"link{MAX_HARDLINK_HOPS}", None, sink)
    assert bytes(sink.data) == b"target\n"
    assert walks[0] == MAX_HARDLINK_HOPS + 2


def test_long_chain_is_refused_after_a_bounded_number_of_walks(
    build_backup: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain of 200 links is a clear ReadEntryError after at most MAX_HARDLINK_HOPS + 1 walks."""
    overview = open_backup(build_backup("chain.tar", [ArchiveSpec("share", link_chain(200))]))
    walks = count_walks(monkeypatch)
    with pytest.raises(ReadEntryError, match="chain of more than"):
        read_entry(overview, "share", "link200", None, CollectingSink())
    assert walks[0] <= MAX_HARDLINK_HOPS + 1


def test_loop_of_links_is_refused(
    build_backup: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two links naming each other are refused at once, by read_entry and by extraction."""
    entries = [
        FileSpec("zeros.bin", size=1024 * 1024, generator=lambda _offset, size: bytes(size)),
        FileSpec("a", type="hardlink", link_target="b"),
        FileSpec("b", type="hardlink", link_target="a"),
    ]
    overview = open_backup(build_backup("loop.tar", [ArchiveSpec("share", entries)]))
    walks = count_walks(monkeypatch)
    with pytest.raises(ReadEntryError, match="loop of links"):
        read_entry(overview, "share", "b", None, CollectingSink())
    assert walks[0] <= 3
    report = extract(overview, [("share", ["a", "b"])], None, tmp_path / "out")
    assert {path for path, _reason in report.refused} == {"a", "b"}
    assert walks[0] <= 3 + 2


def test_selected_link_to_an_unselected_duplicate_gets_the_copy_before_it(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """The second pass gives a link the last copy of its target before it, not the first or last."""
    entries = [
        FileSpec("t.txt", content=b"copy one\n"),
        FileSpec("t.txt", content=b"copy two, the one the link means\n"),
        FileSpec("link", type="hardlink", link_target="t.txt"),
        FileSpec("t.txt", content=b"copy three\n"),
    ]
    overview = open_backup(build_backup("dup-target.tar", [ArchiveSpec("share", entries)]))
    destination = tmp_path / "out"
    report = extract(overview, [("share", ["link"])], None, destination)
    assert report.skipped == [] and report.refused == []
    assert (destination / "link").read_bytes() == b"copy two, the one the link means\n"
    assert sorted(path.name for path in destination.iterdir()) == ["link"]
