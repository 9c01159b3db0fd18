"""`extract` of supervisor.tar.gz: it holds mount and registry passwords, so it needs --confirm-sensitive."""

from __future__ import annotations

from pathlib import Path

from backup_inspector.demo.backup_writer import ArchiveSpec, make_metadata, write_backup

from .test_cli import run_cli

MOUNTS = b'{"mounts": [{"name": "nas", "password": "s3cret"}]}'


def backup_with_supervisor_settings(folder: Path) -> Path:
    """A backup with Home Assistant and the Supervisor's settings archive."""
    archives = [
        ArchiveSpec("homeassistant", {"data/configuration.yaml": b"homeassistant:\n"}),
        ArchiveSpec("supervisor", {"mounts.json": MOUNTS}),
    ]
    return write_backup(folder / "backup.tar", archives, metadata=make_metadata(archives))


def test_supervisor_archive_needs_confirmation(tmp_path: Path) -> None:
    """Without --confirm-sensitive: a usage error (exit 2) that says why, and nothing written."""
    path = backup_with_supervisor_settings(tmp_path)
    destination = tmp_path / "out"
    refused = run_cli("extract", path, "supervisor", "--to", destination, cwd=tmp_path)
    assert refused.returncode == 2, refused
    assert "registry logins" in refused.stderr and "--confirm-sensitive" in refused.stderr
    assert not (destination / "mounts.json").exists()

    confirmed = run_cli(
        "extract", path, "supervisor", "--to", destination, "--confirm-sensitive", cwd=tmp_path
    )
    assert confirmed.returncode == 0, confirmed
    assert (destination / "mounts.json").read_bytes() == MOUNTS


def test_other_archives_need_no_confirmation(tmp_path: Path) -> None:
    """Home Assistant's archive extracts as before, without the option."""
    path = backup_with_supervisor_settings(tmp_path)
    result = run_cli("extract", path, "homeassistant", "--to", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result
    assert (tmp_path / "out" / "data" / "configuration.yaml").is_file()
