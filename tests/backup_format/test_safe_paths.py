"""Pure extraction path rules: traversal, links, special files, modes and Windows names."""

from __future__ import annotations

import os

import pytest

from backup_inspector.backup_format.safe_paths import (
    MAX_PATH_BYTES,
    MAX_PATH_DEPTH,
    NamePolicy,
    Verdict,
    check_hardlink_target,
    check_member_path,
    check_symlink_target,
    default_name_policy,
    judge_entry,
    portable_name,
    resolve_dot_components,
    safe_directory_mode,
    safe_file_mode,
)
from backup_inspector.backup_format.tar_entry import EntryType, TarEntry, normalise_member_path


def make_entry(raw_name: str, entry_type: EntryType = EntryType.FILE, link: str = "") -> TarEntry:
    """A TarEntry as the tar reader would build it from a stored name."""
    return TarEntry(
        path=normalise_member_path(raw_name),
        raw_name=raw_name,
        type=entry_type,
        size=0,
        mtime=0.0,
        mode=0o644,
        link=link,
    )


@pytest.mark.parametrize("raw_name", ["../x", "a/../../x", "./../x", "a/b/../../../x"])
def test_dotdot_escaping_the_destination_is_refused(raw_name: str) -> None:
    """Names whose ".." climbs above the destination are refused."""
    result = check_member_path(raw_name)
    assert not result.is_safe
    assert result.refusal is not None and "outside the destination" in result.refusal


@pytest.mark.parametrize("raw_name", ["/etc/passwd", "//etc/passwd", "/"])
def test_absolute_names_are_refused(raw_name: str) -> None:
    """A stored name with a leading "/" is refused even though normalising would hide it."""
    result = check_member_path(raw_name)
    assert result.refusal is not None and result.refusal.startswith("absolute path")


def test_empty_name_and_nul_byte_are_refused() -> None:
    """Empty names and names with NUL bytes are refused."""
    assert check_member_path("").refusal == "empty member name"
    assert "NUL" in (check_member_path("a\0b").refusal or "")


@pytest.mark.parametrize(
    ("raw_name", "expected_parts"),
    [
        ("./a/./b", ("a", "b")),
        ("a/../b", ("b",)),
        ("data/x/", ("data", "x")),
        ("./", ()),
        (".", ()),
    ],
)
def test_safe_names_resolve_to_parts_inside(raw_name: str, expected_parts: tuple[str, ...]) -> None:
    """Harmless "." and non-escaping ".." are resolved lexically."""
    result = check_member_path(raw_name)
    assert result.is_safe
    assert result.parts == expected_parts


def test_resolve_dot_components_reports_escape_as_none() -> None:
    """Climbing above the base returns None instead of clamping at the root."""
    assert resolve_dot_components(["a", "..", ".."]) is None
    assert resolve_dot_components(["..", "x"], base=("a",)) == ("x",)


@pytest.mark.parametrize("target", ["/config", "/backup/x", "C:\\Windows", "\\\\server\\share"])
def test_absolute_symlink_targets_are_refused(target: str) -> None:
    """Absolute link targets (real add-on data has /config, /backup) are refused."""
    result = check_symlink_target(("data", "link"), target)
    assert result.refusal is not None and "absolute path" in result.refusal


def test_relative_symlink_target_is_resolved_from_the_link_folder() -> None:
    """A relative target is resolved from the link's folder, not from the root."""
    assert check_symlink_target(("a", "link"), "../b/c").parts == ("b", "c")
    escaping = check_symlink_target(("link",), "../x")
    assert escaping.refusal is not None and "outside the destination" in escaping.refusal
    assert check_symlink_target(("link",), "").refusal is not None


def test_hardlink_targets_must_stay_inside() -> None:
    """Hard-link targets with escaping ".." or nothing at all are refused."""
    assert check_hardlink_target("data/a").parts == ("data", "a")
    assert not check_hardlink_target("../../etc/passwd").is_safe
    assert not check_hardlink_target("").is_safe


def test_judge_entry_skips_special_files_and_refuses_unsafe_links() -> None:
    """Devices/FIFOs are skipped, unsafe links refused, ordinary files extracted."""
    assert judge_entry(make_entry("dev/null", EntryType.OTHER)).verdict is Verdict.SKIP
    absolute_link = judge_entry(make_entry("data/cfg", EntryType.SYMLINK, "/config"))
    assert absolute_link.verdict is Verdict.REFUSE
    hardlink = judge_entry(make_entry("b", EntryType.HARDLINK, "a"))
    assert (hardlink.verdict, hardlink.parts, hardlink.link_parts) == (
        Verdict.EXTRACT,
        ("b",),
        ("a",),
    )
    assert judge_entry(make_entry("./", EntryType.FILE)).verdict is Verdict.REFUSE
    assert judge_entry(make_entry("./", EntryType.DIR)).verdict is Verdict.EXTRACT


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (0o6755, 0o755),
        (0o4777, 0o755),
        (0o1777, 0o755),
        (0o400, 0o600),
        (0o666, 0o644),
        (0o611, 0o600),
    ],
)
def test_safe_file_mode_clears_special_bits_and_keeps_owner_rw(mode: int, expected: int) -> None:
    """setuid/setgid/sticky and group/other write are dropped; the owner keeps rw."""
    assert safe_file_mode(mode) == expected


def test_safe_directory_mode_gives_owner_rwx() -> None:
    """Folders lose special bits and group/other write, and the owner gets rwx."""
    assert safe_directory_mode(0o3777) == 0o755
    assert safe_directory_mode(0o500) == 0o700


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a:b.txt", "a_b.txt"),
        ('<>:"|?*\\x', "________x"),
        ("tab\there", "tab_here"),
        ("trailing.", "trailing"),
        ("spaces . ", "spaces"),
        ("...", "_"),
        ("CON.txt", "CON_.txt"),
        ("con", "con_"),
        ("Com1.tar.gz", "Com1_.tar.gz"),
        ("LPT9", "LPT9_"),
        ("NUL .txt", "NUL _.txt"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("COM10", "COM10"),
        ("plain name.txt", "plain name.txt"),
    ],
)
def test_windows_portable_names(name: str, expected: str) -> None:
    """The windows policy replaces, strips and suffixes predictably."""
    assert portable_name(name, NamePolicy.WINDOWS) == expected


def test_posix_policy_keeps_names_and_default_follows_the_system() -> None:
    """POSIX names are unchanged; the default policy is chosen from os.name."""
    assert portable_name("a:b?.", "posix") == "a:b?."
    expected_default = NamePolicy.WINDOWS if os.name == "nt" else NamePolicy.POSIX
    assert default_name_policy() is expected_default
    assert portable_name("a:b", None) == portable_name("a:b", expected_default)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a/" * MAX_PATH_DEPTH + "f", "deeper than"),
        ("x" * (MAX_PATH_BYTES + 1), "longer than"),
        ("é" * (MAX_PATH_BYTES // 2 + 1), "longer than"),  # 2 bytes each in UTF-8
    ],
    ids=["depth", "ascii-length", "utf8-length"],
)
def test_names_beyond_the_path_limits_are_refused(name: str, reason: str) -> None:
    """A member deeper than 1 024 levels or longer than 4 096 bytes is refused (finding 3)."""
    decision = judge_entry(
        TarEntry(normalise_member_path(name), name, EntryType.FILE, 1, 0.0, 0o644)
    )
    assert decision.verdict is Verdict.REFUSE
    assert reason in decision.reason


def test_names_at_the_path_limits_are_allowed() -> None:
    """Exactly 1 024 levels, or exactly 4 096 bytes, still extracts."""
    deepest = "a/" * (MAX_PATH_DEPTH - 1) + "f"
    longest = "x" * MAX_PATH_BYTES
    for name in (deepest, longest, "./" + deepest + "/"):
        entry = TarEntry(normalise_member_path(name), name, EntryType.FILE, 1, 0.0, 0o644)
        assert judge_entry(entry).verdict is Verdict.EXTRACT, name[:20]


@pytest.mark.parametrize("kind", [EntryType.SYMLINK, EntryType.HARDLINK])
def test_link_targets_beyond_the_path_limits_are_refused(kind: EntryType) -> None:
    """A link whose target is too deep is refused like a too-deep member name."""
    target = "a/" * MAX_PATH_DEPTH + "f"
    decision = judge_entry(TarEntry("link", "link", kind, 0, 0.0, 0o777, target))
    assert decision.verdict is Verdict.REFUSE
    assert "deeper than" in decision.reason
