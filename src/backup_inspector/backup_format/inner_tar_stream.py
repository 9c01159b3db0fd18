"""The plain tar stream inside an inner archive, pulled as a file object.

A copy that rewrites an archive (decrypt, new password, one file changed)
needs the archive's tar bytes in order, to hand to Python's tarfile. The
check's walk pushes bytes into a walker instead; this is the same pipeline
(raw → decrypt → inflate and verify) turned into a pull stream, so the
source is verified by exactly the rules the full check applies: a damaged
source archive raises ArchiveReadError while it is copied, never yields a
quietly wrong copy.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from .aes_cbc_stream import DecryptionError
from .archive_keys import ArchiveKeyRing
from .gzip_verifier import GzipError, GzipVerifier
from .inner_archive import (
    ArchiveProblem,
    ArchiveReadError,
    RawProgress,
    _raise_if_unreadable,
    _sniffed,
    plaintext_pieces,
)
from .outer_tar import OuterMember
from .securetar_header import ArchiveSniff, Compression, Encryption


def _verified_tar_pieces(
    f: BinaryIO,
    member: OuterMember,
    sniff: ArchiveSniff,
    keyring: ArchiveKeyRing | None,
    on_raw: RawProgress | None,
) -> Iterator[bytes | memoryview]:
    """Tar bytes of the archive; every end-of-stream rule is checked after the last piece."""
    _raise_if_unreadable(sniff)
    late_checks: list[Callable[[], None]] = []
    plain = plaintext_pieces(f, member, sniff, keyring, on_raw, late_checks, 0)
    compression, pieces = _sniffed(plain)
    if compression == Compression.UNKNOWN:
        for check in late_checks:
            check()
        problem = (
            ArchiveProblem.CORRUPT
            if sniff.encryption == Encryption.NONE
            else ArchiveProblem.NOT_DECRYPTABLE
        )
        raise ArchiveReadError(problem, "the archive's content is neither gzip nor tar")
    if compression == Compression.GZIP:
        verifier = GzipVerifier(
            allow_legacy_trailer=sniff.encryption == Encryption.V1,
            allow_padding=sniff.encryption == Encryption.V1,
        )
        for piece in pieces:
            yield from verifier.feed(piece)
        for check in late_checks:
            check()
        verifier.finish()
        return
    yield from pieces
    for check in late_checks:
        check()


def _as_read_errors(
    pieces: Iterator[bytes | memoryview], member: OuterMember
) -> Iterator[bytes | memoryview]:
    """Turn the format layer's stream errors into one ArchiveReadError naming the problem."""
    try:
        yield from pieces
    except (DecryptionError, GzipError) as err:
        problem = ArchiveProblem.CORRUPT if member.is_complete else ArchiveProblem.TRUNCATED
        raise ArchiveReadError(problem, str(err)) from err


class InnerTarStream(io.RawIOBase):
    """A read-only file object over an inner archive's verified tar bytes.

    Pieces from the format layer are views into reused buffers, valid only
    until the next one is pulled, so each is copied into `readinto`'s buffer
    at once; nothing else is kept, so memory stays constant.
    """

    def __init__(
        self,
        f: BinaryIO,
        member: OuterMember,
        sniff: ArchiveSniff,
        keyring: ArchiveKeyRing | None,
        on_raw: RawProgress | None = None,
    ) -> None:
        super().__init__()
        self._pieces = _as_read_errors(
            _verified_tar_pieces(f, member, sniff, keyring, on_raw), member
        )
        self._current = memoryview(b"")
        self._exhausted = False

    def readable(self) -> bool:
        """Always: this is a read stream."""
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        """Fill `buffer` from the current piece; 0 only at the verified end."""
        while not self._current:
            if self._exhausted:
                return 0
            try:
                self._current = memoryview(next(self._pieces))
            except StopIteration:
                self._exhausted = True
                return 0
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size

    def drain(self) -> None:
        """Read to the end, so the end-of-stream checks (gzip trailer, v3 FINAL) run."""
        while not self._exhausted:
            self._current = memoryview(b"")
            try:
                next(self._pieces)
            except StopIteration:
                self._exhausted = True

    def close(self) -> None:
        """Stop the pipeline (closes the generators that hold the file position)."""
        self._pieces.close()
        super().close()
