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


def links_outside(destination: Path) -> list[str]:
    """Every symbolic link below `destination` whose target resolves outside it."""
    root = os.path.realpath(destination)
    escaping = []
    for folder, dirs, names in os.walk(destination):
        for name in (*dirs, *names):
            path = os.path.join(folder, name)
            if os.path.islink(path):
                real = os.path.realpath(path)
                if real != root and not real.startswith(root + os.sep):
                    escaping.append(os.path.relpath(path, destination))
    return escaping


def partial_files(destination: Path) -> list[Path]:
    """The hidden partial files below `destination`."""
    return [path for path in destination.rglob("*") if PARTIAL_MARKER in path.name]


def start_slow_extraction(backup: Path, destination: Path) -> subprocess.Popen[bytes]:
    """Start `extract BACKUP share --to DESTINATION` in a child process with slow writes."""
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, "extract", str(backup), "share", "--to", str(destination)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_partial_file(destination: Path, child: subprocess.Popen[bytes]) -> None:
    """Wait until the child writes the big file (its partial file exists)."""
    deadline = time.monotonic() + 60
    while not partial_files(destination):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the extraction never started writing"
        time.sleep(0.01)


@pytest.mark.timeout(120)
def test_sigkill_leaves_no_escaping_link_and_the_next_run_cleans_up(
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """Killed mid-file, no link leads outside; the next run removes the stale partial file."""
    backup = build_backup("chain.tar", [ArchiveSpec("share", chain_entries(), compressed=False)])
    destination = tmp_path / "out"
    child = start_slow_extraction(backup, destination)
    try:
        wait_for_partial_file(destination, child)
        child.send_signal(signal.SIGKILL)
    finally:
        child.communicate(timeout=30)
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
    build_backup: Callable[..., Path], tmp_path: Path
) -> None:
    """SIGTERM ends the CLI like Ctrl-C (exit 130): no partial file, no link, nothing escaping."""
    backup = build_backup("chain.tar", [ArchiveSpec("share", chain_entries(), compressed=False)])
    destination = tmp_path / "out"
    child = start_slow_extraction(backup, destination)
    try:
        wait_for_partial_file(destination, child)
        child.send_signal(signal.SIGTERM)
    finally:
        _stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert b"interrupted" in stderr and b"Traceback" not in stderr
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
