"""A v1 decryptor written from format-spec §2.2 with only hashlib and cryptography.

Tests compare the engine against it, so it must not share the engine's code.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def decrypt_v1_by_hand(ciphertext: bytes, password: str) -> bytes:
    """Salt ‖ AES-128-CBC with SHA-256×100 key and IV; padding left in place."""
    key = password.encode()
    for _ in range(100):
        key = hashlib.sha256(key).digest()
    key = key[:16]
    iv = key + ciphertext[:16]
    for _ in range(100):
        iv = hashlib.sha256(iv).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv[:16])).decryptor()
    return decryptor.update(ciphertext[16:]) + decryptor.finalize()
