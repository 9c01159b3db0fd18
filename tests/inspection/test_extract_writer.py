"""SafeExtractor driven directly with TarEntry objects and bytes, on a real disk."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.tar_entry import EntryType, TarEntry, normalise_member_path
from backup_inspector.inspection import extract_files, extract_writer
from backup_inspector.inspection.extract_files import PARTIAL_FILE_MARKER
from backup_inspector.inspection.extract_writer import (
    ConflictPolicy,
    DiskFullError,
    ExtractReport,
    SafeExtractor,
)

ARCHIVE = "core_test"
MTIME = 1_700_000_000.0


def entry(
    raw_name: str,
    entry_type: EntryType = EntryType.FILE,
    *,
    size: int = 0,
    mode: int = 0o644,
    link: str = "",
    mtime: float = MTIME,
) -> TarEntry:
    """A TarEntry built the way the tar reader builds it from a stored name."""
    return TarEntry(
        path=normalise_member_path(raw_name),
        raw_name=raw_name,
        type=entry_type,
        size=size,
        mtime=mtime,
        mode=mode,
        link=normalise_member_path(link) if entry_type is EntryType.HARDLINK else link,
    )


def feed_file(extractor: SafeExtractor, raw_name: str, data: bytes, **fields: object) -> bool:
    """Offer a regular file; stream its bytes in two pieces if a sink is returned."""
    sink = extractor.on_entry(entry(raw_name, size=len(data), **fields))  # type: ignore[arg-type]
    if sink is None:
        return False
    middle = len(data) // 2
    sink.write(data[:middle])
    sink.write(memoryview(data)[middle:])
    sink.close()
    return True


def all_names(directory: Path) -> set[str]:
    """Every path below `directory`, relative, including hidden partial files."""
    return {str(path.relative_to(directory)) for path in directory.rglob("*")}


def partial_files(directory: Path) -> list[str]:
    return [name for name in all_names(directory) if PARTIAL_FILE_MARKER in name]


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    """The extraction folder; tmp_path itself stands for "outside"."""
    return tmp_path / "dest"


def make_extractor(destination: Path, **options: object) -> SafeExtractor:
    return SafeExtractor(destination, archive_name=ARCHIVE, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ basics


def test_regular_file_gets_content_mode_and_time(destination: Path) -> None:
    """A file is written with its bytes, a cleaned mode and its mtime."""
    extractor = make_extractor(destination)
    assert feed_file(extractor, "./data/a.txt", b"hello", mode=0o640)
    report = extractor.finish()
    written = destination / "data" / "a.txt"
    assert written.read_bytes() == b"hello"
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert written.stat().st_mtime == MTIME
    assert report.written == ["data/a.txt"]
    assert report.bytes_written == 5
    assert partial_files(destination) == []


def test_setuid_setgid_and_group_write_are_cleared(destination: Path) -> None:
    """Special bits and group/other write never survive extraction."""
    extractor = make_extractor(destination)
    feed_file(extractor, "tool", b"#!/bin/sh\n", mode=0o6777)
    extractor.on_entry(entry("shared", EntryType.DIR, mode=0o1777))
    extractor.finish()
    assert stat.S_IMODE((destination / "tool").stat().st_mode) == 0o755
    assert stat.S_IMODE((destination / "shared").stat().st_mode) == 0o755


def test_directory_mtimes_are_restored_after_their_contents(destination: Path) -> None:
    """Folder times are set in finish(), after files inside them were written."""
    extractor = make_extractor(destination)
    extractor.on_entry(entry("data", EntryType.DIR, mode=0o755, mtime=1_000_000.0))
    extractor.on_entry(entry("data/sub", EntryType.DIR, mode=0o755, mtime=2_000_000.0))
    feed_file(extractor, "data/sub/f", b"x")
    report = extractor.finish()
    assert (destination / "data").stat().st_mtime == 1_000_000.0
    assert (destination / "data" / "sub").stat().st_mtime == 2_000_000.0
    assert report.written == ["data", "data/sub", "data/sub/f"]


def test_existing_directory_is_reused_and_reported(destination: Path) -> None:
    """A folder that existed before keeps its mode and the decision is reported."""
    (destination / "data").mkdir(parents=True)
    os.chmod(destination / "data", 0o700)
    extractor = make_extractor(destination)
    extractor.on_entry(entry("data", EntryType.DIR, mode=0o755))
    feed_file(extractor, "data/f", b"x")
    report = extractor.finish()
    assert stat.S_IMODE((destination / "data").stat().st_mode) == 0o700
    assert report.skipped == [("data", "folder already exists; entries are extracted into it")]
    assert report.written == ["data/f"]


def test_root_entry_is_the_destination_itself(destination: Path) -> None:
    """The archive root "." creates nothing and is not an error."""
    extractor = make_extractor(destination)
    assert extractor.on_entry(entry(".", EntryType.DIR)) is None
    report = extractor.finish()
    assert (report.written, report.skipped, report.refused) == ([], [], [])


def test_on_entry_after_finish_is_an_error(destination: Path) -> None:
    """Using a finished extractor is a programming error, not a silent no-op."""
    extractor = make_extractor(destination)
    extractor.finish()
    with pytest.raises(RuntimeError):
        extractor.on_entry(entry("late"))


# -------------------------------------------------------------- traversal


@pytest.mark.parametrize("raw_name", ["../x", "a/../../x", "/etc/passwd", "./../x"])
def test_traversal_and_absolute_names_are_refused(destination: Path, raw_name: str) -> None:
    """Escaping and absolute names are refused, reported as unsafe, and write nothing."""
    extractor = make_extractor(destination)
    assert extractor.on_entry(entry(raw_name, size=3)) is None
    report = extractor.finish()
    assert [path for path, _ in report.refused] == [normalise_member_path(raw_name)]
    assert [(p.code, p.archive) for p in report.problems] == [(FindingCode.UNSAFE_ENTRY, ARCHIVE)]
    assert all_names(destination.parent) == {"dest"}


def test_dotdot_that_stays_inside_is_collapsed_and_reported(destination: Path) -> None:
    """ "a/../b" lands at "b", and the different name is reported."""
    extractor = make_extractor(destination)
    feed_file(extractor, "a/../b", b"data")
    report = extractor.finish()
    assert (destination / "b").read_bytes() == b"data"
    assert report.renamed == [("a/../b", "b")]


# --------------------------------------------------------------- symlinks


def test_relative_symlink_inside_is_created(destination: Path) -> None:
    """A relative link that stays inside is created as a link."""
    extractor = make_extractor(destination)
    feed_file(extractor, "data/real.txt", b"x")
    extractor.on_entry(entry("data/alias", EntryType.SYMLINK, link="real.txt"))
    report = extractor.finish()
    assert os.readlink(destination / "data" / "alias") == "real.txt"
    assert "data/alias" in report.written


@pytest.mark.parametrize(
    ("raw_name", "target"),
    [("data/config", "/config"), ("data/backup", "/backup"), ("data/up", "../../outside")],
)
def test_absolute_and_escaping_symlinks_are_refused(
    destination: Path, raw_name: str, target: str
) -> None:
    """Links to absolute paths or above the destination are refused and reported."""
    extractor = make_extractor(destination)
    extractor.on_entry(entry(raw_name, EntryType.SYMLINK, link=target))
    report = extractor.finish()
    assert not os.path.lexists(destination / raw_name)
    assert report.refused and report.refused[0][0] == raw_name
    assert report.problems[0].code is FindingCode.UNSAFE_ENTRY


def test_file_written_through_an_earlier_symlink_is_refused(destination: Path) -> None:
    """A member below a link member is refused, even when the link points inside."""
    extractor = make_extractor(destination)
    extractor.on_entry(entry("real", EntryType.DIR))
    extractor.on_entry(entry("sneaky", EntryType.SYMLINK, link="real"))
    assert extractor.on_entry(entry("sneaky/payload", size=4)) is None
    report = extractor.finish()
    assert not (destination / "real" / "payload").exists()
    assert report.refused[0][0] == "sneaky/payload"
    assert "symbolic link" in report.refused[0][1]


def test_existing_symlink_in_destination_is_never_written_through(
    destination: Path, tmp_path: Path
) -> None:
    """A link already on disk that points outside cannot be used to write outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    destination.mkdir()
    os.symlink(outside, destination / "evil")
    extractor = make_extractor(destination, conflict=ConflictPolicy.OVERWRITE)
    assert extractor.on_entry(entry("evil/x", size=1)) is None
    report = extractor.finish()
    assert list(outside.iterdir()) == []
    assert report.refused[0][0] == "evil/x"


def test_symlink_resolving_outside_through_existing_links_is_refused(destination: Path) -> None:
    """The real path at creation time is checked, not only the lexical target."""
    extractor = make_extractor(destination)
    extractor.on_entry(entry("sub", EntryType.DIR))
    extractor.on_entry(entry("sub/up", EntryType.SYMLINK, link=".."))  # the destination itself
    extractor.on_entry(entry("l1", EntryType.SYMLINK, link="sub/up"))
    extractor.on_entry(
        entry("l2", EntryType.SYMLINK, link="l1/..")
    )  # lexically ".", really outside
    assert not os.path.lexists(destination / "l2")  # never created, not only removed later
    report = extractor.finish()
    assert not os.path.lexists(destination / "l2")
    assert [path for path, _ in report.refused] == ["l2"]


def test_link_that_would_make_an_earlier_link_escape_is_never_created(destination: Path) -> None:
    """A link that would let an earlier, harmless link lead outside is refused, not created."""
    extractor = make_extractor(destination)
    extractor.on_entry(entry("a", EntryType.SYMLINK, link="x/.."))  # x does not exist yet
    extractor.on_entry(entry("x", EntryType.SYMLINK, link="."))  # with it, a → ./.. → outside
    report = extractor.finish()
    assert os.readlink(destination / "a") == "x/.."
    assert os.path.realpath(destination / "a") == str(destination.resolve())
    assert not os.path.lexists(destination / "x")
    assert [path for path, _ in report.refused] == ["x"]
    assert "lead outside" in report.refused[0][1]
    assert report.written == ["a"]
    assert [p.code for p in report.problems] == [FindingCode.UNSAFE_ENTRY]


def test_unsupported_symlinks_are_reported_and_extraction_continues(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where links cannot be created, the link is skipped and later files still land."""

    def no_symlinks(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(extract_writer.os, "symlink", no_symlinks)
    extractor = make_extractor(destination)
    extractor.on_entry(entry("link", EntryType.SYMLINK, link="target"))
    feed_file(extractor, "after", b"still here")
    report = extractor.finish()
    assert report.skipped[0][0] == "link" and "cannot be created" in report.skipped[0][1]
    assert (destination / "after").read_bytes() == b"still here"


# -------------------------------------------------------------- hard links


def test_hardlink_in_stream_shares_content_and_inode(destination: Path) -> None:
    """A hard link to a file written earlier gets the same content (and inode here)."""
    extractor = make_extractor(destination)
    feed_file(extractor, "data/db.sqlite", b"tables")
    assert (
        extractor.on_entry(entry("data/db-copy", EntryType.HARDLINK, link="data/db.sqlite")) is None
    )
    report = extractor.finish()
    original, link = destination / "data" / "db.sqlite", destination / "data" / "db-copy"
    assert link.read_bytes() == b"tables"
    assert os.stat(original).st_ino == os.stat(link).st_ino
    assert report.written == ["data/db.sqlite", "data/db-copy"]
    assert report.pending_hardlinks == []


def test_hardlink_falls_back_to_copy_when_linking_fails(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without hard-link support, the already extracted file is copied instead."""

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(extract_writer.os, "link", no_links)
    extractor = make_extractor(destination)
    feed_file(extractor, "a", b"content", mode=0o600)
    extractor.on_entry(entry("b", EntryType.HARDLINK, link="a"))
    report = extractor.finish()
    assert (destination / "b").read_bytes() == b"content"
    assert os.stat(destination / "a").st_ino != os.stat(destination / "b").st_ino
    assert report.bytes_written == 14
    assert partial_files(destination) == []


def test_hardlink_to_unselected_target_is_pending_and_second_pass_writes_it(
    destination: Path,
) -> None:
    """A link whose target was not selected is listed as pending, then filled by a second pass."""
    first = make_extractor(destination, selected_paths=["data/link"])
    feed_file(first, "data/target", b"payload")
    first.on_entry(entry("data/link", EntryType.HARDLINK, link="data/target"))
    report = first.finish()
    assert report.pending_hardlinks == [("data/link", "data/target")]
    assert not (destination / "data" / "link").exists()

    second = SafeExtractor.for_pending_hardlinks(
        destination, report.pending_hardlinks, archive_name=ARCHIVE
    )
    feed_file(second, "data/target", b"payload")
    second.on_entry(entry("data/link", EntryType.HARDLINK, link="data/target"))
    second_report = second.finish()
    assert (destination / "data" / "link").read_bytes() == b"payload"
    assert not (destination / "data" / "target").exists()
    assert second_report.written == ["data/link"]


def test_second_pass_reports_links_whose_target_is_missing(destination: Path) -> None:
    """A pending link whose target never comes by in the second pass is reported, not lost."""
    second = SafeExtractor.for_pending_hardlinks(
        destination, [("data/link", "data/gone")], archive_name=ARCHIVE
    )
    feed_file(second, "data/other", b"unrelated")
    report = second.finish()
    assert report.written == []
    assert report.skipped == [
        ("data/link", "hard link target 'data/gone' was not found in the archive")
    ]


def test_context_manager_cleans_up_after_a_reader_error(destination: Path) -> None:
    """Leaving the with-block through an exception removes the unfinished partial file."""
    with pytest.raises(ValueError), make_extractor(destination) as extractor:
        sink = extractor.on_entry(entry("data/f", size=10))
        assert sink is not None
        sink.write(b"half")
        raise ValueError("archive broke")
    assert all_names(destination) == {"data"}
    assert extractor.finish().skipped[0][0] == "data/f"


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "never/seen"])
def test_hardlink_to_escaping_or_unknown_target_is_refused(destination: Path, target: str) -> None:
    """Hard links never reach outside, nor to anything this run did not write."""
    (destination / "etc").mkdir(parents=True)
    (destination / "etc" / "passwd").write_text("pre-existing, not ours")
    extractor = make_extractor(destination)
    extractor.on_entry(entry("stolen", EntryType.HARDLINK, link=target))
    report = extractor.finish()
    assert not os.path.lexists(destination / "stolen")
    assert [path for path, _ in report.refused] == ["stolen"]


# --------------------------------------------------------- special files


def test_fifo_and_device_entries_are_skipped_not_refused(destination: Path) -> None:
    """Devices and FIFOs are reported as skipped and nothing is created."""
    extractor = make_extractor(destination)
    extractor.on_entry(entry("dev/null", EntryType.OTHER))
    extractor.on_entry(entry("run/pipe", EntryType.OTHER))
    report = extractor.finish()
    assert [path for path, _ in report.skipped] == ["dev/null", "run/pipe"]
    assert report.refused == [] and report.problems == []
    assert not destination.exists() or all_names(destination) == set()


# --------------------------------------------------------------- conflicts


def test_conflict_skip_keeps_existing_file_and_reads_no_bytes(destination: Path) -> None:
    """With "skip", an existing file stays and the member's data is not even requested."""
    destination.mkdir()
    (destination / "a.txt").write_bytes(b"old")
    extractor = make_extractor(destination, conflict=ConflictPolicy.SKIP)
    assert extractor.on_entry(entry("a.txt", size=3)) is None
    report = extractor.finish()
    assert (destination / "a.txt").read_bytes() == b"old"
    assert report.skipped == [("a.txt", "exists")]


def test_conflict_overwrite_replaces_file_and_symlink_without_following(
    destination: Path, tmp_path: Path
) -> None:
    """With "overwrite", files are replaced, and a link in the way is replaced, not followed."""
    destination.mkdir()
    (destination / "a.txt").write_bytes(b"old")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"untouched")
    os.symlink(victim, destination / "b.txt")
    extractor = make_extractor(destination, conflict="overwrite")
    feed_file(extractor, "a.txt", b"new a")
    feed_file(extractor, "b.txt", b"new b")
    report = extractor.finish()
    assert (destination / "a.txt").read_bytes() == b"new a"
    assert not os.path.islink(destination / "b.txt")
    assert (destination / "b.txt").read_bytes() == b"new b"
    assert victim.read_bytes() == b"untouched"
    assert report.written == ["a.txt", "b.txt"]


def test_conflict_keep_both_numbers_new_files(destination: Path) -> None:
    """With "keep-both", the new file gets the next free "name (n).ext" and is reported."""
    destination.mkdir()
    (destination / "report.txt").write_bytes(b"first")
    (destination / "report (1).txt").write_bytes(b"second")
    extractor = make_extractor(destination, conflict=ConflictPolicy.KEEP_BOTH)
    feed_file(extractor, "report.txt", b"third")
    report = extractor.finish()
    assert (destination / "report.txt").read_bytes() == b"first"
    assert (destination / "report (1).txt").read_bytes() == b"second"
    assert (destination / "report (2).txt").read_bytes() == b"third"
    assert report.renamed == [("report.txt", "report (2).txt")]
    assert report.written == ["report (2).txt"]


def test_overwrite_never_replaces_a_folder(destination: Path) -> None:
    """A file member whose name is an existing folder is skipped, even with "overwrite"."""
    (destination / "data").mkdir(parents=True)
    extractor = make_extractor(destination, conflict=ConflictPolicy.OVERWRITE)
    feed_file(extractor, "data", b"x")
    report = extractor.finish()
    assert (destination / "data").is_dir()
    assert report.skipped[0][0] == "data" and "folder" in report.skipped[0][1]
    assert partial_files(destination) == []


def test_file_appearing_during_write_is_not_clobbered(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file created by someone else while we write is kept; ours is numbered instead."""
    extractor = make_extractor(destination, conflict=ConflictPolicy.KEEP_BOTH)
    sink = extractor.on_entry(entry("race.txt", size=4))
    assert sink is not None
    sink.write(b"ours")
    (destination / "race.txt").write_bytes(b"theirs")
    # Make the existence check miss it once, as if it appeared right after the check.
    real_lstat_or_none = extract_files.lstat_or_none
    missed: list[Path] = []

    def lstat_missing_once(path: Path) -> os.stat_result | None:
        if path.name == "race.txt" and not missed:
            missed.append(path)
            return None
        return real_lstat_or_none(path)

    monkeypatch.setattr(extract_files, "lstat_or_none", lstat_missing_once)
    sink.close()
    report = extractor.finish()
    assert missed
    assert (destination / "race.txt").read_bytes() == b"theirs"
    assert (destination / "race (1).txt").read_bytes() == b"ours"
    assert report.renamed == [("race.txt", "race (1).txt")]


# ------------------------------------------------------- partial files


def test_abort_leaves_no_file_and_no_partial_file(destination: Path) -> None:
    """abort() removes the partial file and reports the member as skipped."""
    extractor = make_extractor(destination)
    sink = extractor.on_entry(entry("data/big.bin", size=100))
    assert sink is not None
    sink.write(b"x" * 40)
    assert len(partial_files(destination)) == 1
    sink.abort()
    report = extractor.finish()
    assert all_names(destination) == {"data"}
    assert report.skipped[0][0] == "data/big.bin"
    assert report.written == []


def test_incomplete_data_is_not_committed(destination: Path) -> None:
    """close() with fewer bytes than the header promised keeps nothing."""
    extractor = make_extractor(destination)
    sink = extractor.on_entry(entry("short", size=10))
    assert sink is not None
    sink.write(b"abc")
    sink.close()
    report = extractor.finish()
    assert all_names(destination) == set()
    assert report.skipped == [("short", "incomplete: 3 of 10 bytes arrived")]


def test_unfinished_sink_is_aborted_by_finish(destination: Path) -> None:
    """A sink that was neither closed nor aborted is cleaned up and reported by finish()."""
    extractor = make_extractor(destination)
    sink = extractor.on_entry(entry("dangling", size=10))
    assert sink is not None
    sink.write(b"abc")
    report = extractor.finish()
    assert all_names(destination) == set()
    assert report.skipped[0][0] == "dangling"


@pytest.fixture
def disk_fills_on_marker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """os.write raises ENOSPC for data starting with b"FULL"; other writes pass through."""
    real_write = os.write

    def write(fd: int, data: bytes | memoryview) -> int:
        if bytes(data[:4]) == b"FULL":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(extract_writer.os, "write", write)
    yield


@pytest.mark.usefixtures("disk_fills_on_marker")
def test_disk_full_while_writing_removes_partial_and_stops(destination: Path) -> None:
    """ENOSPC during a write removes the partial file and raises DiskFullError with the report."""
    extractor = make_extractor(destination)
    feed_file(extractor, "kept.txt", b"fine")
    sink = extractor.on_entry(entry("data/huge.bin", size=8))
    assert sink is not None
    sink.write(b"abcd")
    with pytest.raises(DiskFullError) as raised:
        sink.write(b"FULL")
    report = raised.value.report
    assert report.written == ["kept.txt"]
    assert report.refused[0][0] == "data/huge.bin"
    assert "not enough free space" in report.refused[0][1]
    assert report.stopped_reason is not None and "full" in report.stopped_reason
    assert all_names(destination) == {"kept.txt", "data"}
    sink.abort()  # a reader that still aborts must not break anything
    assert extractor.finish() is report


def fake_free_space(monkeypatch: pytest.MonkeyPatch, free_bytes: list[int]) -> None:
    """Make the extractor see `free_bytes[0]` bytes free (the list can change later)."""
    mib = 1024 * 1024

    def disk(path: object) -> shutil._ntuple_diskusage:  # type: ignore[name-defined]
        return shutil._ntuple_diskusage(100 * mib, 100 * mib - free_bytes[0], free_bytes[0])  # type: ignore[attr-defined]

    monkeypatch.setattr(extract_writer.shutil, "disk_usage", disk)


def test_free_space_is_checked_before_every_file(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that would take free space below the floor is refused before writing; the run stops."""
    mib = 1024 * 1024
    fake_free_space(monkeypatch, [5 * mib])
    extractor = make_extractor(destination, free_space_floor_bytes=2 * mib)
    feed_file(extractor, "small.txt", b"fits with the floor")
    with pytest.raises(DiskFullError) as raised:
        extractor.on_entry(entry("big.bin", size=4 * mib))
    report = raised.value.report
    assert report.refused == [("big.bin", report.refused[0][1])]
    assert report.refused[0][1] == (
        "not enough free space: 'big.bin' needs 4.0 MiB and 2.0 MiB are kept free, "
        "but only 5.0 MiB are free"
    )
    assert report.stopped_reason == report.refused[0][1]
    assert report.written == ["small.txt"]
    assert all_names(destination) == {"small.txt"}


def test_writing_stops_when_free_space_drops_below_the_floor(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another program fills the disk meanwhile, the partial file goes and the run stops."""
    mib = 1024 * 1024
    free = [50 * mib]
    fake_free_space(monkeypatch, free)
    extractor = make_extractor(destination, free_space_floor_bytes=2 * mib)
    feed_file(extractor, "before.txt", b"written before")
    sink = extractor.on_entry(entry("big.bin", size=20 * mib))
    assert sink is not None
    sink.write(bytes(extract_writer.FREE_SPACE_RECHECK_BYTES))
    free[0] = 1 * mib  # something else wrote 49 MiB
    with pytest.raises(DiskFullError) as raised:
        sink.write(bytes(mib))
    report = raised.value.report
    assert "below the 2.0 MiB kept free" in (report.stopped_reason or "")
    assert [path for path, _ in report.refused] == ["big.bin"]
    assert report.written == ["before.txt"]
    assert all_names(destination) == {"before.txt"}  # no partial file left


# --------------------------------------------------------------- names


def test_windows_policy_renames_and_reports(destination: Path) -> None:
    """Under the windows policy, ":" , reserved names and trailing dots are renamed and reported."""
    extractor = make_extractor(destination, name_policy="windows")
    feed_file(extractor, "data/12:30 backup.txt", b"1")
    feed_file(extractor, "data/CON.txt", b"2")
    feed_file(extractor, "data/notes.", b"3")
    report = extractor.finish()
    assert (destination / "data" / "12_30 backup.txt").read_bytes() == b"1"
    assert (destination / "data" / "CON_.txt").read_bytes() == b"2"
    assert (destination / "data" / "notes").read_bytes() == b"3"
    assert report.renamed == [
        ("data/12:30 backup.txt", "data/12_30 backup.txt"),
        ("data/CON.txt", "data/CON_.txt"),
        ("data/notes.", "data/notes"),
    ]


@pytest.mark.parametrize("conflict", list(ConflictPolicy))
def test_windows_name_collisions_never_overwrite_each_other(
    destination: Path, conflict: ConflictPolicy
) -> None:
    """Different members meeting on one portable name are numbered, whatever the policy."""
    extractor = make_extractor(destination, name_policy="windows", conflict=conflict)
    feed_file(extractor, "a:b", b"colon")
    feed_file(extractor, "a?b", b"question")
    feed_file(extractor, "a_b", b"underscore")
    report = extractor.finish()
    contents = {path.name: path.read_bytes() for path in destination.iterdir()}
    assert contents == {"a_b": b"colon", "a_b (1)": b"question", "a_b (2)": b"underscore"}
    assert ("a_b", "a_b (2)") in report.renamed


def test_windows_folder_collisions_keep_folders_apart(destination: Path) -> None:
    """Two archive folders meeting on one portable name get separate folders."""
    extractor = make_extractor(destination, name_policy="windows")
    feed_file(extractor, "x:y/f", b"first")
    feed_file(extractor, "x_y/f", b"second")
    report = extractor.finish()
    assert (destination / "x_y" / "f").read_bytes() == b"first"
    assert (destination / "x_y (1)" / "f").read_bytes() == b"second"
    assert ("x_y", "x_y (1)") in report.renamed


def test_duplicate_member_with_overwrite_keeps_the_later_one(destination: Path) -> None:
    """The same member twice in one archive replaces itself with "overwrite", like tar."""
    extractor = make_extractor(destination, conflict=ConflictPolicy.OVERWRITE)
    feed_file(extractor, "twice", b"first")
    feed_file(extractor, "twice", b"second")
    extractor.finish()
    assert (destination / "twice").read_bytes() == b"second"


def test_long_and_non_ascii_names(destination: Path) -> None:
    """Long and non-ASCII names work; a name too long for the disk is skipped, not fatal."""
    long_name = "l" * 200 + ".txt"
    too_long = "t" * 300
    extractor = make_extractor(destination)
    feed_file(extractor, f"data/{long_name}", b"long")
    feed_file(extractor, "data/Ünïcödé 日本語 ✓.yaml", b"utf8")
    feed_file(extractor, f"data/{too_long}", b"nope")
    feed_file(extractor, "data/after", b"continues")
    report = extractor.finish()
    assert (destination / "data" / long_name).read_bytes() == b"long"
    assert (destination / "data" / "Ünïcödé 日本語 ✓.yaml").read_bytes() == b"utf8"
    assert (destination / "data" / "after").read_bytes() == b"continues"
    assert [path for path, _ in report.skipped] == [f"data/{too_long}"]
    assert partial_files(destination) == []


# --------------------------------------------------------------- selection


def test_selection_by_folder_prefix_creates_implied_folders(destination: Path) -> None:
    """Selecting a folder extracts it and everything below, creating missing parents."""
    extractor = make_extractor(destination, selected_paths=["./data/sub"])
    feed_file(extractor, "./addon.json", b"{}")
    feed_file(extractor, "data/sub/a", b"a")
    feed_file(extractor, "data/sub/deep/b", b"b")
    feed_file(extractor, "data/subway", b"not below data/sub")
    feed_file(extractor, "data/other", b"no")
    report = extractor.finish()
    assert all_names(destination) == {
        "data",
        "data/sub",
        "data/sub/a",
        "data/sub/deep",
        "data/sub/deep/b",
    }
    assert report.written == ["data/sub/a", "data/sub/deep/b"]


# ----------------------------------------------------------------- report


def test_report_merge_and_json() -> None:
    """Reports of several archives merge in place, in order, and serialise to JSON types."""
    first = ExtractReport(written=["a"], skipped=[("s", "exists")], bytes_written=3)
    second = ExtractReport(
        written=["b"],
        refused=[("r", "absolute path (/r)")],
        renamed=[("x:y", "x_y")],
        pending_hardlinks=[("l", "t")],
        bytes_written=4,
        stopped_reason="the destination is full",
    )
    merged = first.merge(second)
    assert merged is first
    assert first.written == ["a", "b"]
    assert first.bytes_written == 7
    assert first.to_json() == {
        "written": ["a", "b"],
        "skipped": [{"path": "s", "reason": "exists"}],
        "refused": [{"path": "r", "reason": "absolute path (/r)"}],
        "renamed": [{"from": "x:y", "to": "x_y"}],
        "pending_hardlinks": [{"path": "l", "target": "t"}],
        "bytes_written": 7,
        "problems": [],
        "stopped_reason": "the destination is full",
    }


# --------------------------------------------------------------- kills and leftovers


def test_no_link_leads_outside_at_any_moment(
    destination: Path,
    monkeypatch: pytest.MonkeyPatch,
    links_outside: Callable[[Path], list[str]],
) -> None:
    """After every single symlink the extractor creates, every link on disk stays inside."""
    checked_after: list[str] = []
    real_symlink = os.symlink

    def symlink_then_check(target: str, path: object, *args: object, **kwargs: object) -> None:
        real_symlink(target, path, *args, **kwargs)  # type: ignore[arg-type]
        assert links_outside(destination) == [], f"after creating {path}"
        checked_after.append(str(path))

    monkeypatch.setattr(extract_files.os, "symlink", symlink_then_check)
    extractor = make_extractor(destination)
    extractor.on_entry(entry("d/deeper", EntryType.DIR))
    chain = [("d/l0", "deeper"), ("d/l1", "l0/.."), ("d/l2", "l1/.."), ("d/l3", "l2/../..")]
    for index in range(4, 13):
        chain.append((f"d/l{index}", f"l{index - 1}/.."))  # l12 -> l11/.. … reaching "/"
    chain += [("d/e", "p/../.."), ("d/p", "."), ("d/fine", "deeper")]
    for path, target in chain:
        extractor.on_entry(entry(path, EntryType.SYMLINK, link=target))
    report = extractor.finish()
    assert checked_after  # links were created, each checked right away
    assert links_outside(destination) == []
    assert "d/fine" in report.written and "d/p" in {path for path, _ in report.refused}


def test_stale_partial_files_go_but_one_being_written_stays(destination: Path) -> None:
    """A new extraction removes leftover partial files, never one another run is writing."""
    destination.mkdir(parents=True, exist_ok=True)
    stale = destination / f".old.txt{PARTIAL_FILE_MARKER}0badc0de"
    stale.write_bytes(b"left by a killed run")
    writer = make_extractor(destination)
    sink = writer.on_entry(entry("big.bin", size=10))
    assert sink is not None
    sink.write(b"12345")
    in_use = [path for path in destination.iterdir() if PARTIAL_FILE_MARKER in path.name]
    assert len(in_use) == 1 and in_use[0] != stale
    make_extractor(destination)  # a second extraction into the same folder
    assert [path for path in destination.iterdir() if PARTIAL_FILE_MARKER in path.name] == in_use
    sink.write(b"67890")
    sink.close()
    assert (destination / "big.bin").read_bytes() == b"1234567890"


# --------------------------------------------------------------- deep folders


def test_folders_are_checked_once_per_run(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 files 300 levels deep cost a few lstat calls each, not one per level per file."""
    calls = [0]
    real_lstat = os.lstat

    def counting_lstat(*args: object, **kwargs: object) -> os.stat_result:
        calls[0] += 1
        return real_lstat(*args, **kwargs)  # type: ignore[arg-type]

    extractor = make_extractor(destination)
    folder = "/".join(["d"] * 300)
    monkeypatch.setattr(os, "lstat", counting_lstat)
    for number in range(300):
        feed_file(extractor, f"{folder}/f{number}", b"x")
    report = extractor.finish()
    assert len(report.written) == 300
    # Checking every level for every file would take 90 000 calls and more.
    assert calls[0] < 5000


@pytest.mark.parametrize("swapped", ["a/b", "a/b/c"])
def test_symlink_swapped_in_during_the_run_is_caught(
    destination: Path, tmp_path: Path, swapped: str
) -> None:
    """A folder replaced by a link to another folder (outside) after its check is refused."""
    extractor = make_extractor(destination)
    assert feed_file(extractor, "a/b/c/first.txt", b"1")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "c").mkdir(parents=True)
    moved = tmp_path / "moved"
    os.rename(destination / swapped, moved)
    os.symlink(elsewhere if swapped == "a/b" else elsewhere / "c", destination / swapped)
    assert not feed_file(extractor, "a/b/c/second.txt", b"2")
    report = extractor.finish()
    assert [path for path, _ in report.refused] == ["a/b/c/second.txt"]
    assert list((elsewhere / "c").iterdir()) == []
