"""Hostile tar headers on the command line: exit 1 or 2, never a traceback or a hang (issue 9)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from backup_inspector.demo.hostile_tar import (
    END_OF_ARCHIVE,
    IMPOSSIBLE_TIME_NAMES,
    base256_field,
    file_member,
    header_block,
    impossible_times_tar,
    pax_member,
    write_backup_with_inner_tar,
    write_backup_with_outer_tail,
)

from .test_cli import run_cli

OUTER_TAILS = {
    "base256-minus-512": header_block("share.tar", size=base256_field(-512)),
    "pax-minus-1536": pax_member([("size", "-1536")]) + header_block("share.tar"),
}


def refuse_constant(name: str) -> float:
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("tail", OUTER_TAILS.values(), ids=OUTER_TAILS.keys())
def test_negative_outer_size_ends_every_command_cleanly(tmp_path: Path, tail: bytes) -> None:
    """A 3 KB backup with a negative outer size: info, check and ls end with 1 or 2 (finding 1)."""
    backup = write_backup_with_outer_tail(tmp_path / "negative.tar", tail)
    assert backup.stat().st_size < 4096
    for command in (["info"], ["check"], ["check", "--json"], ["ls"], ["ls", "--json"]):
        result = run_cli(*command, backup, cwd=tmp_path)
        assert result.returncode in (1, 2), (command, result.stdout, result.stderr)
        assert "unexpected error" not in result.stderr
    report = json.loads(run_cli("check", "--json", backup, cwd=tmp_path).stdout)
    assert "outer-tar-damaged" in [problem["code"] for problem in report["problems"]]


@pytest.mark.timeout(120)
def test_negative_inner_pax_size_is_archive_corrupt(tmp_path: Path) -> None:
    """An inner PAX size=-1536 makes check and ls exit 1 with archive-corrupt (finding 2)."""
    inner = file_member("before.txt", b"ok") + pax_member([("size", "-1536")]) + header_block("f")
    backup = write_backup_with_inner_tar(tmp_path / "inner.tar", inner + END_OF_ARCHIVE)
    check = run_cli("check", "--json", backup, cwd=tmp_path)
    assert check.returncode == 1
    [archive] = json.loads(check.stdout)["archives"]
    assert [problem["code"] for problem in archive["problems"]] == ["archive-corrupt"]
    listing = run_cli("ls", backup, "share", cwd=tmp_path)
    assert listing.returncode == 1
    assert "before.txt" in listing.stdout


def test_nan_and_huge_mtimes_list_as_valid_json(tmp_path: Path) -> None:
    """NaN, Infinity and 2**80 mtimes give strict JSON and a plain listing (finding 12)."""
    backup = write_backup_with_inner_tar(tmp_path / "times.tar", impossible_times_tar())
    as_json = run_cli("ls", "--json", backup, "share", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    entries = json.loads(as_json.stdout, parse_constant=refuse_constant)
    assert tuple(entry["path"] for entry in entries) == IMPOSSIBLE_TIME_NAMES
    assert all(math.isfinite(entry["mtime"]) for entry in entries)
    plain = run_cli("ls", backup, "share", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "9999-12-31" in plain.stdout


@pytest.mark.timeout(120)
def test_extract_report_shows_over_long_names_cut_short(tmp_path: Path) -> None:
    """Refused 6 000-character names print cut short, with their length (finding 3)."""
    names = [f"top{n}/" + "a/" * 3000 + "f" for n in range(200)]
    inner = b"".join(pax_member([("path", name)]) + file_member("f", b"x") for name in names)
    backup = write_backup_with_inner_tar(tmp_path / "long.tar", inner + END_OF_ARCHIVE)
    result = run_cli("extract", backup, "share", "--to", tmp_path / "dest", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert f"({len(names[0]):,} characters)" in output
    assert max(len(line) for line in output.splitlines()) < 500
