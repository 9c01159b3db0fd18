"""Streaming XChaCha20-Poly1305 secretstream decryption for SecureTar v3 (format-spec §2.5).

The keys come from securetar (archive_keys). The chunk loop is our own so that
damage is named precisely: which chunk failed authentication and how far into
the archive, whether the stream was cut short (length checked against the
header's plaintext size before anything is read), and misplaced FINAL tags.
securetar's reader reports all of these as one raw `CryptoError`/"Unexpected
failure", which is what users see from other tools (user-needs §3.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nacl import bindings
from nacl.exceptions import CryptoError

from .aes_cbc_stream import DecryptionError
from .archive_keys import KeyMaterial

V3_CHUNK_SIZE = 1024 * 1024  # plaintext bytes per secretstream message (format-spec §2.5)
V3_CHUNK_OVERHEAD = bindings.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
V3_CIPHERTEXT_CHUNK_SIZE = V3_CHUNK_SIZE + V3_CHUNK_OVERHEAD
_TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class AuthenticationError(DecryptionError):
    """A v3 message failed its authentication check: its bytes were altered."""


def expected_v3_ciphertext_size(plaintext_size: int) -> int:
    """plaintext + 17 bytes per 1 MiB message, at least one message."""
    chunks = max(1, -(-plaintext_size // V3_CHUNK_SIZE))
    return plaintext_size + chunks * V3_CHUNK_OVERHEAD


def check_v3_ciphertext_size(ciphertext_size: int, plaintext_size: int) -> None:
    """Raise DecryptionError when the stream is shorter or longer than its header says."""
    expected = expected_v3_ciphertext_size(plaintext_size)
    if ciphertext_size < expected:
        raise DecryptionError(
            f"the encrypted stream is {expected - ciphertext_size:,} bytes shorter than its header "
            "says: the archive was cut short"
        )
    if ciphertext_size > expected:
        raise DecryptionError(
            f"the encrypted stream is {ciphertext_size - expected:,} bytes longer than its header says"
        )


def decrypt_secretstream(
    chunks: Iterable[bytes],
    material: KeyMaterial,
    *,
    plaintext_size: int,
) -> Iterator[bytes]:
    """Decrypt ciphertext messages (each exactly V3_CIPHERTEXT_CHUNK_SIZE but the last).

    Verifies every authentication tag and that FINAL comes exactly on the last
    message. The caller checks the total length first (check_v3_ciphertext_size).
    """
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, material.iv, material.key)
    expected_messages = max(1, -(-plaintext_size // V3_CHUNK_SIZE))
    finished = False
    for index, chunk in enumerate(chunks):
        if finished:
            raise DecryptionError("data follows the final encrypted message")
        try:
            plain, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, chunk, None)
        except CryptoError as err:
            raise AuthenticationError(
                f"encrypted block {index + 1} of {expected_messages} failed its "
                "authentication check: the data was altered or damaged",
                offset=index * V3_CHUNK_SIZE,
            ) from err
        is_last = index + 1 == expected_messages
        if tag == _TAG_FINAL and not is_last:
            raise DecryptionError(
                "the encrypted stream ends early (final tag too soon): the archive was cut"
            )
        if is_last and tag != _TAG_FINAL:
            raise DecryptionError(
                "the encrypted stream has no final tag: the archive was cut short"
            )
        finished = tag == _TAG_FINAL
        yield plain
    if not finished:
        raise DecryptionError(
            "the encrypted stream ends before its final message: the archive was cut short"
        )
