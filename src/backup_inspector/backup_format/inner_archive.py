"""Read one inner archive in place: raw bytes → decrypt → inflate and verify → walk the tar.

One pass does everything: the full check, the listing and the extraction are
the same walk with different entry callbacks. Memory stays constant: data
moves through in pieces of about 1 MiB, in reused buffers (piece_buffers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO, Protocol

from .aes_cbc_stream import (
    DecryptionError,
    check_cbc_ciphertext_size,
    decrypt_cbc_stream,
    decrypt_first_block,
    expected_v2_ciphertext_size,
)
from .archive_keys import ArchiveKeyRing, TooManyRootSaltsError, WrongPasswordError
from .gzip_verifier import GzipError, GzipVerifier
from .inner_tar import InnerTarError, InnerTarWalker, StopWalk
from .outer_tar import OuterMember
from .piece_buffers import BufferRing, ring_for_consumer
from .secretstream_v3 import (
    V3_CHUNK_SIZE,
    V3_CIPHERTEXT_CHUNK_SIZE,
    AuthenticationError,
    check_v3_ciphertext_size,
    decrypt_secretstream,
    expected_v3_ciphertext_size,
)
from .securetar_header import (
    SNIFF_SIZE,
    ArchiveSniff,
    Compression,
    Encryption,
    sniff_inner_archive,
    sniff_plaintext,
)

RAW_CHUNK_SIZE = 1024 * 1024
# Ciphertext is decrypted as soon as it is read, into another buffer: one raw buffer is enough.
_RAW_BUFFERS = 1
# Decryptors may ask for up to a block more room than their input.
_OUTPUT_SLACK = 64
_VERSION_OF = {Encryption.V1: 1, Encryption.V2: 2, Encryption.V3: 3}

RawProgress = Callable[[int], None]


class ArchiveProblem(StrEnum):
    """Why an inner archive could not be read to its end."""

    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    WRONG_PASSWORD = "wrong-password"  # noqa: S105 - a finding code, not a password
    UNSUPPORTED = "unsupported"
    PASSWORD_REQUIRED = "password-required"  # noqa: S105 - a finding code, not a password
    NOT_DECRYPTABLE = "not-decryptable"  # v1/v2: decrypted bytes are not gzip/tar


class ArchiveReadError(Exception):
    """An inner archive could not be read to its end; `problem` says why, `detail` how."""

    def __init__(
        self,
        problem: ArchiveProblem,
        detail: str,
        *,
        done_fraction: float | None = None,
        reached_end: bool = False,
    ) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.done_fraction = done_fraction
        # True when every entry was read and only an end-of-archive check failed
        # (a gzip checksum): the listing is complete even though the archive is damaged.
        self.reached_end = reached_end


class PlaintextPipe(Protocol):
    """Wraps the stream of plaintext pieces (the service layer's read-ahead thread)."""

    pieces_held: int  # how many pieces it may hold at once besides the consumer's

    def __call__(
        self, pieces: Iterator[bytes | memoryview]
    ) -> Iterator[bytes | memoryview]: ...  # pragma: no cover - protocol


@dataclass(frozen=True)
class WalkResult:
    """What a complete, successful walk saw."""

    entries: int
    content_bytes: int
    compression: Compression


def read_sniff(f: BinaryIO, member: OuterMember) -> ArchiveSniff:
    """Classify an inner archive from its first bytes (nothing decrypted)."""
    f.seek(member.data_offset)
    first = f.read(min(SNIFF_SIZE, member.available_size))
    return sniff_inner_archive(first, member.size)


def _header_bytes(f: BinaryIO, member: OuterMember, sniff: ArchiveSniff) -> bytes:
    f.seek(member.data_offset)
    return f.read(sniff.header_size)


def _key_material(
    f: BinaryIO, member: OuterMember, sniff: ArchiveSniff, keyring: ArchiveKeyRing | None
):
    if keyring is None:
        raise ArchiveReadError(
            ArchiveProblem.PASSWORD_REQUIRED, "the archive is encrypted and no password was given"
        )
    try:
        return keyring.key_material(_VERSION_OF[sniff.encryption], _header_bytes(f, member, sniff))
    except WrongPasswordError as err:
        raise ArchiveReadError(
            ArchiveProblem.WRONG_PASSWORD, "the password does not fit this archive"
        ) from err
    except TooManyRootSaltsError as err:  # see its docstring for why this is "corrupt"
        raise ArchiveReadError(ArchiveProblem.CORRUPT, str(err)) from err


def _raise_if_unreadable(sniff: ArchiveSniff) -> None:
    if sniff.is_cut_short:
        raise ArchiveReadError(
            ArchiveProblem.TRUNCATED, sniff.problem or "the archive is cut short"
        )
    if sniff.unsupported_version is not None:
        raise ArchiveReadError(
            ArchiveProblem.UNSUPPORTED, sniff.problem or "unsupported SecureTar version"
        )
    if sniff.problem is not None or sniff.encryption == Encryption.UNKNOWN:
        raise ArchiveReadError(ArchiveProblem.CORRUPT, sniff.problem or "unknown archive format")


def check_password(
    f: BinaryIO, member: OuterMember, sniff: ArchiveSniff, keyring: ArchiveKeyRing | None
) -> None:
    """The quick password check of one encrypted archive; raises ArchiveReadError if it fails.

    v3: the validation key, exact. v1/v2: the first decrypted block must look
    like gzip or tar (format-spec §2.7); a false accept (~2⁻²⁴) surfaces
    later as corruption in a full check.
    """
    _raise_if_unreadable(sniff)
    if sniff.encryption == Encryption.NONE:
        return
    material = _key_material(f, member, sniff, keyring)
    if sniff.encryption == Encryption.V3:
        return
    f.seek(member.data_offset + sniff.header_size)
    plain = decrypt_first_block(
        material, f.read(min(SNIFF_SIZE, member.available_size - sniff.header_size))
    )
    if sniff_plaintext(plain) == Compression.UNKNOWN:
        if not member.is_complete and len(plain) < SNIFF_SIZE:
            # Too few bytes to tell a wrong password from a cut: never blame the password.
            raise ArchiveReadError(
                ArchiveProblem.TRUNCATED,
                "the backup file ends too early in this archive to test the password",
            )
        raise ArchiveReadError(
            ArchiveProblem.NOT_DECRYPTABLE,
            "the decrypted start of the archive is neither gzip nor tar",
        )


def _iter_raw(
    f: BinaryIO, start: int, length: int, ring: BufferRing, on_raw: RawProgress | None
) -> Iterator[memoryview]:
    """`length` bytes from `start`, read into the ring's buffers (one buffer's size at a time)."""
    f.seek(start)
    remaining = length
    while remaining > 0:
        view = ring.take()[: min(ring.size, remaining)]
        got = f.readinto(view)
        if not got:
            raise ArchiveReadError(
                ArchiveProblem.TRUNCATED, "the backup file ended while reading (was it changed?)"
            )
        remaining -= got
        if on_raw is not None:
            on_raw(got)
        yield view[:got]


def plaintext_pieces(
    f: BinaryIO,
    member: OuterMember,
    sniff: ArchiveSniff,
    keyring: ArchiveKeyRing | None,
    on_raw: RawProgress | None,
    late_checks: list[Callable[[], None]],
    pieces_held: int = 0,
) -> Iterator[memoryview | bytes]:
    """Decrypted bytes of the archive; checks that can only run at the end go to late_checks.

    Pieces are views into a ring of reused buffers (piece_buffers): each stays
    valid while the consumer holds at most `pieces_held` pieces besides it.

    When the member's length is wrong (cut short, or a header that does not
    match), only the whole blocks/messages that are there are decrypted, with
    no end-of-stream rules, so the entries before the damage still list; the
    late check then names the real problem.
    """
    if not member.is_complete:
        missing = member.size - member.available_size
        late_checks.append(lambda: _raise_cut_short(missing))
    if sniff.encryption == Encryption.NONE:
        ring = ring_for_consumer(pieces_held, RAW_CHUNK_SIZE)
        return _iter_raw(f, member.data_offset, member.available_size, ring, on_raw)
    material = _key_material(f, member, sniff, keyring)
    if on_raw is not None:
        on_raw(sniff.header_size)  # read for the key material; counted so progress ends at 100 %
    payload_start = member.data_offset + sniff.header_size
    available = member.available_size - sniff.header_size
    declared = member.size - sniff.header_size
    if sniff.encryption == Encryption.V3:
        plaintext_size = sniff.plaintext_size or 0
        raw_ring = BufferRing(_RAW_BUFFERS, V3_CIPHERTEXT_CHUNK_SIZE)
        out = ring_for_consumer(pieces_held, V3_CHUNK_SIZE + _OUTPUT_SLACK)
        if member.is_complete and declared == expected_v3_ciphertext_size(plaintext_size):
            raw = _iter_raw(f, payload_start, available, raw_ring, on_raw)
            return decrypt_secretstream(raw, material, plaintext_size=plaintext_size, out=out)
        late_checks.append(lambda: check_v3_ciphertext_size(declared, plaintext_size))
        whole = available // V3_CIPHERTEXT_CHUNK_SIZE * V3_CIPHERTEXT_CHUNK_SIZE
        raw = _iter_raw(f, payload_start, whole, raw_ring, on_raw)
        return _decrypt_without_final(raw, material, plaintext_size, out)
    late_checks.append(lambda: check_cbc_ciphertext_size(declared, sniff.plaintext_size))
    raw_ring = BufferRing(_RAW_BUFFERS, RAW_CHUNK_SIZE)
    out = ring_for_consumer(pieces_held, RAW_CHUNK_SIZE + _OUTPUT_SLACK)
    raw = _iter_raw(f, payload_start, available - available % 16, raw_ring, on_raw)
    size_is_right = sniff.plaintext_size is None or declared == expected_v2_ciphertext_size(
        sniff.plaintext_size
    )
    if sniff.encryption == Encryption.V2 and member.is_complete and size_is_right:
        return decrypt_cbc_stream(raw, material, plaintext_size=sniff.plaintext_size, out=out)
    return decrypt_cbc_stream(raw, material, plaintext_size=None, out=out)


def _raise_cut_short(missing: int) -> None:
    raise DecryptionError(f"its last {missing:,} bytes are missing")


def _decrypt_without_final(
    raw: Iterator[memoryview], material, plaintext_size: int, out: BufferRing
) -> Iterator[bytes | memoryview]:
    """Decrypt the whole messages of a v3 stream whose length is wrong, ignoring FINAL placement."""
    try:
        yield from decrypt_secretstream(raw, material, plaintext_size=plaintext_size, out=out)
    except AuthenticationError:
        raise
    except DecryptionError:
        pass  # FINAL-tag complaints are expected here; the late length check explains them.


def walk_inner_archive(
    f: BinaryIO,
    member: OuterMember,
    sniff: ArchiveSniff,
    keyring: ArchiveKeyRing | None,
    walker: InnerTarWalker,
    *,
    on_raw: RawProgress | None = None,
    plaintext_wrapper: PlaintextPipe | None = None,
) -> WalkResult:
    """Read the archive to its last byte, feeding the tar stream to `walker`.

    `plaintext_wrapper`, if given, wraps the stream of decrypted pieces; the
    service layer uses it to read and decrypt in another thread while this
    one inflates and walks (this layer stays single-threaded). Its
    `pieces_held` sizes the buffer ring so no piece is reused while queued.

    Verifies everything the format allows: AES padding and lengths (v2), the
    authentication of every v3 message and its FINAL tag, the gzip CRC32 and
    ISIZE (both v1 trailer shapes), and the tar structure. A StopWalk raised
    by the walker's callback ends the read early (extraction of one file).
    Raises ArchiveReadError naming the problem.
    """
    _raise_if_unreadable(sniff)
    late_checks: list[Callable[[], None]] = []
    at_end = False
    verifier: GzipVerifier | None = None
    plaintext_total = sniff.plaintext_size or max(1, member.size - sniff.header_size)

    def fraction(err: Exception) -> float | None:
        """Where in the archive the damage was met; None if only the end could tell."""
        if at_end:
            return None
        offset = getattr(err, "offset", None)
        if isinstance(err, InnerTarError) and verifier is not None:
            # The tar offset is in inflated bytes; map it back into the archive.
            offset = verifier.compressed_offset_of(walker.offset if offset is None else offset)
        elif offset is None:
            offset = verifier.compressed_consumed if verifier is not None else walker.offset
        return min(1.0, offset / plaintext_total)

    compression = Compression.UNKNOWN
    # Closed when the walk ends, however it ends: a read-ahead thread then stops
    # at once instead of when a traceback that holds this frame is dropped.
    streams: list[Iterator[bytes | memoryview]] = []
    try:
        held = plaintext_wrapper.pieces_held if plaintext_wrapper is not None else 0
        plain = plaintext_pieces(f, member, sniff, keyring, on_raw, late_checks, held)
        streams.append(plain)
        if plaintext_wrapper is not None:
            plain = plaintext_wrapper(plain)
            streams.append(plain)
        compression, pieces = _sniffed(plain)
        streams.append(pieces)
        if compression == Compression.UNKNOWN:
            at_end = True
            for check in late_checks:  # a cut-short stream explains unreadable bytes best
                check()
            if sniff.encryption == Encryption.NONE:
                raise ArchiveReadError(
                    ArchiveProblem.CORRUPT, "the archive is neither gzip nor tar"
                )
            raise ArchiveReadError(
                ArchiveProblem.NOT_DECRYPTABLE,
                "the decrypted start of the archive is neither gzip nor tar",
            )
        if compression == Compression.GZIP:
            verifier = GzipVerifier(
                allow_legacy_trailer=sniff.encryption == Encryption.V1,
                allow_padding=sniff.encryption == Encryption.V1,
            )
            for piece in pieces:
                for out in verifier.feed(piece):
                    walker.feed(out)
            at_end = True
            for check in late_checks:
                check()
            verifier.finish()
        else:
            for piece in pieces:
                walker.feed(piece)
            at_end = True
            for check in late_checks:
                check()
        walker.finish()
    except StopWalk:
        walker.abort()
        return WalkResult(walker.entries, walker.content_bytes, compression)
    except (DecryptionError, GzipError, InnerTarError) as err:
        walker.abort()
        problem = ArchiveProblem.CORRUPT if member.is_complete else ArchiveProblem.TRUNCATED
        raise ArchiveReadError(
            problem,
            str(err),
            done_fraction=fraction(err),
            reached_end=at_end and member.is_complete and walker.saw_end_marker,
        ) from err
    except BaseException:
        walker.abort()
        raise
    finally:
        for stream in reversed(streams):
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    return WalkResult(walker.entries, walker.content_bytes, compression)


def _sniffed(
    plain: Iterator[bytes | memoryview],
) -> tuple[Compression, Iterator[bytes | memoryview]]:
    """Look at the first plaintext bytes without losing them."""
    head = bytearray()
    taken: list[bytes | memoryview] = []
    for piece in plain:
        taken.append(bytes(piece))  # a copy: the ring reuses the buffer behind `piece`
        head += piece[: SNIFF_SIZE - len(head)] if len(head) < SNIFF_SIZE else b""
        if len(head) >= SNIFF_SIZE:
            break

    def replay() -> Iterator[bytes | memoryview]:
        while taken:
            yield taken.pop(0)  # not kept for the rest of the walk
        yield from plain

    return sniff_plaintext(bytes(head)), replay()
