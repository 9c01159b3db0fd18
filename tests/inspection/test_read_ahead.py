"""The read-ahead thread and the buffer ring behind it: no piece is overwritten while queued."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backup_inspector.backup_format.archive_keys import ArchiveKeyRing
from backup_inspector.backup_format.inner_archive import (
    RAW_CHUNK_SIZE,
    plaintext_pieces,
    walk_inner_archive,
)
from backup_inspector.backup_format.inner_tar import InnerTarWalker
from backup_inspector.backup_format.tar_entry import TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, random_content
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.read_ahead import ReadAhead, read_ahead

# Larger than the ring many times over, so buffers are reused while pieces wait in the queue.
ARCHIVE_CONTENT = 20 * RAW_CHUNK_SIZE


def _pieces(
    path: Path, password: str | None, pieces_held: int
) -> Callable[[], Iterator[bytes | memoryview]]:
    overview = open_backup(path)
    archive = overview.archives[0]
    keyring = ArchiveKeyRing(password) if password else None

    def stream() -> Iterator[bytes | memoryview]:
        with path.open("rb") as f:
            yield from plaintext_pieces(
                f, archive.member, archive.sniff, keyring, None, [], pieces_held
            )

    return stream


def _slow_digests(pieces: Iterator[bytes | memoryview]) -> list[str]:
    """Digest each piece after a pause, long enough for the producer to fill the queue."""
    digests = []
    for piece in pieces:
        time.sleep(0.003)
        digests.append(hashlib.sha256(piece).hexdigest())
    return digests


@pytest.fixture
def big_backup(build_backup: Callable[..., Path]) -> Callable[[str], Path]:
    def build(encryption: str) -> Path:
        files = [
            FileSpec("data/big.bin", size=ARCHIVE_CONTENT, generator=random_content("big")),
        ]
        return build_backup(
            f"big-{encryption}.tar", [ArchiveSpec("homeassistant", files, encryption=encryption)]
        )

    return build


@pytest.mark.parametrize("encryption", ["none", "v1-legacy", "v1-fixed", "v2", "v3"])
def test_pieces_survive_the_queue(
    big_backup: Callable[[str], Path], password: str, encryption: str
) -> None:
    """Through ReadAhead with a slow consumer, every piece is what a plain serial read gives."""
    path = big_backup(encryption)
    secret = password if encryption != "none" else None
    serial = [hashlib.sha256(p).hexdigest() for p in _pieces(path, secret, 0)()]
    pipe = ReadAhead()
    threaded = _slow_digests(pipe(_pieces(path, secret, pipe.pieces_held)()))
    assert len(serial) > 2 * (pipe.pieces_held + 2)
    assert threaded == serial


def test_an_undersized_ring_is_caught(big_backup: Callable[[str], Path]) -> None:
    """The check above can fail: a ring sized for no read-ahead loses pieces in the queue."""
    path = big_backup("none")
    serial = [hashlib.sha256(p).hexdigest() for p in _pieces(path, None, 0)()]
    threaded = _slow_digests(read_ahead(_pieces(path, None, 0)(), depth=4))
    assert threaded != serial


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read-ahead" and t.is_alive()]


def test_a_walk_that_fails_stops_its_read_ahead_thread(
    big_backup: Callable[[str], Path],
) -> None:
    """An error in an entry callback ends the producer thread at once, not when the traceback dies."""
    path = big_backup("none")
    overview = open_backup(path)
    archive = overview.archives[0]

    def refuse(entry: TarEntry) -> None:
        raise RuntimeError(f"refused {entry.path}")

    with path.open("rb") as f, pytest.raises(RuntimeError) as caught:
        walk_inner_archive(
            f,
            archive.member,
            archive.sniff,
            None,
            InnerTarWalker(refuse),
            plaintext_wrapper=ReadAhead(),
        )
    assert caught.value.__traceback__ is not None  # the frames are still referenced here
    assert _read_ahead_threads() == []
