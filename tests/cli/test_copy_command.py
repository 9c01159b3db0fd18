"""`backup-inspector copy`: issue 12's options, exit codes 0/1/2 and `--json` shape."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from backup_inspector.demo.backup_writer import flip_byte, member_location
from inspection.copy_readback import file_sha256, read_back

from .test_cli import run_cli

COPY_KEYS = {"path", "slug", "name", "archives", "dropped", "changed", "check"}
KIT_KEY = "QWER-TYUI-OPAS-DFGH-JKLZ-XCVB-NM12"


@pytest.fixture
def secret_file(tmp_path: Path, password: str) -> Path:
    """The source password in a file."""
    path = tmp_path / "password.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return path


def _copy(tmp_path: Path, *args: str | Path):
    """Run `copy` with a private temp folder (the database check copies files there)."""
    private = tmp_path / "tmp"
    private.mkdir(exist_ok=True)
    return run_cli("copy", *args, cwd=tmp_path, env={"TMPDIR": str(private)})


def test_decrypt_json_shape(three_archive_backup, three_archive_files, secret_file, tmp_path):
    """--decrypt --json: exit 0, exactly the contract's keys, a copy tarfile reads without a password."""
    source = three_archive_backup("v3")
    before = file_sha256(source)
    out = tmp_path / "plain.tar"
    result = _copy(
        tmp_path, source, "--to", out, "--password-file", secret_file, "--decrypt", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == COPY_KEYS
    assert data["path"] == str(out) and data["check"]["ok"] is True
    assert data["archives"] == ["homeassistant.tar.gz", "share.tar.gz", "ssl.tar.gz"]
    assert data["dropped"] == []
    assert {c["action"] for c in data["changed"]} == {"decrypted"}
    assert read_back(out, None).files("share") == three_archive_files["share"]
    assert file_sha256(source) == before


def test_existing_destination_needs_overwrite(three_archive_backup, tmp_path):
    """An existing --to is a usage error (2) and stays as it was; --overwrite replaces it (0)."""
    source = three_archive_backup("none")
    out = tmp_path / "there.tar"
    out.write_bytes(b"mine")
    result = _copy(tmp_path, source, "--to", out, "--drop", "ssl")
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert out.read_bytes() == b"mine"
    result = _copy(tmp_path, source, "--to", out, "--drop", "ssl", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert "ssl" not in read_back(out, None).entries


@pytest.mark.parametrize(
    "args",
    [
        ["--drop", "nothere"],
        ["--replace", "share:notes.txt"],
        ["--delete", "share"],
        ["--decrypt", "--new-password-file", "x"],
        ["--replace", "share:notes.txt=/no/such/file"],
    ],
    ids=[
        "unknown-archive",
        "replace-without-file",
        "delete-without-path",
        "two-keys",
        "missing-file",
    ],
)
def test_usage_errors(three_archive_backup, tmp_path, args):
    """Bad options exit 2 with a message and leave no file."""
    out = tmp_path / "never.tar"
    result = _copy(tmp_path, three_archive_backup("none"), "--to", out, *args)
    assert result.returncode == 2
    assert result.stderr.strip()
    assert not out.exists()


def test_damaged_archive_exit_1_unless_dropped(
    three_archive_backup, secret_file, tmp_path, fresh_copy
):
    """A damaged archive kept: exit 1, nothing left; dropped: exit 0 and `dropped` names it."""
    source = fresh_copy(three_archive_backup("v2"))
    offset, size = member_location(source, "share.tar.gz")
    flip_byte(source, offset + size // 2)
    out = tmp_path / "c.tar"
    result = _copy(tmp_path, source, "--to", out, "--password-file", secret_file)
    assert result.returncode == 1 and "no copy made" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
    result = _copy(
        tmp_path, source, "--to", out, "--password-file", secret_file, "--drop", "share", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["dropped"][0]["archive"] == "share.tar.gz"


def test_replace_delete_and_new_kit(three_archive_backup, three_archive_files, tmp_path):
    """--replace and --delete in one archive, encrypted with the key of --new-emergency-kit."""
    source = three_archive_backup("none")
    kit = tmp_path / "emergency_kit.txt"
    kit.write_text(f"Home Assistant emergency kit\n\nEncryption key\n{KIT_KEY}\n", encoding="utf-8")
    local = tmp_path / "notes.txt"
    local.write_bytes(b"new notes\n")
    out = tmp_path / "edited.tar"
    result = _copy(
        tmp_path,
        source,
        "--to",
        out,
        "--new-emergency-kit",
        kit,
        "--replace",
        f"share:notes.txt={local}",
        "--delete",
        "ssl:privkey.pem",
        "--name",
        "Edited",
    )
    assert result.returncode == 0, result.stderr
    assert "Copy written" in result.stdout
    back = read_back(out, KIT_KEY)
    assert back.metadata["name"] == "Edited" and back.metadata["protected"] is True
    assert back.files("share")["notes.txt"] == b"new notes\n"
    assert "privkey.pem" not in back.files("ssl")
    assert back.files("homeassistant") == three_archive_files["homeassistant"]


def _limit_file_size() -> None:
    """In the child: files may not grow past 40 KB, and that is an error, not a signal."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


def test_file_size_limit_mid_copy_leaves_nothing(three_archive_backup, tmp_path):
    """A real write failure from the kernel (RLIMIT_FSIZE) mid-copy: exit 1, no partial file."""
    source = three_archive_backup("none")
    assert source.stat().st_size > 40_000
    out = tmp_path / "limited" / "c.tar"
    out.parent.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "backup_inspector",
            "copy",
            str(source),
            "--to",
            str(out),
            "--decrypt",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "too large" in result.stderr.lower()
    assert list(out.parent.iterdir()) == []
