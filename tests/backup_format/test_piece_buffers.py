"""The buffer ring behind a walk's pieces, and decryption into it."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from nacl import bindings

from backup_inspector.backup_format.aes_cbc_stream import decrypt_cbc_stream
from backup_inspector.backup_format.archive_keys import KeyMaterial
from backup_inspector.backup_format.piece_buffers import BufferRing, ring_for_consumer
from backup_inspector.backup_format.secretstream_v3 import (
    PULL_IMPLEMENTATIONS,
    V3_CHUNK_SIZE,
    V3_CIPHERTEXT_CHUNK_SIZE,
    decrypt_secretstream,
)


def test_ring_hands_out_its_buffers_in_turn() -> None:
    """Buffer k is handed out again only after `count` takes, and never shared before."""
    ring = BufferRing(3, 16)
    first = [ring.take() for _ in range(3)]
    assert len({id(v.obj) for v in first}) == 3
    assert ring.take().obj is first[0].obj
    assert all(len(v) == 16 for v in first)


def test_buffers_are_allocated_when_first_needed() -> None:
    """A ring only allocates the buffers it hands out (small archives use few)."""
    ring = BufferRing(5, 1024)
    ring.take()
    ring.take()
    assert sum(view is not None for view in ring._views) == 2


def test_ring_for_consumer_leaves_room_for_the_producer() -> None:
    """The consumer's pieces, the one being filled and a spare."""
    assert ring_for_consumer(5, 8).count == 7
    assert ring_for_consumer(0, 8).count == 3


def test_a_ring_needs_a_buffer() -> None:
    """A ring of no buffers is refused."""
    with pytest.raises(ValueError, match="at least one"):
        BufferRing(0, 8)


def _v3_stream(plain: bytes) -> tuple[bytes, bytes, list[bytes]]:
    key = os.urandom(32)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    pieces = [plain[i : i + V3_CHUNK_SIZE] for i in range(0, len(plain), V3_CHUNK_SIZE)]
    sealed = [
        bindings.crypto_secretstream_xchacha20poly1305_push(
            state,
            piece,
            None,
            bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL if i == len(pieces) - 1 else 0,
        )
        for i, piece in enumerate(pieces)
    ]
    assert all(len(s) == V3_CIPHERTEXT_CHUNK_SIZE for s in sealed[:-1])
    return key, header, sealed


@pytest.mark.parametrize("backend", sorted(PULL_IMPLEMENTATIONS))
def test_v3_decrypts_into_ring_buffers(backend: str) -> None:
    """Plaintext written into reused buffers is the same as fresh plaintext, piece by piece."""
    plain = os.urandom(3 * V3_CHUNK_SIZE + 1234)
    key, header, sealed = _v3_stream(plain)
    ring = BufferRing(2, V3_CHUNK_SIZE + 64)
    out = bytearray()
    for piece in decrypt_secretstream(
        sealed, KeyMaterial(key, header), plaintext_size=len(plain), backend=backend, out=ring
    ):
        assert isinstance(piece, memoryview)
        out += piece  # used before the next piece is asked for, as the contract says
    assert out == plain


@pytest.mark.parametrize("plaintext_size", [None, 5000])
def test_cbc_decrypts_into_ring_buffers(plaintext_size: int | None) -> None:
    """v1 and v2 plaintext written into reused buffers matches, padding verified for v2."""
    material = KeyMaterial(key=os.urandom(16), iv=os.urandom(16))
    plain = os.urandom(5000)
    pad = 16 - len(plain) % 16
    encryptor = Cipher(algorithms.AES(material.key), modes.CBC(material.iv)).encryptor()
    cipher = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
    chunks = [cipher[i : i + 1024] for i in range(0, len(cipher), 1024)]
    out = bytearray()
    for piece in decrypt_cbc_stream(
        chunks, material, plaintext_size=plaintext_size, out=BufferRing(2, 1024 + 64)
    ):
        out += piece
    expected = plain if plaintext_size is not None else plain + bytes([pad]) * pad
    assert out == expected
