"""Tell what an inner archive is from its own first bytes (format-spec §2.6).

Encryption is decided per inner archive from its bytes, never from the
metadata's `protected` or `crypto` fields, which have lied in several eras.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SECURETAR_MAGIC = b"SecureTar"  # format-spec §2.4
SECURETAR_V1_SALT_SIZE = 16  # format-spec §2.3
SECURETAR_V2_HEADER_SIZE = 48  # format-spec §2.4
SECURETAR_V3_HEADER_SIZE = 136  # format-spec §2.5
GZIP_MAGIC = b"\x1f\x8b"
TAR_MAGIC = b"ustar"
TAR_MAGIC_OFFSET = 257
AES_BLOCK = 16
SNIFF_SIZE = 512  # enough for gzip magic, the ustar magic and any SecureTar header


class Encryption(StrEnum):
    """Encryption generation of one inner archive (the JSON contract's names)."""

    NONE = "none"
    V1 = "securetar-v1"
    V2 = "securetar-v2"
    V3 = "securetar-v3"
    UNKNOWN = "unknown"


class Compression(StrEnum):
    """What the plaintext of an inner archive is."""

    GZIP = "gzip"
    TAR = "tar"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ArchiveSniff:
    """What the first bytes of an inner archive say.

    `problem` is set when the bytes fit no known format; `unsupported_version`
    when they are SecureTar of a version this reader does not know (which must
    be reported as unsupported, never as a wrong password).
    """

    encryption: Encryption
    compression: Compression
    header_size: int = 0
    plaintext_size: int | None = None
    unsupported_version: int | None = None
    problem: str | None = None
    is_cut_short: bool = False  # the file ends before the bytes that would tell


def sniff_plaintext(first_bytes: bytes) -> Compression:
    """Whether decrypted or plain bytes start a gzip stream or a tar stream."""
    if first_bytes[:2] == GZIP_MAGIC:
        return Compression.GZIP
    if first_bytes[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + len(TAR_MAGIC)] == TAR_MAGIC:
        return Compression.TAR
    return Compression.UNKNOWN


def sniff_inner_archive(first_bytes: bytes, member_size: int) -> ArchiveSniff:
    """Classify an inner archive from up to SNIFF_SIZE leading bytes.

    `first_bytes` may be shorter than SNIFF_SIZE when the backup file was cut
    inside the archive; then a header that cannot be read completely is
    reported as cut short (truncation), not as an unknown format.
    """
    if member_size == 0:
        return ArchiveSniff(Encryption.UNKNOWN, Compression.UNKNOWN, problem="the archive is empty")
    is_cut = len(first_bytes) < min(SNIFF_SIZE, member_size)
    if is_cut and len(first_bytes) < SECURETAR_V3_HEADER_SIZE + AES_BLOCK:
        sniff = _sniff_complete(first_bytes, member_size)
        if sniff.problem is not None or sniff.encryption in (Encryption.V1, Encryption.UNKNOWN):
            return ArchiveSniff(
                sniff.encryption if sniff.problem is None else Encryption.UNKNOWN,
                Compression.UNKNOWN,
                problem="the backup file ends within the first bytes of this archive",
                is_cut_short=True,
            )
        if len(first_bytes) < sniff.header_size + AES_BLOCK:
            return ArchiveSniff(
                sniff.encryption,
                Compression.UNKNOWN,
                problem="the backup file ends within the header of this archive",
                is_cut_short=True,
            )
        return sniff
    return _sniff_complete(first_bytes, member_size)


def _sniff_complete(first_bytes: bytes, member_size: int) -> ArchiveSniff:
    if first_bytes[: len(SECURETAR_MAGIC)] == SECURETAR_MAGIC:
        return _sniff_securetar_header(first_bytes, member_size)
    plain = sniff_plaintext(first_bytes)
    if plain != Compression.UNKNOWN:
        return ArchiveSniff(Encryption.NONE, plain)
    # Header-less v1: 16 random salt bytes, then whole AES blocks.
    if (
        member_size >= SECURETAR_V1_SALT_SIZE + AES_BLOCK
        and (member_size - SECURETAR_V1_SALT_SIZE) % AES_BLOCK == 0
    ):
        return ArchiveSniff(Encryption.V1, Compression.UNKNOWN, header_size=SECURETAR_V1_SALT_SIZE)
    return ArchiveSniff(
        Encryption.UNKNOWN,
        Compression.UNKNOWN,
        problem="the archive is neither gzip, tar nor SecureTar (its first bytes are damaged or it is another format)",
    )


def _sniff_securetar_header(first_bytes: bytes, member_size: int) -> ArchiveSniff:
    if len(first_bytes) < 16:
        return ArchiveSniff(
            Encryption.UNKNOWN, Compression.UNKNOWN, problem="the SecureTar header is cut short"
        )
    version = first_bytes[9]
    if first_bytes[10:16] != bytes(6):
        return ArchiveSniff(
            Encryption.UNKNOWN,
            Compression.UNKNOWN,
            unsupported_version=version,
            problem="the SecureTar header has non-zero reserved bytes (a newer or damaged format)",
        )
    if version not in (2, 3):
        return ArchiveSniff(
            Encryption.UNKNOWN,
            Compression.UNKNOWN,
            unsupported_version=version,
            problem=f"SecureTar version {version} is not known to this reader",
        )
    header_size = SECURETAR_V2_HEADER_SIZE if version == 2 else SECURETAR_V3_HEADER_SIZE
    if member_size < header_size or len(first_bytes) < header_size:
        return ArchiveSniff(
            Encryption.V2 if version == 2 else Encryption.V3,
            Compression.UNKNOWN,
            problem="the SecureTar header is cut short",
        )
    plaintext_size = int.from_bytes(first_bytes[16:24], "big")
    return ArchiveSniff(
        Encryption.V2 if version == 2 else Encryption.V3,
        Compression.UNKNOWN,
        header_size=header_size,
        plaintext_size=plaintext_size,
    )
