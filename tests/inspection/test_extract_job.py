"""extract and read_entry on real backup files: byte-exact, streaming, and safe on disk."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.backup_format.tar_entry import DataSink
from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    WrittenBackup,
    find_crc_breaking_offset,
    flip_byte,
    member_location,
    patterned_content,
    random_content,
    share_folder_entries,
    truncate_file,
)
from backup_inspector.demo.entry_specs import files_to_specs
from backup_inspector.demo.era_presets import era_presets
from backup_inspector.inspection import extract_writer
from backup_inspector.inspection.archive_walk import ArchiveNotFoundError, EntryNotFoundError
from backup_inspector.inspection.backup_overview import BackupOverview, open_backup
from backup_inspector.inspection.extract_job import (
    ConflictPolicy,
    ExtractReport,
    extract,
    read_entry,
)


def files_under(root: Path) -> dict[str, bytes]:
    """Every regular file below `root` (symlinks not followed), by relative POSIX path."""
    found: dict[str, bytes] = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def everything_under(root: Path) -> set[str]:
    """Every name below `root` (files, folders, links), by relative POSIX path."""
    return {
        (Path(folder) / name).relative_to(root).as_posix()
        for folder, dirs, names in os.walk(root)
        for name in [*dirs, *names]
    }


def reported_paths(report: ExtractReport) -> set[str]:
    """Every path the report mentions as skipped or refused."""
    return {path for path, _ in report.skipped} | {path for path, _ in report.refused}


def member(compressed: bool, name: str = "share") -> str:
    """The outer member name the writer gives an archive."""
    return f"{name}.tar.gz" if compressed else f"{name}.tar"


class CollectingSink(DataSink):
    """Keeps the bytes of one entry in memory and remembers how it ended."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | memoryview) -> None:
        """Append a piece."""
        self.data += data

    def close(self) -> None:
        """All bytes arrived."""
        self.closed = True

    def abort(self) -> None:
        """The entry was not completed."""
        self.aborted = True


# --------------------------------------------------------------------------
# Byte-exact extraction in every encryption
# --------------------------------------------------------------------------


def test_single_file_is_byte_identical(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    password: str,
    tmp_path: Path,
) -> None:
    """One selected file lands at DIR/<path> with its original bytes, and nothing else does."""
    encryption, compressed = encryption_case
    overview = open_backup(three_archive_backup(encryption, compressed))
    destination = tmp_path / "out"
    wanted = "camera/snapshot_1.jpg"
    report = extract(overview, [("share", [wanted])], password, destination)
    assert report.problems == []
    assert report.written == [wanted]
    assert files_under(destination) == {wanted: three_archive_files["share"][wanted]}
    assert report.bytes_written == len(three_archive_files["share"][wanted])


def test_whole_archives_are_byte_identical(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    password: str,
    tmp_path: Path,
) -> None:
    """An empty path list extracts the whole archive; several archives go to one destination."""
    encryption, compressed = encryption_case
    overview = open_backup(three_archive_backup(encryption, compressed))
    destination = tmp_path / "out"
    report = extract(overview, [("homeassistant", []), ("ssl", [])], password, destination)
    assert report.problems == []
    assert files_under(destination) == {
        **three_archive_files["homeassistant"],
        **three_archive_files["ssl"],
    }


# Every Supervisor era writes a share folder; a preset added later is covered too.
@pytest.mark.parametrize("name", sorted(n for n in era_presets() if n.startswith("supervisor_")))
def test_preset_share_files_are_byte_identical(
    era_backups: dict[str, WrittenBackup], name: str, tmp_path: Path
) -> None:
    """The share folder of every era (v1 gzip and tar, plain, v2, v3) extracts byte for byte."""
    written = era_backups[name]
    expected = {spec.path: spec.content for spec in share_folder_entries() if spec.type == "file"}
    report = extract(open_backup(written.path), [("share", [])], written.password, tmp_path / "out")
    assert report.problems == []
    assert files_under(tmp_path / "out") == expected


def test_dot_slash_entry_lands_without_prefix(
    era_backups: dict[str, WrittenBackup], tmp_path: Path
) -> None:
    """An entry stored as "./configuration.yaml" (2019) is asked for and lands without "./"."""
    written = era_backups["supervisor_2019_gnu_snapshot"]
    destination = tmp_path / "out"
    report = extract(
        open_backup(written.path),
        [("homeassistant", ["configuration.yaml"])],
        written.password,
        destination,
    )
    assert report.written == ["configuration.yaml"]
    assert (
        (destination / "configuration.yaml")
        .read_bytes()
        .startswith(b"# Loads default set of integrations")
    )


def test_folder_extracts_its_subtree(
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    password: str,
    tmp_path: Path,
) -> None:
    """Selecting a folder extracts it and everything below it to DIR/<folder>, nothing beside it."""
    overview = open_backup(three_archive_backup("v3"))
    destination = tmp_path / "out"
    report = extract(overview, [("homeassistant", ["data/.storage"])], password, destination)
    assert report.problems == []
    expected = {
        p: c
        for p, c in three_archive_files["homeassistant"].items()
        if p.startswith("data/.storage/")
    }
    assert expected
    assert files_under(destination) == expected


# --------------------------------------------------------------------------
# Hard links in a stream
# --------------------------------------------------------------------------


def links_backup(
    build_backup: Callable[..., Path],
    linked_entries: list[FileSpec],
    encryption: str,
    compressed: bool = True,
) -> tuple[BackupOverview, bytes]:
    """The `linked_entries` backup as a "share" archive, and the bytes its hard links point to."""
    archive = ArchiveSpec("share", linked_entries, encryption=encryption, compressed=compressed)
    overview = open_backup(build_backup("links.tar", [archive]))
    target = next(s for s in linked_entries if s.path == "data/target.bin").content
    assert target is not None
    return overview, target


def test_unselected_hardlink_target_is_fetched(
    encryption_case: tuple[str, bool],
    build_backup: Callable[..., Path],
    linked_entries: list[FileSpec],
    password: str,
    tmp_path: Path,
) -> None:
    """A selected hard link whose target was not selected gets the target's bytes (second pass)."""
    overview, target = links_backup(build_backup, linked_entries, *encryption_case)
    destination = tmp_path / "out"
    report = extract(overview, [("share", ["data/link_a"])], password, destination)
    assert report.problems == [] and report.refused == []
    assert report.pending_hardlinks == []
    assert files_under(destination) == {"data/link_a": target}


def test_two_links_to_one_unselected_target(
    build_backup: Callable[..., Path], linked_entries: list[FileSpec], password: str, tmp_path: Path
) -> None:
    """Two selected links to the same unselected target both get its bytes."""
    overview, target = links_backup(build_backup, linked_entries, "v2")
    destination = tmp_path / "out"
    report = extract(overview, [("share", ["data/link_a", "data/link_b"])], password, destination)
    assert report.refused == []
    assert files_under(destination) == {"data/link_a": target, "data/link_b": target}


def test_hardlinks_inside_an_encrypted_stream_both_land(
    encrypted_case: tuple[str, bool],
    build_backup: Callable[..., Path],
    linked_entries: list[FileSpec],
    password: str,
    tmp_path: Path,
) -> None:
    """A folder with a file and two hard links to it extracts all three with the same bytes."""
    overview, target = links_backup(build_backup, linked_entries, *encrypted_case)
    destination = tmp_path / "out"
    report = extract(overview, [("share", ["data"])], password, destination)
    assert report.refused == []
    found = files_under(destination)
    assert {p: found[p] for p in ("data/target.bin", "data/link_a", "data/link_b")} == {
        "data/target.bin": target,
        "data/link_a": target,
        "data/link_b": target,
    }
    assert os.readlink(destination / "data/current") == "target.bin"


def test_long_and_non_ascii_names_land(
    build_backup: Callable[..., Path], linked_entries: list[FileSpec], password: str, tmp_path: Path
) -> None:
    """Names over 100 bytes and non-ASCII names are extracted under exactly those names."""
    overview = open_backup(
        build_backup("names.tar", [ArchiveSpec("share", linked_entries, encryption="v3")])
    )
    destination = tmp_path / "out"
    wanted = [
        s
        for s in linked_entries
        if s.type == "file" and (len(s.path.encode()) > 100 or not s.path.isascii())
    ]
    assert len(wanted) == 2
    report = extract(overview, [("share", [s.path for s in wanted])], password, destination)
    assert report.problems == []
    assert files_under(destination) == {s.path: s.content for s in wanted}


# --------------------------------------------------------------------------
# Safety: nothing outside the destination, nothing overwritten
# --------------------------------------------------------------------------

HOSTILE_ENTRIES = [
    FileSpec("../escape.txt", content=b"escaped"),
    FileSpec("a/../../escape2.txt", content=b"escaped"),
    FileSpec("etc_link", type="symlink", link_target="/etc"),
    FileSpec("etc_link/passwd", content=b"through an absolute link"),
    FileSpec("up", type="symlink", link_target="../.."),
    FileSpec("up/escape3.txt", content=b"through a relative link"),
    FileSpec("d", type="dir"),
    FileSpec("d/parent", type="symlink", link_target=".."),
    FileSpec("d/parent/outer", type="symlink", link_target="../.."),
    FileSpec("d/parent/outer/escape4.txt", content=b"through a link chain"),
    FileSpec("hard", type="hardlink", link_target="../outside.txt"),
    FileSpec("fine.txt", content=b"fine"),
]


@pytest.mark.parametrize("encryption", ["none", "v1-legacy", "v3"])
def test_hostile_entries_never_land_outside(
    build_backup: Callable[..., Path], password: str, tmp_path: Path, encryption: str
) -> None:
    """Traversal, absolute paths and escaping links are refused; the outside is untouched."""
    outer = tmp_path / "outer"
    absolute = FileSpec(f"{outer}/absolute.txt", content=b"absolute")
    entries = [absolute, *HOSTILE_ENTRIES]
    archive = ArchiveSpec("share", entries, encryption=encryption, include_root_entry=False)
    overview = open_backup(build_backup("hostile.tar", [archive]))
    destination = outer / "inner" / "out"
    destination.mkdir(parents=True)
    (outer / "outside.txt").write_bytes(b"keep me")
    before = everything_under(outer)

    report = extract(overview, [("share", [])], password, destination)

    assert {p for p in everything_under(outer) if not p.startswith("inner/out/")} == before
    assert (outer / "outside.txt").read_bytes() == b"keep me"
    assert files_under(destination)["fine.txt"] == b"fine"
    real_destination = os.path.realpath(destination)
    for relative in everything_under(destination):
        assert Path(os.path.realpath(destination / relative)).is_relative_to(real_destination)
    refused = {path for path, _ in report.refused}
    assert {"../escape.txt", "a/../../escape2.txt", "etc_link", "up", "hard"} <= refused
    assert absolute.path.lstrip("/") in refused
    assert FindingCode.UNSAFE_ENTRY in {p.code for p in report.problems}


def test_existing_file_is_kept_unless_overwrite(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """An existing file is kept by default, and replaced only with ConflictPolicy.OVERWRITE."""
    overview = open_backup(
        build_backup("conflict.tar", [ArchiveSpec("share", {"notes.txt": b"from the backup"})])
    )
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "notes.txt").write_bytes(b"mine")

    kept = extract(overview, [("share", ["notes.txt"])], None, destination)
    assert (destination / "notes.txt").read_bytes() == b"mine"
    assert "notes.txt" in reported_paths(kept)
    assert kept.written == []

    replaced = extract(
        overview, [("share", ["notes.txt"])], None, destination, ConflictPolicy.OVERWRITE
    )
    assert (destination / "notes.txt").read_bytes() == b"from the backup"
    assert replaced.written == ["notes.txt"]
    assert files_under(destination) == {"notes.txt": b"from the backup"}


def test_missing_selection_is_reported(
    three_archive_backup: Callable[..., Path], password: str, tmp_path: Path
) -> None:
    """A selected path the archive does not have is reported, and nothing is written for it."""
    overview = open_backup(three_archive_backup("v2"))
    report = extract(
        overview, [("share", ["notes.txt", "no/such/file.txt"])], password, tmp_path / "out"
    )
    assert report.written == ["notes.txt"]
    assert any(path.endswith("no/such/file.txt") for path in reported_paths(report))
    assert set(files_under(tmp_path / "out")) == {"notes.txt"}


def test_unknown_archive_raises(three_archive_backup: Callable[..., Path], tmp_path: Path) -> None:
    """Extracting from an archive the backup does not have raises ArchiveNotFoundError."""
    overview = open_backup(three_archive_backup("none"))
    with pytest.raises(ArchiveNotFoundError):
        extract(overview, [("core_ssh", [])], None, tmp_path / "out")


@pytest.mark.parametrize("typed", ["wrong", None])
def test_password_problem_writes_nothing(
    three_archive_backup: Callable[..., Path], tmp_path: Path, typed: str | None
) -> None:
    """A wrong or missing password is reported and no file is written."""
    overview = open_backup(three_archive_backup("v1-legacy"))
    report = extract(overview, [("share", [])], typed, tmp_path / "out")
    expected = FindingCode.WRONG_PASSWORD if typed else FindingCode.PASSWORD_REQUIRED
    assert expected in {p.code for p in report.problems}
    assert report.written == []
    assert files_under(tmp_path / "out") == {}


# --------------------------------------------------------------------------
# Damaged and truncated backups
# --------------------------------------------------------------------------


def test_truncated_backup_still_extracts_the_first_archive(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    password: str,
    tmp_path: Path,
) -> None:
    """From a backup cut inside its 2nd archive, the intact 1st archive extracts byte for byte."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    data_offset, size = member_location(path, member(compressed))
    truncate_file(path, data_offset + size // 2)
    report = extract(open_backup(path), [("homeassistant", [])], password, tmp_path / "out")
    assert report.problems == []
    assert files_under(tmp_path / "out") == three_archive_files["homeassistant"]


def test_truncated_archive_leaves_no_partial_file(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    password: str,
    tmp_path: Path,
) -> None:
    """A cut archive reports truncated; on disk is exactly what is reported written, intact."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    data_offset, size = member_location(path, member(compressed))
    truncate_file(path, data_offset + size // 2)
    destination = tmp_path / "out"
    report = extract(open_backup(path), [("share", [])], password, destination)
    assert FindingCode.TRUNCATED in {p.code for p in report.problems}
    on_disk = files_under(destination)
    assert set(on_disk) == {p for p in report.written if (destination / p).is_file()}
    for relative, content in on_disk.items():
        assert content == three_archive_files["share"][relative]
    assert len(on_disk) < len(three_archive_files["share"])


def test_damaged_archive_leaves_no_temporary_file(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    password: str,
    tmp_path: Path,
) -> None:
    """After a damaged archive every file on disk is reported written: no temporary leftovers."""
    encryption, compressed = encryption_case
    path = three_archive_backup(encryption, compressed)
    data_offset, size = member_location(path, member(compressed))
    flip_byte(path, data_offset + size // 2)
    destination = tmp_path / "out"
    report = extract(open_backup(path), [("share", [])], password, destination)
    on_disk = {p for p in everything_under(destination) if (destination / p).is_file()}
    assert on_disk == {p for p in report.written if (destination / p).is_file()}
    if (
        compressed or encryption == "v3"
    ):  # an uncompressed v1 stream cannot notice a flipped data byte
        assert FindingCode.ARCHIVE_CORRUPT in {p.code for p in report.problems}


# Regression for a bug found by this test (it was a strict xfail): extract_job._extract_one_archive
# reports every selected path the walk did not reach as ('not in the archive'), even when the walk
# stopped at damage before it, so the user is told the file does not exist instead of that it could
# not be read
def test_file_after_damage_is_not_called_absent(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """A selected file after the damage is reported unreadable, not absent from the archive."""
    files = {f"f{index:02d}.txt": patterned_content(str(index))(0, 30_000) for index in range(20)}
    path = build_backup("position.tar", [ArchiveSpec("share", files)])
    data_offset, size = member_location(path, "share.tar.gz")
    flip_byte(path, data_offset + size * 3 // 4)
    report = extract(open_backup(path), [("share", ["f19.txt"])], None, tmp_path / "out")
    assert FindingCode.ARCHIVE_CORRUPT in {p.code for p in report.problems}
    reasons = [reason for p, reason in report.skipped + report.refused if p.endswith("f19.txt")]
    assert reasons
    assert all(reason != "not in the archive" for reason in reasons)


# --------------------------------------------------------------------------
# read_entry: one file streamed into a sink
# --------------------------------------------------------------------------


def test_read_entry_streams_one_file(
    encryption_case: tuple[str, bool],
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    password: str,
) -> None:
    """read_entry hands exactly the file's bytes to the sink and closes it."""
    encryption, compressed = encryption_case
    overview = open_backup(three_archive_backup(encryption, compressed))
    sink = CollectingSink()
    entry = read_entry(overview, "homeassistant", "./data/home-assistant_v2.db", password, sink)
    assert entry.path == "data/home-assistant_v2.db"
    assert bytes(sink.data) == three_archive_files["homeassistant"]["data/home-assistant_v2.db"]
    assert sink.closed and not sink.aborted


def test_read_entry_follows_a_hardlink(
    build_backup: Callable[..., Path], linked_entries: list[FileSpec], password: str
) -> None:
    """Reading a hard link streams its target's bytes."""
    overview, target = links_backup(build_backup, linked_entries, "v3")
    sink = CollectingSink()
    read_entry(overview, "share", "data/link_b", password, sink)
    assert bytes(sink.data) == target


@pytest.mark.parametrize("path", ["no/such/file", "data"])
def test_read_entry_rejects_missing_and_folders(
    build_backup: Callable[..., Path], linked_entries: list[FileSpec], password: str, path: str
) -> None:
    """A path that is absent, or a folder, raises EntryNotFoundError."""
    overview, _ = links_backup(build_backup, linked_entries, "v2")
    with pytest.raises(EntryNotFoundError):
        read_entry(overview, "share", path, password, CollectingSink())


def test_read_entry_stops_early(build_backup: Callable[..., Path], password: str) -> None:
    """read_entry of the first file succeeds although the archive is damaged after it."""
    files = {
        "first.bin": random_content("first")(0, 2000),
        "big.bin": random_content("big")(0, 400_000),
    }
    path = build_backup("early.tar", [ArchiveSpec("share", files, encryption="v2")])
    data_offset, size = member_location(path, "share.tar.gz")
    flip_byte(path, data_offset + size - 200)
    sink = CollectingSink()
    read_entry(open_backup(path), "share", "first.bin", password, sink)
    assert bytes(sink.data) == files["first.bin"]


def test_files_before_a_crc_failure_are_flagged_unverified(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """Files written from a gzip archive whose checksum fails are reported as unverified."""
    files = {f"f{i}.bin": random_content(f"crc{i}")(0, 20_000) for i in range(4)}
    path = build_backup("crc.tar", [ArchiveSpec("share", files)])
    flip_byte(path, find_crc_breaking_offset(path, "share.tar.gz"))
    report = extract(open_backup(path), [("share", [])], None, tmp_path / "out")
    assert len(report.written) >= 4
    messages = [p.message for p in report.problems if p.code == FindingCode.ARCHIVE_CORRUPT]
    assert any(
        "could not be verified" in m and f"{len(report.written)} file(s)" in m for m in messages
    )


def test_v3_files_before_damage_are_not_flagged(
    build_backup: Callable[..., Path], tmp_path: Path, password: str
) -> None:
    """With SecureTar v3 the blocks before the damage are authenticated: no unverified warning."""
    first = random_content("v3-first")(0, 1024 * 1024)
    last = random_content("v3-last")(0, 3 * 1024 * 1024)
    path = build_backup(
        "v3.tar",
        [ArchiveSpec("share", {"a_first.bin": first, "z_last.bin": last}, encryption="v3")],
    )
    offset, size = member_location(path, "share.tar.gz")
    flip_byte(path, offset + size - 100)
    report = extract(open_backup(path), [("share", [])], password, tmp_path / "out")
    assert (tmp_path / "out" / "a_first.bin").read_bytes() == first
    assert not (tmp_path / "out" / "z_last.bin").exists()
    assert report.problems, "the damage itself must be reported"
    assert not any("could not be verified" in p.message for p in report.problems)


@pytest.mark.timeout(60)
def test_a_tree_of_many_deep_folders_stops_at_the_folder_budget(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """300 names 400 levels deep, each under its own top folder, end in seconds.

    Before the budget, every new level cost a path walk as deep as itself and
    a copy of its path, so the work grew with the square of the depth: these
    300 took 20 s here, and 2 000 files 1 000 levels deep wrote 99 files in
    5 minutes while holding 1.1 GB. The depth stays under what shutil.rmtree
    can remove without running out of recursion.
    Past the budget the rest are refused with the reason; ordinary entries in
    folders that exist are still written.
    """
    deep = "/".join(["d"] * 398)
    files = {f"t{number}/{deep}/f.txt": b"x" for number in range(300)}
    files["t0/" + deep + "/second.txt"] = b"known folder"
    entries = files_to_specs(files, add_parent_dirs=False)  # each file makes 399 folders
    overview = open_backup(build_backup("deep-tree.tar", [ArchiveSpec("share", entries)]))
    report = extract(overview, [("share", [])], None, tmp_path / "out")
    written = set(report.written)
    refused = {path: reason for path, reason in report.refused}
    assert "t0/" + deep + "/second.txt" in written
    assert 1 <= len([path for path in written if path.endswith("/f.txt")]) < 100
    assert len(refused) >= 200
    assert all(reason == extract_writer.FOLDER_BUDGET_REASON for reason in refused.values())
