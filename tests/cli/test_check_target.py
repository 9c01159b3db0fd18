"""`check --target FILE`: the restore predicted on the system `ha info --raw-json` describes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, make_metadata

from .test_cli import run_cli

HA_INFO = {
    "supervisor": "2026.11.0",
    "homeassistant": "2026.11.2",
    "hassos": "17.0",
    "docker": "28.3.3",
    "hostname": "homeassistant",
    "operating_system": "Home Assistant OS 17.0",
    "features": ["reboot", "shutdown"],
    "machine": "raspberrypi4-64",
    "arch": "aarch64",
    "state": "running",
    "supported_arch": ["aarch64", "armv7", "armhf"],
    "supported": True,
    "channel": "stable",
    "logging": "info",
    "timezone": "Europe/Berlin",
}


def write_json(path: Path, data: Any) -> Path:
    """Write `data` as JSON and return the path."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def plain_backup(build_backup: Callable[..., Path]) -> Path:
    """Home Assistant and share, unencrypted, written by Supervisor 2026.11.0."""
    archives = [
        ArchiveSpec("homeassistant", {"data/configuration.yaml": b"x: 1\n"}),
        ArchiveSpec("share", {"notes.txt": b"n\n"}),
    ]
    return build_backup("plain.tar", archives, metadata=make_metadata(archives))


@pytest.mark.parametrize("shape", ["bare", "envelope"])
def test_target_in_both_shapes(plain_backup: Path, tmp_path: Path, shape: str) -> None:
    """The bare data object and the {"result","data"} envelope give the same facts."""
    document = HA_INFO if shape == "bare" else {"result": "ok", "data": HA_INFO}
    target = write_json(tmp_path / "target.json", document)
    result = run_cli("check", plain_backup, "--json", "--target", target, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    restore = json.loads(result.stdout)["restore"]
    assert restore["target"]["machine"] == "raspberrypi4-64"
    assert restore["target"]["supported_arch"] == ["aarch64", "armv7", "armhf"]
    assert restore["target"]["disk_free"] is None
    assert restore["verdict"] == "restores"
    assert {p["part"]: p["outcome"] for p in restore["parts"]} == {
        "folder:share": "restored",
        "homeassistant": "restored",
    }
    assert any("disk_free" in sentence for sentence in restore["not_judged"])


def test_too_old_supervisor_exits_1(plain_backup: Path, tmp_path: Path) -> None:
    """A target Supervisor older than the backup's fails the check: exit 1, code in JSON."""
    target = write_json(tmp_path / "old.json", {**HA_INFO, "supervisor": "2025.1.0"})
    result = run_cli("check", plain_backup, "--json", "--target", target, cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert "supervisor-too-old" in [p["code"] for p in data["problems"]]
    assert data["restore"]["verdict"] == "fails"


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", "not json", '{"result": "error", "message": "Unauthorized", "data": {}}', "{}"],
)
def test_bad_target_exits_2(plain_backup: Path, tmp_path: Path, content: str) -> None:
    """A file that is not what `ha info --raw-json` prints is a usage error: exit 2, a message."""
    target = tmp_path / "bad.json"
    target.write_text(content, encoding="utf-8")
    result = run_cli("check", plain_backup, "--target", target, cwd=tmp_path)
    assert result.returncode == 2
    assert "--target" in result.stderr and "ha info --raw-json" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_target_file_exits_2(plain_backup: Path, tmp_path: Path) -> None:
    """A --target file that does not exist is a usage error."""
    result = run_cli("check", plain_backup, "--target", tmp_path / "nope.json", cwd=tmp_path)
    assert result.returncode == 2


def test_human_output_ends_with_the_prediction(plain_backup: Path, tmp_path: Path) -> None:
    """For people, the check ends with the verdict, the target and one line per part."""
    target = write_json(tmp_path / "t.json", {**HA_INFO, "homeassistant": "2026.10.0"})
    result = run_cli("check", plain_backup, "--target", target, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    tail = result.stdout[result.stdout.index("Will it restore here?") :]
    assert tail.startswith("Will it restore here? yes")
    assert "Supervisor 2026.11.0" in tail and "raspberrypi4-64" in tail
    assert "restored  homeassistant  (core-version-change)" in tail
    assert "note [core-version-change]" in result.stdout


def test_without_target_says_it_cannot_tell(plain_backup: Path, tmp_path: Path) -> None:
    """No --target: the verdict is unknown and the output says how to give one."""
    result = run_cli("check", plain_backup, cwd=tmp_path)
    assert result.returncode == 0
    assert "Will it restore here? cannot tell yet" in result.stdout
    assert "--target" in result.stdout


def test_dot_dot_entry_exits_1_with_entry_breaks_restore(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """A '../' entry is an error now: exit 1, and the part fails, with or without a target."""
    archives = [ArchiveSpec("share", [FileSpec("../evil", content=b"x")])]
    path = build_backup("evil.tar", archives, metadata=make_metadata(archives))
    result = run_cli("check", path, "--json", cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [p["code"] for p in data["problems"] if p["severity"] == "error"] == [
        "entry-breaks-restore"
    ]
    assert data["restore"]["parts"] == [
        {"part": "folder:share", "outcome": "fails", "codes": ["entry-breaks-restore"]}
    ]
