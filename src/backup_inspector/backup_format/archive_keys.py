"""Key material for encrypted inner archives, derived through securetar.

The key schedules (SHA-256×100 for v1/v2, Argon2id + BLAKE2b for v3, and the
v3 validation key) come from the pinned `securetar` through its public
`SecureTarRootKeyContext.restore_key_material()`: that is the part of the
library that is right and that we must not re-invent.

Own code: the cache. securetar's context locks itself to the first version it
sees and, for v3, reuses the root key derived from the first header for every
later one (format-spec §2.5: "a defensive reader should key its cache on the
root salt"). One context per (version, root salt) avoids both traps, and a
backup whose archives mix versions or root salts still reads.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from nacl.exceptions import CryptoError
from securetar import InvalidPasswordError, SecureTarHeader, SecureTarRootKeyContext


class WrongPasswordError(Exception):
    """The password does not fit this archive (v3: validation key mismatch)."""


@dataclass(frozen=True)
class KeyMaterial:
    """What a decryptor needs: the key and the IV (v1/v2) or stream header (v3)."""

    key: bytes
    iv: bytes


class ArchiveKeyRing:
    """Derives and caches key material for one password across a backup's archives.

    Thread-safe: archives of one backup may be checked in parallel. Never
    stores the password anywhere but in memory, and never prints it.
    """

    def __init__(self, password: str) -> None:
        self._password = password
        self._contexts: dict[tuple[int, bytes], SecureTarRootKeyContext] = {}
        self._rejected_root_salts: set[bytes] = set()
        self._lock = threading.Lock()

    def key_material(self, version: int, header_bytes: bytes) -> KeyMaterial:
        """Key material for an archive of `version` whose header is `header_bytes`.

        `header_bytes` is the 16-byte salt for v1, the 48-byte header for v2,
        the 136-byte header for v3. Raises WrongPasswordError for a v3 header
        whose validation key does not match.
        """
        header = SecureTarHeader.from_bytes(io.BytesIO(header_bytes))
        root_salt = header_bytes[32:48] if version == 3 else b""
        with self._lock:
            if root_salt in self._rejected_root_salts and version == 3:
                raise WrongPasswordError("wrong password")
            context = self._contexts.get((version, root_salt))
            if context is None:
                context = SecureTarRootKeyContext(self._password)
                self._contexts[(version, root_salt)] = context
            try:
                material = context.restore_key_material(header)
            except InvalidPasswordError as err:
                del self._contexts[(version, root_salt)]
                self._rejected_root_salts.add(root_salt)
                raise WrongPasswordError("wrong password") from err
            except CryptoError as err:  # Argon2 refused its parameters
                del self._contexts[(version, root_salt)]
                raise WrongPasswordError(f"key derivation failed: {err}") from err
        return KeyMaterial(key=bytes(material.key), iv=bytes(material.iv))
