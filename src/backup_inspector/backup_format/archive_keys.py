"""Key material for encrypted inner archives, derived through securetar.

The key schedules (SHA-256×100 for v1/v2, Argon2id + BLAKE2b for v3, and the
v3 validation key) come from the pinned `securetar` through its public
`SecureTarRootKeyContext.restore_key_material()`: that is the part of the
library that is right and that we must not re-invent.

Own code: the cache. securetar's context locks itself to the first version it
sees and, for v3, reuses the root key derived from the first header for every
later one (format-spec §2.5: "a defensive reader should key its cache on the
root salt"). One context per (version, root salt) avoids both traps, and a
backup whose archives mix versions or root salts still reads — up to a
bound: each new v3 root salt costs one Argon2id run (about 30 ms on a
desktop, far more on a Raspberry Pi), and a crafted backup of 300 archives
with 300 salts made a quick check take 10 s. See MAX_V3_ROOT_SALTS.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from nacl.exceptions import CryptoError
from securetar import InvalidPasswordError, SecureTarHeader, SecureTarRootKeyContext

# Distinct v3 root salts (so Argon2id derivations) one key ring derives keys
# for. Home Assistant writes one per backup (format-spec §2.5); a few more
# leave room for backups assembled by hand from several, and keep the cost
# of a hostile backup to a few derivations.
MAX_V3_ROOT_SALTS = 4


class WrongPasswordError(Exception):
    """The password does not fit this archive (v3: validation key mismatch)."""


class TooManyRootSaltsError(Exception):
    """A v3 archive brings yet another root salt after MAX_V3_ROOT_SALTS.

    Callers report it as a damaged archive (archive-corrupt), not as
    unsupported encryption: the format is one we read, but Home Assistant
    never writes archives with different salts into one backup, and its own
    restore would fail on this one (securetar reuses the root key of the
    first salt it sees, so the validation key cannot match). "Unsupported"
    would wrongly suggest that a newer Backup Inspector could read it.
    """


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
        self._v3_root_salts_derived = 0
        self._lock = threading.Lock()

    def key_material(self, version: int, header_bytes: bytes) -> KeyMaterial:
        """Key material for an archive of `version` whose header is `header_bytes`.

        `header_bytes` is the 16-byte salt for v1, the 48-byte header for v2,
        the 136-byte header for v3. Raises WrongPasswordError for a v3 header
        whose validation key does not match, and TooManyRootSaltsError for a
        v3 header whose root salt would be the (MAX_V3_ROOT_SALTS + 1)th.
        """
        header = SecureTarHeader.from_bytes(io.BytesIO(header_bytes))
        root_salt = header_bytes[32:48] if version == 3 else b""
        with self._lock:
            if root_salt in self._rejected_root_salts and version == 3:
                raise WrongPasswordError("wrong password")
            context = self._contexts.get((version, root_salt))
            if context is None:
                if version == 3:
                    self._count_v3_root_salt()
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

    def _count_v3_root_salt(self) -> None:
        """Allow one more Argon2id derivation, or raise TooManyRootSaltsError."""
        if self._v3_root_salts_derived >= MAX_V3_ROOT_SALTS:
            raise TooManyRootSaltsError(
                f"this archive uses a different key salt than the rest of the backup, and "
                f"Home Assistant never writes that (the backup already used "
                f"{MAX_V3_ROOT_SALTS} different salts, so it was not decrypted)"
            )
        self._v3_root_salts_derived += 1
