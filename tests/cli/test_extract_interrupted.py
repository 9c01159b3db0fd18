"""`extract` killed or stopped half-way: no link ever leads outside, no partial file survives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.cli.main import main
from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec

# Runs the real CLI in a child process, with every write slowed down so the
# test can stop it while the big file is being written.
SLOW_CLI = """
import sys, time
from backup_inspector.inspection import extract_files
real_write_all = extract_files.write_all
def slow_write_all(fd, data):
    time.sleep(0.05)
    return real_write_all(fd, data)
extract_files.write_all = slow_write_all
from backup_inspector.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
PARTIAL_MARKER = ".bi-partial-"


def chain_entries() -> list[FileSpec]:
    """Two links, each harmless alone, that together lead to "/"; then a big file."""
    return [
        FileSpec("a", type="dir"),
        FileSpec("a/e", type="symlink", link_target="p/../.."),  # inside while a/p is missing
        FileSpec("a/p", type="symlink", link_target="."),  # with it, a/e → a/.. /.. → outside
        FileSpec("big.bin", size=4 * 1024 * 1024, generator=lambda _offset, size: bytes(size)),
        FileSpec("z.txt", content=b"last\n"),
    ]


def partial_files(destination: Path) -> list[Path]:
    """The hidden partial files below `destination`."""
    return [path for path in destination.rglob("*") if PARTIAL_MARKER in path.name]


def signal_while_writing(
    backup: Path, destination: Path, signal_number: int
) -> subprocess.CompletedProcess[bytes]:
    """Run `extract BACKUP share --to DESTINATION` with slow writes; signal it mid-file."""
    arguments = ["extract", str(backup), "share", "--to", str(destination)]
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not partial_files(destination):  # the big file is being written
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the extraction never started writing"
            time.sleep(0.01)
        child.send_signal(signal_number)
    finally:
        stdout, stderr = child.communicate(timeout=30)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


@pytest.mark.timeout(120)
def test_sigkill_leaves_no_escaping_link_and_the_next_run_cleans_up(
    build_backup: Callable[..., Path], tmp_path: Path, links_outside: Callable[[Path], list[str]]
) -> None:
    """Killed mid-file, no link leads outside; the next run removes the stale partial file."""
    backup = build_backup("chain.tar", [ArchiveSpec("share", chain_entries(), compressed=False)])
    destination = tmp_path / "out"
    child = signal_while_writing(backup, destination, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    assert links_outside(destination) == []
    assert partial_files(destination) != []  # what a kill leaves behind…

    assert main(["extract", str(backup), "share", "--to", str(destination)]) == 1
    assert partial_files(destination) == []  # …is gone after the next run
    assert links_outside(destination) == []
    assert os.readlink(destination / "a/e") == "p/../.."
    assert not os.path.lexists(destination / "a/p")  # refused: it would open the way out
    assert (destination / "big.bin").stat().st_size == 4 * 1024 * 1024


@pytest.mark.timeout(120)
def test_sigterm_removes_the_partial_file(
    build_backup: Callable[..., Path], tmp_path: Path, links_outside: Callable[[Path], list[str]]
) -> None:
    """SIGTERM ends the CLI like Ctrl-C (exit 130): no partial file, no link, nothing escaping."""
    backup = build_backup("chain.tar", [ArchiveSpec("share", chain_entries(), compressed=False)])
    destination = tmp_path / "out"
    child = signal_while_writing(backup, destination, signal.SIGTERM)
    assert child.returncode == 130, child.stderr
    assert b"interrupted" in child.stderr and b"Traceback" not in child.stderr
    assert partial_files(destination) == []
    assert links_outside(destination) == []
    assert not (destination / "big.bin").exists()


def test_disk_below_the_reserve_is_refused_unless_allowed(
    build_backup: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With 1 GiB free, extract refuses (exit 1, nothing written); --allow-low-space extracts."""
    import shutil  # noqa: PLC0415

    gib = 1024**3
    monkeypatch.setattr(
        shutil, "disk_usage", lambda _path: shutil._ntuple_diskusage(8 * gib, 7 * gib, gib)
    )
    backup = build_backup("small.tar", [ArchiveSpec("share", {"a.txt": b"a\n"})])
    destination = tmp_path / "out"
    assert main(["extract", str(backup), "share", "--to", str(destination)]) == 1
    assert "1.0 GiB free" in capsys.readouterr().err
    assert list(destination.iterdir()) == []
    arguments = ["extract", str(backup), "share", "--to", str(destination), "--allow-low-space"]
    assert main(arguments) == 0
    assert (destination / "a.txt").read_bytes() == b"a\n"
