"""AES-128-CBC as the legacy writers used it: SecureTar v1 and encrypted metadata.

The v1 key and IV derivation (format-spec §2.2), the legacy per-write()
padding writer, the fixed-padding encryption of securetar 2025.1.0-2025.1.2,
and the pre-2022 `protected` check digit and encrypted metadata values.
v2 and v3 are written by the pinned securetar itself, not here.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from typing import IO

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_BLOCK_SIZE = 16  # format-spec §2.2
AES_KDF_ROUNDS = 100  # format-spec §2.2: SHA-256 applied 100 times
TEMP_COPY_CHUNK_BYTES = 1024 * 1024


def derive_aes_key(password: str) -> bytes:
    """Derive the 16-byte AES key: SHA-256 x100 over the UTF-8 password, truncated."""
    digest = password.encode()
    for _ in range(AES_KDF_ROUNDS):
        digest = hashlib.sha256(digest).digest()
    return digest[:AES_BLOCK_SIZE]


def derive_aes_iv(key: bytes, salt: bytes) -> bytes:
    """Derive the 16-byte CBC IV: SHA-256 x100 over key || salt, truncated."""
    digest = key + salt
    for _ in range(AES_KDF_ROUNDS):
        digest = hashlib.sha256(digest).digest()
    return digest[:AES_BLOCK_SIZE]


class LegacyPaddingEncryptWriter:
    """File-like AES-128-CBC writer with the legacy per-write() padding bug.

    The Supervisor writer of 2018 (and securetar <= 2024.11.0) PKCS#7-padded
    every write() whose length was not a multiple of 16 and added nothing to
    aligned writes. Handed to `tarfile.open(mode="w|gz"|"w|")` as fileobj,
    this reproduces the on-disk result exactly: uncompressed streams get no
    padding at all, gzip streams get the split CRC/ISIZE trailer
    (format-spec §2.3). The 16-byte salt is written first, as the original
    did before opening the tar stream.
    """

    def __init__(self, destination: IO[bytes], password: str, salt: bytes | None = None) -> None:
        """Write the salt to `destination` and prepare the CBC encryptor."""
        self._destination = destination
        key = derive_aes_key(password)
        salt = salt if salt is not None else os.urandom(AES_BLOCK_SIZE)
        self._encryptor = Cipher(
            algorithms.AES(key), modes.CBC(derive_aes_iv(key, salt))
        ).encryptor()
        destination.write(salt)

    def write(self, data: bytes) -> int:
        """Encrypt one write, padding it alone if it is not 16-byte aligned."""
        remainder = len(data) % AES_BLOCK_SIZE
        if remainder:
            pad_length = AES_BLOCK_SIZE - remainder
            data = bytes(data) + bytes([pad_length]) * pad_length
        self._destination.write(self._encryptor.update(data))
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered here; present because file objects have it."""


def encrypt_v1_fixed(plaintext: IO[bytes], destination: IO[bytes], password: str) -> None:
    """Encrypt like securetar 2025.1.0-2025.1.2: no header, one PKCS#7 pad at the end."""
    key = derive_aes_key(password)
    salt = os.urandom(AES_BLOCK_SIZE)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(derive_aes_iv(key, salt))).encryptor()
    padder = padding.PKCS7(AES_BLOCK_SIZE * 8).padder()
    destination.write(salt)
    while chunk := plaintext.read(TEMP_COPY_CHUNK_BYTES):
        destination.write(encryptor.update(padder.update(chunk)))
    destination.write(encryptor.update(padder.finalize()) + encryptor.finalize())


def legacy_protected_digit(password: str) -> str:
    """Return the pre-2022.02 `protected` check digit for a password (format-spec §2.7).

    Supervisor stored one digit derived from the password and refused a
    password whose digit differed: SHA-256 as hex string x100, sum of all
    decimal-digit runs of the final hex string, first character of the sum.
    """
    text = password
    for _ in range(AES_KDF_ROUNDS):
        text = hashlib.sha256(text.encode()).hexdigest()
    digit_runs = re.findall(r"\d+", text)
    if not digit_runs:
        return "0"
    return str(sum(int(run) for run in digit_runs))[0]


def encrypt_legacy_metadata_value(password: str, value: str) -> str:
    """Encrypt a metadata field the way v1/v2-era Supervisor did (format-spec §3.3).

    Used for `homeassistant.refresh_token` and registry passwords in
    protected backups: AES-128-CBC with the §2.2 key, IV = SHA-256 x100 of
    the key alone (no salt), PKCS#7, base64.
    """
    key = derive_aes_key(password)
    iv_digest = key
    for _ in range(AES_KDF_ROUNDS):
        iv_digest = hashlib.sha256(iv_digest).digest()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv_digest[:AES_BLOCK_SIZE])).encryptor()
    padder = padding.PKCS7(AES_BLOCK_SIZE * 8).padder()
    padded = padder.update(value.encode()) + padder.finalize()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
