"""Streaming AES-128-CBC decryption for SecureTar v1 and v2 (format-spec §2.2–2.4).

Own code, not securetar's reader, because of a documented defect: securetar's
`_AesCbcDecryptReader` strips "padding" by trusting the last plaintext byte.
Legacy v1 uncompressed archives have no padding and end in 0x00, so securetar
>= 2026.2 loses their tail (format-spec §2.10); and v1 legacy gzip archives
carry a split trailer that a blind strip mangles. Stripping blindly also means
v2 padding is never verified. Here:

* v2: the header's plaintext size says exactly where the data ends; the
  PKCS#7 bytes after it are verified, and the ciphertext length must be
  (plaintext_size div 16 + 1) × 16.
* v1: nothing is stripped. The gzip verifier or the tar walker ends the
  stream where the format says it ends (format-spec §2.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .archive_keys import KeyMaterial
from .piece_buffers import BufferRing
from .securetar_header import AES_BLOCK


class DecryptionError(ValueError):
    """Encrypted data is damaged or cut short; the message says which.

    `offset` is the plaintext position where the damage was met, when known.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


def expected_v2_ciphertext_size(plaintext_size: int) -> int:
    """v2 always adds 1–16 bytes of PKCS#7 padding (format-spec §2.4)."""
    return (plaintext_size // AES_BLOCK + 1) * AES_BLOCK


def check_cbc_ciphertext_size(ciphertext_size: int, plaintext_size: int | None) -> None:
    """Raise DecryptionError when the ciphertext length cannot be right."""
    if ciphertext_size <= 0 or ciphertext_size % AES_BLOCK:
        raise DecryptionError(
            f"the encrypted data is {ciphertext_size:,} bytes, not a whole number of AES blocks: "
            "the archive was cut short or altered"
        )
    if plaintext_size is not None:
        expected = expected_v2_ciphertext_size(plaintext_size)
        if ciphertext_size < expected:
            raise DecryptionError(
                f"the encrypted data is {expected - ciphertext_size:,} bytes shorter than its header "
                "says: the archive was cut short"
            )
        if ciphertext_size > expected:
            raise DecryptionError(
                f"the encrypted data is {ciphertext_size - expected:,} bytes longer than its header says"
            )


def decrypt_first_block(material: KeyMaterial, ciphertext: bytes) -> bytes:
    """Decrypt the leading whole blocks of an archive (the password check)."""
    usable = len(ciphertext) - len(ciphertext) % AES_BLOCK
    decryptor = Cipher(algorithms.AES(material.key), modes.CBC(material.iv)).decryptor()
    return decryptor.update(ciphertext[:usable])


def decrypt_cbc_stream(
    chunks: Iterable[bytes | memoryview],
    material: KeyMaterial,
    *,
    plaintext_size: int | None,
    out: BufferRing | None = None,
) -> Iterator[bytes | memoryview]:
    """Decrypt ciphertext chunks (whole AES blocks each but the last) in order.

    With `plaintext_size` (v2) yield exactly that many bytes and verify the
    padding after them; without it (v1) yield every decrypted byte. With
    `out`, plaintext is written into its buffers (each at least a chunk plus
    one block long) instead of fresh bytes objects.
    """
    decryptor = Cipher(algorithms.AES(material.key), modes.CBC(material.iv)).decryptor()
    emitted = 0
    padding = bytearray()
    for chunk in chunks:
        if out is None:
            plain: bytes | memoryview = decryptor.update(chunk)
        else:
            buffer = out.take()
            plain = buffer[: decryptor.update_into(chunk, buffer)]
        if plaintext_size is None:
            yield plain
            continue
        wanted = plaintext_size - emitted
        if len(plain) <= wanted:
            emitted += len(plain)
            yield plain
        else:
            if wanted > 0:
                emitted += wanted
                yield memoryview(plain)[:wanted]
            padding += memoryview(plain)[max(wanted, 0) :]
    decryptor.finalize()
    if plaintext_size is not None:
        pad_length = len(padding)
        if (
            pad_length < 1
            or pad_length > AES_BLOCK
            or bytes(padding) != bytes([pad_length]) * pad_length
        ):
            raise DecryptionError(
                "the padding of the last encrypted block is wrong: the end of the archive was altered"
            )
