"""How a stored archive index turns paths into keys and rows into bytes: plainly or sealed.

An unencrypted backup's file names are no secret (anyone who can read the
data folder can read the backup too), so its index keeps paths and JSON rows
as they are. An encrypted backup's file names are private: its index keeps
only HMACs of the paths (equal paths still find each other, nothing reveals a
name) and AES-GCM ciphertexts of the rows, under keys derived from the backup
password. The password itself is never stored; a check value derived next to
the keys tells a wrong password from a right one without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import threading
from dataclasses import dataclass
from typing import Protocol

import nacl.pwhash
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PATH_KEY_BYTES = 16  # HMAC-SHA256 truncated: 2^-64 collision odds per pair, ample for 10^6 paths
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES  # 16
NONCE_BYTES = 12  # AES-GCM's standard nonce size
ROW_PADDING_BYTES = 32  # rows are padded so ciphertext lengths hint less at name lengths
HKDF_INFO = b"backup-inspector archive index v1"
CHECK_VALUE_AAD = b"check"


@dataclass(frozen=True)
class KdfLimits:
    """Argon2id cost: moderate, so a Raspberry Pi opens an index in well under a second."""

    opslimit: int = 3
    memlimit_bytes: int = 16 * 1024 * 1024


class WrongIndexPasswordError(Exception):
    """The password given is not the one the index was sealed with."""


class UnreadableRowError(Exception):
    """A stored row does not decrypt (damaged or tampered database)."""


def surrogate_safe_bytes(text: str) -> bytes:
    """UTF-8 bytes of a path; names read from tar may carry escaped raw bytes."""
    return text.encode("utf-8", "surrogateescape")


class RowCodec(Protocol):
    """Keys for paths and the byte form of rows, as one index mode defines them."""

    keys_are_paths: bool  # whether path_of gives a key's path back (rows then omit it)

    def path_of(self, path_key: bytes) -> str:
        """The path behind a key (only where keys_are_paths)."""

    def path_key(self, path: str) -> bytes:
        """The lookup key of a path (parent_key and path_key columns)."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """The stored form of a row or value; `context` binds it to where it is stored."""

    def open(self, stored: bytes, context: bytes) -> bytes:
        """The plaintext of a stored row or value (UnreadableRowError if it does not open)."""


class PlainRowCodec:
    """Unencrypted backups: paths are their own keys, rows are stored as they are."""

    keys_are_paths = True

    def path_of(self, path_key: bytes) -> str:
        """The key's bytes decoded: the key is the path."""
        return bytes(path_key).decode("utf-8", "surrogateescape")

    def path_key(self, path: str) -> bytes:
        """The path's UTF-8 bytes."""
        return surrogate_safe_bytes(path)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """The plaintext itself."""
        return plaintext

    def open(self, stored: bytes, context: bytes) -> bytes:
        """The stored bytes themselves."""
        return bytes(stored)


class SealedRowCodec:
    """Encrypted backups: HMAC path keys and AES-GCM rows under password-derived keys.

    One Argon2id run turns password and salt into a master key; HKDF splits
    it into the AES-GCM key, the HMAC key and the check value, so the three
    are independent. The salt is random for every saved index, so each
    database has its own keys and counter nonces never repeat under one key.
    """

    keys_are_paths = False

    def path_of(self, path_key: bytes) -> str:
        """Never possible: a key is an HMAC, and rows keep their path sealed."""
        raise TypeError("a sealed path key does not give its path back")

    def __init__(self, password: str, salt: bytes, limits: KdfLimits) -> None:
        master_key = nacl.pwhash.argon2id.kdf(
            32,
            password.encode("utf-8"),
            salt,
            opslimit=limits.opslimit,
            memlimit=limits.memlimit_bytes,
        )
        okm = HKDF(algorithm=hashes.SHA256(), length=96, salt=salt, info=HKDF_INFO).derive(
            master_key
        )
        self._aead = AESGCM(okm[:32])
        self._path_mac = hmac.new(okm[32:64], digestmod=hashlib.sha256)
        self.check_value = okm[64:]
        self._nonce_counter = itertools.count(1)
        self._nonce_lock = threading.Lock()

    @classmethod
    def for_existing(
        cls, password: str, salt: bytes, limits: KdfLimits, stored_check: bytes
    ) -> SealedRowCodec:
        """The codec of a saved index; WrongIndexPasswordError if the password differs."""
        codec = cls(password, salt, limits)
        if not hmac.compare_digest(codec.check_value, stored_check):
            raise WrongIndexPasswordError
        return codec

    def path_key(self, path: str) -> bytes:
        """HMAC-SHA256 of the path, truncated."""
        mac = self._path_mac.copy()
        mac.update(surrogate_safe_bytes(path))
        return mac.digest()[:PATH_KEY_BYTES]

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """nonce ‖ AES-GCM(padded plaintext), authenticated together with `context`.

        JSON ignores trailing spaces, so padding needs no length field.
        """
        padding = -len(plaintext) % ROW_PADDING_BYTES
        with self._nonce_lock:
            nonce = next(self._nonce_counter).to_bytes(NONCE_BYTES, "big")
        return nonce + self._aead.encrypt(nonce, plaintext + b" " * padding, context)

    def open(self, stored: bytes, context: bytes) -> bytes:
        """The padded plaintext of a sealed value."""
        stored = bytes(stored)
        try:
            return self._aead.decrypt(stored[:NONCE_BYTES], stored[NONCE_BYTES:], context)
        except (InvalidTag, ValueError) as error:
            raise UnreadableRowError from error


def new_salt() -> bytes:
    """A fresh random salt for a new sealed index."""
    return os.urandom(SALT_BYTES)
