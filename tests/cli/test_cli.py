"""The `backup-inspector` command line, run as a real subprocess (issue 2's CLI contract).

Every run goes through `run_cli`, which also asserts the one rule that holds
for any input: no Python traceback ever reaches the user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    WrittenBackup,
    flip_byte,
    member_location,
    random_content,
    truncate_file,
)

CHECK_KEYS = {"path", "ok", "metadata", "archives", "problems"}
ARCHIVE_KEYS = {"name", "archive", "encryption", "compressed", "ok", "entries", "bytes", "problems"}


def not_info(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems without info notes (partial-backup, sensitive-archive: issue 10)."""
    return [p for p in problems if p["severity"] != "info"]


PROBLEM_KEYS = {"code", "severity", "archive", "message"}
ENTRY_KEYS = {"path", "type", "size", "mtime", "mode", "link"}
ENCRYPTIONS = {"none", "securetar-v1", "securetar-v2", "securetar-v3"}
ENTRY_TYPES = {"file", "dir", "symlink", "hardlink", "other"}
KIT_PRESET = "supervisor_2025_v2"  # its password is an emergency-kit key


def run_cli(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m backup_inspector ARGS` without a terminal; never a traceback."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BACKUP_PASSWORD", "NO_COLOR", "FORCE_COLOR"}
    }
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "backup_inspector", *map(str, args)],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    return result


def run_many(
    commands: list[list[str | Path]], cwd: Path, env: dict[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Run several CLI commands side by side (each as its own process); results in order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: run_cli(*args, cwd=cwd, env=env), commands))


def no_colour(result: subprocess.CompletedProcess[str]) -> bool:
    """Whether neither stream holds an ANSI escape sequence."""
    return "\x1b[" not in result.stdout and "\x1b[" not in result.stderr


def emergency_kit_text(key: str) -> str:
    """An emergency kit as Home Assistant writes it (format-spec §4.4)."""
    return (
        "Home Assistant backup emergency kit\n\n"
        "This emergency kit contains your backup encryption key. You need this key to restore "
        "your Home Assistant backups. Store it in a safe place.\n\n"
        "Date: 16 March 2025\n"
        "Instance name:\nHome\n"
        "URL:\nhttp://homeassistant.local:8123\n"
        f"Encryption key:\n{key}\n\n"
        "For more information visit: https://www.home-assistant.io/more-info/backup-emergency-kit\n"
    )


@pytest.fixture
def password_file(tmp_path: Path) -> Callable[[str | None], Path]:
    """Write a password file the way `echo` does (one trailing newline)."""

    def write(password: str | None) -> Path:
        path = tmp_path / "password.txt"
        path.write_text(f"{password or ''}\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def damaged_backup(three_archive_backup: Callable[..., Path]) -> Path:
    """A v2 backup whose share archive has a flipped byte in its middle."""
    path = three_archive_backup("v2")
    data_offset, size = member_location(path, "share.tar.gz")
    flip_byte(path, data_offset + size // 2)
    return path


@pytest.fixture
def linked_backup(build_backup: Callable[..., Path], linked_entries: list[FileSpec]) -> Path:
    """A v3 backup whose share archive holds hard links, a symlink, long and non-ASCII names."""
    return build_backup("linked.tar", [ArchiveSpec("share", linked_entries, encryption="v3")])


# --------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------


INFO_PRESETS = [
    "supervisor_2019_gnu_snapshot",
    "supervisor_2022_uncompressed",
    "supervisor_2026_v3",
    "core_2026_v3_downloaded",
]


@pytest.mark.parametrize("name", INFO_PRESETS)
def test_info_for_people_and_json(
    era_backups: dict[str, WrittenBackup],
    name: str,
    tmp_path: Path,
    encryption_names: dict[str, str],
) -> None:
    """`info` names each archive and its encryption, without colour; `--json` says the same."""
    written = era_backups[name]
    for_people, as_json = run_many(
        [["info", written.path], ["info", written.path, "--json"]], cwd=tmp_path
    )
    assert for_people.returncode == 0, for_people.stderr
    for archive in written.archives:
        assert archive.member_name.removeprefix("./") in for_people.stdout
        assert encryption_names[archive.encryption] in for_people.stdout
    assert no_colour(for_people)
    assert as_json.returncode == 0
    data = json.loads(as_json.stdout)
    assert data["path"] == str(written.path)
    assert {a["name"]: a["encryption"] for a in data["archives"]} == {
        w.component: encryption_names[w.encryption] for w in written.archives
    }


# --------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------


def test_check_json_contract(
    preset: WrittenBackup,
    tmp_path: Path,
    password_file: Callable[[str | None], Path],
    encryption_names: dict[str, str],
) -> None:
    """`check --json` prints issue 2's object for every era, ok, with entries for every archive."""
    args: list[str | Path] = ["check", preset.path, "--json"]
    if preset.password is not None:
        args += ["--password-file", password_file(preset.password)]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= CHECK_KEYS
    assert data["ok"] is True
    assert data["path"] == str(preset.path)
    assert data["metadata"] is not None
    assert not_info(data["problems"]) == []
    by_name = {a["name"]: a for a in data["archives"]}
    assert set(by_name) == {w.component for w in preset.archives}
    for written in preset.archives:
        archive = by_name[written.component]
        assert set(archive) == ARCHIVE_KEYS
        assert archive["archive"] == written.member_name.removeprefix("./")
        assert archive["encryption"] == encryption_names[written.encryption]
        assert archive["compressed"] is written.is_gzip
        assert archive["ok"] is True
        assert archive["entries"] > 0
        assert archive["bytes"] > 0
        assert archive["problems"] == []


def test_check_human_output(era_backups: dict[str, WrittenBackup], tmp_path: Path) -> None:
    """`check` without --json prints one aligned row per archive, no colour, and exits 0."""
    written = era_backups["supervisor_2026_v3"]
    result = run_cli(
        "check", written.path, cwd=tmp_path, env={"BACKUP_PASSWORD": written.password or ""}
    )
    assert result.returncode == 0, result.stdout
    rows = [line for line in result.stdout.splitlines() if ".tar" in line and line.startswith("ok")]
    assert len(rows) == len(written.archives)
    columns = {line.index("securetar-v3") for line in rows}
    assert len(columns) == 1  # aligned
    assert no_colour(result)


def test_quick_check_json(era_backups: dict[str, WrittenBackup], tmp_path: Path) -> None:
    """`check --quick --json` passes without reading entries (entries are null)."""
    written = era_backups["supervisor_2026_v3"]
    result = run_cli(
        "check",
        written.path,
        "--quick",
        "--json",
        cwd=tmp_path,
        env={"BACKUP_PASSWORD": written.password or ""},
    )
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert [a["entries"] for a in data["archives"]] == [None] * len(written.archives)


@pytest.mark.parametrize("source", ["password-file", "emergency-kit", "environment"])
def test_every_password_source_opens_the_backup(
    era_backups: dict[str, WrittenBackup],
    tmp_path: Path,
    password_file: Callable[[str | None], Path],
    source: str,
) -> None:
    """The password works from --password-file, --emergency-kit and BACKUP_PASSWORD alike."""
    written = era_backups[KIT_PRESET]
    assert written.password is not None
    args: list[str | Path] = ["check", written.path, "--json"]
    env: dict[str, str] = {}
    if source == "password-file":
        args += ["--password-file", password_file(written.password)]
    elif source == "emergency-kit":
        kit = tmp_path / "home_assistant_backup_emergency_kit_Home_16.3.2025.txt"
        kit.write_text(emergency_kit_text(written.password), encoding="utf-8")
        args += ["--emergency-kit", kit]
    else:
        env["BACKUP_PASSWORD"] = written.password
    result = run_cli(*args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["ok"] is True


def test_non_ascii_password_from_file(
    era_backups: dict[str, WrittenBackup],
    tmp_path: Path,
    password_file: Callable[[str | None], Path],
) -> None:
    """A typed non-ASCII password in a UTF-8 file opens a 2021 legacy v1 backup."""
    written = era_backups["supervisor_2021_pax_backup_json"]
    assert written.password is not None and not written.password.isascii()
    result = run_cli(
        "check", written.path, "--password-file", password_file(written.password), cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "name", ["supervisor_2019_gnu_snapshot", "supervisor_2025_v2", "core_2026_v3_downloaded"]
)
def test_wrong_password_exits_1(
    era_backups: dict[str, WrittenBackup],
    tmp_path: Path,
    password_file: Callable[[str | None], Path],
    name: str,
) -> None:
    """A wrong password exits 1 with exactly wrong-password (v1, v2, v3), never archive-corrupt."""
    written = era_backups[name]
    result = run_cli(
        "check",
        written.path,
        "--json",
        "--password-file",
        password_file("Wrong-Password-1"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [p["code"] for p in not_info(data["problems"])] == ["wrong-password"]
    assert all(set(p) == PROBLEM_KEYS for p in data["problems"])


def test_missing_password_exits_1(era_backups: dict[str, WrittenBackup], tmp_path: Path) -> None:
    """A protected backup checked without a password (and no terminal) is password-required, 1."""
    written = era_backups["supervisor_2026_v3"]
    result = run_cli("check", written.path, "--json", cwd=tmp_path)
    assert result.returncode == 1
    problems = not_info(json.loads(result.stdout)["problems"])
    assert [p["code"] for p in problems] == ["password-required"]


def test_damaged_backup_exits_1(damaged_backup: Path, tmp_path: Path, password: str) -> None:
    """A damaged archive makes `check` exit 1 and name archive and code, in JSON and for people."""
    env = {"BACKUP_PASSWORD": password}
    as_json = run_cli("check", damaged_backup, "--json", cwd=tmp_path, env=env)
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert [(p["code"], p["archive"]) for p in not_info(data["problems"])] == [
        ("archive-corrupt", "share")
    ]
    assert {a["name"]: a["ok"] for a in data["archives"]} == {
        "homeassistant": True,
        "share": False,
        "ssl": True,
    }
    for_people = run_cli("check", damaged_backup, cwd=tmp_path, env=env)
    assert for_people.returncode == 1
    assert "[archive-corrupt]" in for_people.stdout
    assert no_colour(for_people)


def test_truncated_backup_exits_1(
    three_archive_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """A backup cut inside an archive fails `check` with truncated and metadata-missing."""
    path = three_archive_backup("none")
    data_offset, size = member_location(path, "share.tar.gz")
    truncate_file(path, data_offset + size // 2)
    result = run_cli("check", path, "--json", cwd=tmp_path)
    assert result.returncode == 1
    found = {p["code"] for p in json.loads(result.stdout)["problems"]}
    assert {"truncated", "metadata-missing"} <= found


# --------------------------------------------------------------------------
# ls
# --------------------------------------------------------------------------


def test_ls_without_archive_lists_archives(
    era_backups: dict[str, WrittenBackup], tmp_path: Path
) -> None:
    """`ls BACKUP --json` lists the inner archives (nothing decrypted)."""
    written = era_backups["supervisor_2024_streamed"]
    result = run_cli("ls", written.path, "--json", cwd=tmp_path)
    assert result.returncode == 0
    assert [a["name"] for a in json.loads(result.stdout)] == [w.component for w in written.archives]


def test_ls_json_entries(
    linked_backup: Path, linked_entries: list[FileSpec], tmp_path: Path, password: str
) -> None:
    """`ls BACKUP ARCHIVE --json` gives path, type, size, mtime, mode, link (and files' sha256)."""
    result = run_cli(
        "ls", linked_backup, "share", "--json", cwd=tmp_path, env={"BACKUP_PASSWORD": password}
    )
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert all(
        set(e) == (ENTRY_KEYS | {"sha256"} if e["type"] == "file" else ENTRY_KEYS) for e in entries
    )
    assert all(e["type"] in ENTRY_TYPES for e in entries)
    by_path = {e["path"]: e for e in entries}
    for spec in linked_entries:
        entry = by_path[spec.path]
        assert entry["type"] == spec.type
        assert entry["size"] == spec.content_size
        assert entry["link"] == spec.link_target
        assert entry["mtime"] == pytest.approx(spec.mtime, abs=1e-3)


def test_ls_path_filters(linked_backup: Path, tmp_path: Path, password: str) -> None:
    """`ls BACKUP ARCHIVE PATH` lists only PATH and what is under it."""
    result = run_cli(
        "ls",
        linked_backup,
        "share",
        "data",
        "--json",
        cwd=tmp_path,
        env={"BACKUP_PASSWORD": password},
    )
    assert result.returncode == 0
    paths = [e["path"] for e in json.loads(result.stdout)]
    assert paths and paths[0] == "data"
    assert all(p == "data" or p.startswith("data/") for p in paths)


def test_ls_human_output(era_backups: dict[str, WrittenBackup], tmp_path: Path) -> None:
    """`ls` for people shows paths without "./" (2019 GNU archives too), without colour."""
    written = era_backups["supervisor_2019_gnu_snapshot"]
    result = run_cli(
        "ls",
        written.path,
        "homeassistant",
        cwd=tmp_path,
        env={"BACKUP_PASSWORD": written.password or ""},
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert any(line.endswith(" configuration.yaml") for line in lines)
    assert not any(" ./" in line for line in lines)
    assert no_colour(result)


def test_ls_human_shows_links(linked_backup: Path, tmp_path: Path, password: str) -> None:
    """`ls` for people shows where a symlink and a hard link point."""
    result = run_cli(
        "ls", linked_backup, "share", "data", cwd=tmp_path, env={"BACKUP_PASSWORD": password}
    )
    link_lines = [
        line
        for line in result.stdout.splitlines()
        if "data/link_a" in line or "data/current" in line
    ]
    assert len(link_lines) == 2
    assert all(line.rstrip().endswith(("target.bin", "data/target.bin")) for line in link_lines)


def test_ls_truncated_archive(three_archive_backup: Callable[..., Path], tmp_path: Path) -> None:
    """`ls` of a cut archive prints valid JSON up to the cut, the problem on stderr, exit 1."""
    path = three_archive_backup("none")
    data_offset, size = member_location(path, "share.tar.gz")
    truncate_file(path, data_offset + size // 2)
    result = run_cli("ls", path, "share", "--json", cwd=tmp_path)
    assert result.returncode == 1
    entries = json.loads(result.stdout)
    assert entries and entries[0]["path"] == "."
    assert "[truncated]" in result.stderr


# --------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------


def test_extract_file_lands_at_dir_path(
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    tmp_path: Path,
    password_file: Callable[[str | None], Path],
    password: str,
) -> None:
    """`extract BACKUP ARCHIVE PATH --to DIR` writes DIR/PATH byte for byte and exits 0."""
    path = three_archive_backup("v3")
    destination = tmp_path / "restore"
    wanted = "data/home-assistant_v2.db"
    result = run_cli(
        "extract",
        path,
        "homeassistant",
        wanted,
        "--to",
        destination,
        "--password-file",
        password_file(password),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (destination / wanted).read_bytes() == three_archive_files["homeassistant"][wanted]
    assert sorted(
        p.relative_to(destination).as_posix() for p in destination.rglob("*") if p.is_file()
    ) == [wanted]


def test_extract_folder_and_full_member_name(
    three_archive_backup: Callable[..., Path],
    three_archive_files: dict[str, dict[str, bytes]],
    tmp_path: Path,
    password: str,
) -> None:
    """A folder extracts its subtree; the archive may be named by its member name too."""
    path = three_archive_backup("v1-legacy")
    destination = tmp_path / "restore"
    result = run_cli(
        "extract",
        path,
        "share.tar.gz",
        "camera",
        "--to",
        destination,
        cwd=tmp_path,
        env={"BACKUP_PASSWORD": password},
    )
    assert result.returncode == 0, result.stdout
    expected = {p: c for p, c in three_archive_files["share"].items() if p.startswith("camera/")}
    found = {
        p.relative_to(destination).as_posix(): p.read_bytes()
        for p in destination.rglob("*")
        if p.is_file()
    }
    assert found == expected


def test_extract_keeps_existing_files_unless_overwrite(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """An existing file survives `extract`; `--overwrite` replaces it."""
    path = build_backup("plain.tar", [ArchiveSpec("share", {"notes.txt": b"from the backup"})])
    destination = tmp_path / "restore"
    destination.mkdir()
    (destination / "notes.txt").write_bytes(b"mine")
    kept = run_cli("extract", path, "share", "notes.txt", "--to", destination, cwd=tmp_path)
    assert kept.returncode == 0
    assert (destination / "notes.txt").read_bytes() == b"mine"
    assert "notes.txt" in kept.stdout
    replaced = run_cli(
        "extract", path, "share", "notes.txt", "--to", destination, "--overwrite", cwd=tmp_path
    )
    assert replaced.returncode == 0
    assert (destination / "notes.txt").read_bytes() == b"from the backup"


def test_extract_missing_path_exits_1(
    three_archive_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """Asking for a path the archive does not have exits 1 and names the path."""
    path = three_archive_backup("none")
    result = run_cli(
        "extract", path, "share", "no/such/file.txt", "--to", tmp_path / "restore", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "no/such/file.txt" in result.stdout + result.stderr


def test_extract_wrong_password_writes_nothing(
    era_backups: dict[str, WrittenBackup],
    tmp_path: Path,
    password_file: Callable[[str | None], Path],
) -> None:
    """`extract` with a wrong password exits 1 and leaves the destination empty."""
    written = era_backups["supervisor_2022_uncompressed"]
    destination = tmp_path / "restore"
    result = run_cli(
        "extract",
        written.path,
        "share",
        "--to",
        destination,
        "--password-file",
        password_file("nope"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "[wrong-password]" in result.stdout
    assert list(destination.rglob("*")) == []


def test_extract_hostile_entries_stay_inside(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """Traversal and escaping links are refused (exit 1) and nothing appears outside --to."""
    entries = [
        FileSpec("../../escaped.txt", content=b"x"),
        FileSpec("link", type="symlink", link_target="/etc"),
        FileSpec("ok.txt", content=b"ok"),
    ]
    path = build_backup("hostile.tar", [ArchiveSpec("share", entries)])
    work = tmp_path / "work"
    destination = work / "a" / "restore"
    work.mkdir()
    result = run_cli("extract", path, "share", "--to", destination, cwd=work)
    assert result.returncode == 1
    assert (destination / "ok.txt").read_bytes() == b"ok"
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*")) == [
        "a",
        "a/restore",
        "a/restore/ok.txt",
    ]
    assert not (tmp_path / "escaped.txt").exists()


# --------------------------------------------------------------------------
# Exit codes for bad input and bad arguments
# --------------------------------------------------------------------------


USAGE_ERRORS: dict[str, list[str]] = {
    "info-missing-file": ["info", "{missing}"],
    "extract-missing-file": ["extract", "{missing}", "share", "--to", "out"],
    "check-a-folder": ["check", "{folder}"],
    "ls-unknown-archive": ["ls", "{backup}", "core_ssh"],
    "extract-unknown-archive": ["extract", "{backup}", "core_ssh", "--to", "out"],
    "no-command": [],
    "no-backup": ["check"],
    "unknown-option": ["check", "{backup}", "--frobnicate"],
    "extract-without-to": ["extract", "{backup}", "share"],
    "missing-password-file": ["check", "{backup}", "--password-file", "{missing}"],
    "kit-without-key": ["check", "{backup}", "--emergency-kit", "{nokit}"],
    "two-password-sources": [
        "check",
        "{backup}",
        "--password-file",
        "{pw}",
        "--emergency-kit",
        "{nokit}",
    ],
}


@pytest.fixture
def usage_files(tmp_path: Path, build_backup: Callable[..., Path]) -> dict[str, str]:
    """Names for the usage-error commands: a backup, a folder, unusable password sources."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "nokit.txt").write_text("Encryption key:\nnot a key\n", encoding="utf-8")
    (tmp_path / "pw.txt").write_text("secret\n", encoding="utf-8")
    (tmp_path / "badpw.txt").write_bytes(b"caf\xe9\n")
    return {
        "missing": str(tmp_path / "nope.tar"),
        "folder": str(tmp_path / "folder"),
        "backup": str(build_backup("ok.tar", [ArchiveSpec("share", {"a.txt": b"a"})])),
        "nokit": str(tmp_path / "nokit.txt"),
        "pw": str(tmp_path / "pw.txt"),
        "badpw": str(tmp_path / "badpw.txt"),
    }


def test_usage_errors_exit_2(tmp_path: Path, usage_files: dict[str, str]) -> None:
    """Bad arguments, missing files, unknown archives, unusable password files: exit 2."""
    commands: list[list[str | Path]] = [
        [arg.format(**usage_files) for arg in args] for args in USAGE_ERRORS.values()
    ]
    results = run_many(commands, cwd=tmp_path)
    for case, result in zip(USAGE_ERRORS, results, strict=True):
        assert (case, result.returncode) == (case, 2), result.stdout + result.stderr
        assert result.stderr.strip(), case


SERVE_USAGE_ERRORS: dict[str, tuple[list[str], str]] = {
    "port-too-high": (["--port", "99999"], "99999 is not a port number"),
    "port-zero": (["--port", "0"], "0 is not a port number"),
    "port-not-a-number": (["--port", "http"], "'http' is not a port number"),
    "proxy-not-an-ip": (["--trusted-proxy", "notanip"], "'notanip' is not an IP address"),
    "proxy-bad-network": (["--trusted-proxy", "10.0.0.0/99"], "is not an IP address or network"),
}


@pytest.mark.parametrize("case", SERVE_USAGE_ERRORS)
def test_serve_bad_arguments_exit_2_with_usage(case: str, tmp_path: Path) -> None:
    """A bad --port or --trusted-proxy is a usage error (exit 2), before anything starts."""
    arguments, message = SERVE_USAGE_ERRORS[case]
    result = run_cli("serve", "--backup-dir", tmp_path, *arguments, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "usage: backup-inspector serve" in result.stderr
    assert message in result.stderr
    assert "unexpected error" not in result.stderr


@pytest.mark.parametrize("option", ["--password-file", "--emergency-kit"])
@pytest.mark.parametrize("source", ["dev-zero", "sparse"])
def test_huge_password_sources_exit_2(
    option: str, source: str, tmp_path: Path, usage_files: dict[str, str]
) -> None:
    """/dev/zero or a sparse 8 GiB file as password source: exit 2, 'larger than 64 KiB'."""
    path = Path("/dev/zero")
    if source == "sparse":
        path = tmp_path / "sparse.txt"
        with path.open("wb") as f:
            f.truncate(8 * 1024**3)
    result = run_cli("check", usage_files["backup"], option, path, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "larger than 64 KiB" in result.stderr
    assert "unexpected error" not in result.stderr


# Regression for a bug found by this test (it was a strict xfail): password_source.resolve_password
# catches only OSError around read_password_file, whose ValueError for a non-UTF-8 file falls
# through to main()'s catch-all ('unexpected error: ValueError', exit 1) instead of a usage error
# (exit 2)
def test_password_file_not_utf8_exits_2(tmp_path: Path, usage_files: dict[str, str]) -> None:
    """A password file that is not UTF-8 text is a usage error (exit 2), not an unexpected one."""
    result = run_cli(
        "check", usage_files["backup"], "--password-file", usage_files["badpw"], cwd=tmp_path
    )
    assert result.returncode == 2
    assert "unexpected error" not in result.stderr


# Regression for a bug found by this test (it was a strict xfail): cmd_ls returns exit_codes.OK
# when no ARCHIVE is given, whatever the findings, so `ls` of a file that is not a backup exits 0
# (while `info` on it exits 1)
def test_ls_of_a_non_backup_exits_1(tmp_path: Path) -> None:
    """`ls` of a file that is not a backup at all reports it and exits 1, like `info`."""
    path = tmp_path / "random.tar"
    path.write_bytes(random_content("not a tar")(0, 5000))
    assert run_cli("info", path, cwd=tmp_path).returncode == 1
    assert run_cli("ls", path, cwd=tmp_path).returncode == 1


# --------------------------------------------------------------------------
# Hostile and broken inputs: never a traceback
# --------------------------------------------------------------------------


def _huge_pax_size_backup(path: Path) -> None:
    """An outer tar whose PAX header announces a member of a petabyte (supervisor#7034's shape)."""
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("homeassistant.tar.gz")
        info.size = 16
        info.pax_headers = {"size": str(10**15)}
        tar.addfile(info, _BytesReader(random_content("pax")(0, 16)))


class _BytesReader:
    """The minimal file object tarfile.addfile reads member data from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        """Hand out the bytes."""
        data, self._data = (self._data, b"") if size < 0 else (self._data[:size], self._data[size:])
        return data


FUZZ_INPUTS = [
    "random-bytes",
    "a-folder",
    "empty-file",
    "truncated",
    "huge-pax-size",
    "cut-in-first-block",
]


@pytest.mark.parametrize("kind", FUZZ_INPUTS)
def test_no_traceback_for_any_input(
    kind: str,
    tmp_path: Path,
    era_backups: dict[str, WrittenBackup],
    fresh_copy: Callable[[Path], Path],
) -> None:
    """Every command on broken input ends with a message and exit 1 or 2, never a traceback."""
    path, archive, password = tmp_path / "input.tar", "homeassistant", "any"
    if kind == "random-bytes":
        path.write_bytes(random_content("fuzz")(0, 3000))
    elif kind == "a-folder":
        path.mkdir()
    elif kind == "empty-file":
        path.write_bytes(b"")
    elif kind == "huge-pax-size":
        _huge_pax_size_backup(path)
    else:
        # "truncated": cut in the middle of a v1 archive; "cut-in-first-block": inside its salt
        written = era_backups["supervisor_2024_streamed"]
        path, archive, password = fresh_copy(written.path), "core_mosquitto", written.password or ""
        data_offset, size = member_location(path, "core_mosquitto.tar.gz")
        truncate_file(path, data_offset + (size // 2 if kind == "truncated" else 8))
    commands: list[list[str | Path]] = [
        ["info", path],
        ["check", path, "--json"],
        ["ls", path, archive, "--json"],
        ["extract", path, archive, "--to", tmp_path / "out"],
    ]
    results = run_many(commands, cwd=tmp_path, env={"BACKUP_PASSWORD": password})
    for args, result in zip(commands, results, strict=True):
        assert result.returncode in (1, 2), (args, result.stdout, result.stderr)
        assert result.stderr.strip() or result.stdout.strip()
        assert no_colour(result)


# --------------------------------------------------------------------------
# The password never shows
# --------------------------------------------------------------------------


def test_password_never_printed(
    era_backups: dict[str, WrittenBackup], damaged_backup: Path, tmp_path: Path, password: str
) -> None:
    """Neither a right nor a wrong password ever appears in stdout or stderr."""
    written = era_backups[KIT_PRESET]
    assert written.password is not None
    kit = tmp_path / "kit.txt"
    kit.write_text(emergency_kit_text(written.password), encoding="utf-8")
    wrong = "Wrong-Horse-Battery-7"
    (tmp_path / "wrong.txt").write_text(wrong, encoding="utf-8")
    runs = [
        (["check", written.path, "--emergency-kit", kit], {}),
        (["check", written.path, "--json", "--password-file", tmp_path / "wrong.txt"], {}),
        (["ls", written.path, "share", "--json"], {"BACKUP_PASSWORD": written.password}),
        (["ls", written.path, "share"], {"BACKUP_PASSWORD": wrong}),
        (
            ["extract", written.path, "share", "--to", tmp_path / "out"],
            {"BACKUP_PASSWORD": written.password},
        ),
        (["extract", written.path, "ssl", "--to", tmp_path / "out2"], {"BACKUP_PASSWORD": wrong}),
        (["check", damaged_backup, "--json"], {"BACKUP_PASSWORD": password}),
        (["check", damaged_backup], {"BACKUP_PASSWORD": password + "!"}),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda run: run_cli(*run[0], cwd=tmp_path, env=run[1]), runs))
    assert [r.returncode for r in results] == [0, 1, 0, 1, 0, 1, 1, 1]
    for result in results:
        output = result.stdout + result.stderr
        for secret in (written.password, wrong, password):
            assert secret not in output


# --------------------------------------------------------------------------
# Terminal escapes in names are shown, not obeyed (issue 9, finding 13)
# --------------------------------------------------------------------------

CLEAR_SCREEN = "\x1b[2J"
WINDOW_TITLE = "\x1b]0;owned\x07"
RIGHT_TO_LEFT = "\u202e"
HOSTILE_ENTRIES = {
    f"clear{CLEAR_SCREEN}.txt": "clear\\e[2J.txt",
    f"title{WINDOW_TITLE}.txt": "title\\e]0;owned\\x07.txt",
    "cr\rfake.txt": "cr\\rfake.txt",
    f"invoice{RIGHT_TO_LEFT}txt.exe": "invoice\\u202etxt.exe",
    "csi\x9b1m.txt": "csi\\x9b1m.txt",
}
RAW_CONTROLS = ("\x1b", "\x07", "\r", RIGHT_TO_LEFT, "\x9b")


@pytest.fixture
def escape_backup(build_backup: Callable[..., Path]) -> Path:
    """A backup whose name, add-on name and entry names carry terminal escapes."""
    entries = [FileSpec(name, content=b"x") for name in HOSTILE_ENTRIES]
    entries.append(FileSpec(f"../up{CLEAR_SCREEN}.txt", content=b"x"))
    metadata = {
        "slug": "1a2b3c4d",
        "version": 2,
        "name": f"Backup{CLEAR_SCREEN}{WINDOW_TITLE}{RIGHT_TO_LEFT}kcab",
        "date": "2026-01-02T03:04:05+00:00",
        "type": "partial",
        "homeassistant": None,
        "folders": ["share"],
        "addons": [{"slug": "evil_addon", "name": f"Red{CLEAR_SCREEN}", "version": "1"}],
    }
    return build_backup(
        "escapes.tar",
        [
            ArchiveSpec("share", entries),
            ArchiveSpec("evil_addon", {"a.txt": b"a"}),
            ArchiveSpec(f"odd{CLEAR_SCREEN}", {"b.txt": b"b"}),
        ],
        metadata=metadata,
    )


def _assert_no_raw_controls(result: subprocess.CompletedProcess[str]) -> None:
    """Neither stream holds a raw control or bidi character (only their escapes)."""
    for raw in RAW_CONTROLS:
        assert raw not in result.stdout, (raw, result.stdout)
        assert raw not in result.stderr, (raw, result.stderr)


def test_human_output_escapes_control_and_bidi_characters(
    escape_backup: Path, tmp_path: Path
) -> None:
    """info, check, ls and the extract report print escapes such as \\e and \\u202e, never raw."""
    commands: list[list[str | Path]] = [
        ["info", escape_backup],
        ["check", escape_backup],
        ["ls", escape_backup, "share"],
        ["extract", escape_backup, "share", "--to", tmp_path / "out"],
    ]
    info, check, ls, extract = run_many(commands, cwd=tmp_path)
    for result in (info, check, ls, extract):
        _assert_no_raw_controls(result)
    escaped_name = "Backup\\e[2J\\e]0;owned\\x07\\u202ekcab"
    assert escaped_name in info.stdout
    assert "Red\\e[2J" in info.stdout
    assert "odd\\e[2J.tar.gz" in info.stdout
    assert escaped_name in check.stdout
    for shown in HOSTILE_ENTRIES.values():
        assert shown in ls.stdout
    assert "up\\e[2J.txt" in extract.stdout  # refused: it climbs out of the destination
    assert extract.returncode == 1
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == sorted(HOSTILE_ENTRIES)  # the files keep their exact names on disk


def test_json_output_keeps_names_exact(escape_backup: Path, tmp_path: Path) -> None:
    """--json is not escaped by the CLI: it decodes to the exact names."""
    ls = run_cli("ls", escape_backup, "share", "--json", cwd=tmp_path)
    info = run_cli("info", escape_backup, "--json", cwd=tmp_path)
    paths = {entry["path"] for entry in json.loads(ls.stdout)}
    assert set(HOSTILE_ENTRIES) <= paths
    assert json.loads(info.stdout)["name"].startswith(f"Backup{CLEAR_SCREEN}{WINDOW_TITLE}")


def test_usage_error_about_an_archive_name_is_escaped(escape_backup: Path, tmp_path: Path) -> None:
    """The archive names a usage message lists come back escaped."""
    result = run_cli("ls", escape_backup, f"no{CLEAR_SCREEN}such", cwd=tmp_path)
    assert result.returncode == 2
    _assert_no_raw_controls(result)
    assert "odd\\e[2J" in result.stderr


def test_extract_duplicate_member_writes_the_last_copy(
    build_backup: Callable[..., Path], duplicate_entries: list[FileSpec], tmp_path: Path
) -> None:
    """A name stored twice lands once with the last copy's bytes; nothing is "skipped: exists"."""
    path = build_backup("dups.tar", [ArchiveSpec("share", duplicate_entries)])
    destination = tmp_path / "out"
    result = run_cli("extract", path, "share", "--to", destination, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" not in result.stdout
    last = [spec.content for spec in duplicate_entries if spec.path == "notes/a.txt"][-1]
    assert (destination / "notes/a.txt").read_bytes() == last
