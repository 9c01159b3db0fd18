"""The CBC (v1/v2) and secretstream (v3) readers: exact lengths, padding, tags."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from nacl import bindings

from backup_inspector.backup_format.aes_cbc_stream import (
    DecryptionError,
    check_cbc_ciphertext_size,
    decrypt_cbc_stream,
)
from backup_inspector.backup_format.archive_keys import KeyMaterial
from backup_inspector.backup_format.secretstream_v3 import (
    PULL_BACKEND,
    PULL_IMPLEMENTATIONS,
    V3_CHUNK_SIZE,
    V3_CIPHERTEXT_CHUNK_SIZE,
    check_v3_ciphertext_size,
    decrypt_secretstream,
    expected_v3_ciphertext_size,
    hchacha20,
)

PULL_BACKENDS = sorted(PULL_IMPLEMENTATIONS)

KEY = KeyMaterial(key=bytes(range(16)), iv=bytes(range(16, 32)))


def cbc_encrypt(plain: bytes) -> bytes:
    pad = 16 - len(plain) % 16
    enc = Cipher(algorithms.AES(KEY.key), modes.CBC(KEY.iv)).encryptor()
    return enc.update(plain + bytes([pad]) * pad) + enc.finalize()


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def cbc_decrypt_all(cipher: bytes, plaintext_size: int | None) -> bytes:
    return b"".join(
        bytes(p)
        for p in decrypt_cbc_stream(chunks(cipher, 4096), KEY, plaintext_size=plaintext_size)
    )


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4095, 4096, 10240])
def test_v2_exact_plaintext_and_padding(size: int) -> None:
    """v2: exactly plaintext_size bytes come out and the PKCS#7 bytes are verified."""
    plain = os.urandom(size)
    cipher = cbc_encrypt(plain)
    check_cbc_ciphertext_size(len(cipher), size)
    assert cbc_decrypt_all(cipher, size) == plain


def test_v2_damaged_padding_is_reported() -> None:
    """v2: a changed last block shows up as wrong padding."""
    cipher = bytearray(cbc_encrypt(b"a" * 100))
    cipher[-1] ^= 1
    with pytest.raises(DecryptionError, match="padding"):
        cbc_decrypt_all(bytes(cipher), 100)


def test_v1_emits_everything_without_stripping() -> None:
    """v1: nothing is stripped; legacy uncompressed data ending in NUL keeps its tail."""
    plain = b"tar" + bytes(10237)
    enc = Cipher(algorithms.AES(KEY.key), modes.CBC(KEY.iv)).encryptor()
    cipher = enc.update(plain) + enc.finalize()  # legacy: no padding at all
    assert cbc_decrypt_all(cipher, None) == plain


@pytest.mark.parametrize(
    ("size", "plaintext_size", "match"),
    [(100, None, "whole number"), (96, 100, "shorter"), (144, 100, "longer")],
)
def test_cbc_size_rules(size: int, plaintext_size: int | None, match: str) -> None:
    """Ciphertext lengths that cannot be right are named."""
    with pytest.raises(DecryptionError, match=match):
        check_cbc_ciphertext_size(size, plaintext_size)


def v3_encrypt(plain: bytes, key: bytes) -> tuple[bytes, bytes]:
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    pieces = chunks(plain, V3_CHUNK_SIZE) or [b""]
    out = bytearray()
    for i, piece in enumerate(pieces):
        tag = (
            bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL if i == len(pieces) - 1 else 0
        )
        out += bindings.crypto_secretstream_xchacha20poly1305_push(state, piece, None, tag)
    return header, bytes(out)


@pytest.mark.parametrize("backend", PULL_BACKENDS)
@pytest.mark.parametrize("size", [0, 1, V3_CHUNK_SIZE, V3_CHUNK_SIZE + 1, 2 * V3_CHUNK_SIZE])
def test_v3_roundtrip_lengths(size: int, backend: str) -> None:
    """v3: every message authenticates, FINAL comes last, the length rule holds."""
    key = os.urandom(32)
    plain = os.urandom(size)
    header, cipher = v3_encrypt(plain, key)
    assert len(cipher) == expected_v3_ciphertext_size(size)
    check_v3_ciphertext_size(len(cipher), size)
    out = b"".join(
        decrypt_secretstream(
            chunks(cipher, V3_CIPHERTEXT_CHUNK_SIZE),
            KeyMaterial(key, header),
            plaintext_size=size,
            backend=backend,
        )
    )
    assert out == plain


@pytest.mark.parametrize("backend", PULL_BACKENDS)
def test_v3_flipped_byte_names_the_block(backend: str) -> None:
    """v3: a flipped byte fails authentication of its message, which is named."""
    key = os.urandom(32)
    header, cipher = v3_encrypt(os.urandom(V3_CHUNK_SIZE + 10), key)
    damaged = bytearray(cipher)
    damaged[V3_CIPHERTEXT_CHUNK_SIZE + 3] ^= 1
    with pytest.raises(DecryptionError, match="block 2 of 2"):
        list(
            decrypt_secretstream(
                chunks(bytes(damaged), V3_CIPHERTEXT_CHUNK_SIZE),
                KeyMaterial(key, header),
                plaintext_size=V3_CHUNK_SIZE + 10,
                backend=backend,
            )
        )


@pytest.mark.parametrize("backend", PULL_BACKENDS)
def test_v3_early_final_tag(backend: str) -> None:
    """v3: a stream whose FINAL tag comes too early (header claims more) is refused."""
    key = os.urandom(32)
    header, cipher = v3_encrypt(b"short", key)
    with pytest.raises(DecryptionError, match="too soon"):
        list(
            decrypt_secretstream(
                [cipher],
                KeyMaterial(key, header),
                plaintext_size=2 * V3_CHUNK_SIZE,
                backend=backend,
            )
        )


def test_v3_truncated_length_check() -> None:
    """v3: a stream shorter than its header says is cut short."""
    with pytest.raises(DecryptionError, match="cut short"):
        check_v3_ciphertext_size(expected_v3_ciphertext_size(5000) - 1, 5000)


def test_openssl_is_the_pull_backend_here() -> None:
    """The fast path is the one in use on a normal OpenSSL build (the fallback is for FIPS-only builds)."""
    assert PULL_BACKEND == "openssl"


def test_hchacha20_test_vector() -> None:
    """HChaCha20 matches the test vector of draft-irtf-cfrg-xchacha-03 §2.2.1."""
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    assert hchacha20(key, nonce).hex() == (
        "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    )


_SODIUM_TAGS = (
    bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    bindings.crypto_secretstream_xchacha20poly1305_TAG_PUSH,
    bindings.crypto_secretstream_xchacha20poly1305_TAG_REKEY,
)


@pytest.mark.parametrize("seed", range(8))
def test_openssl_pull_matches_libsodium_messages(seed: int) -> None:
    """Every message length (MAC padding) and every tag, REKEY included, as libsodium wrote them."""
    import random  # noqa: PLC0415 - only this test needs reproducible sizes

    rng = random.Random(seed)
    key = os.urandom(32)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    messages = [(os.urandom(rng.randrange(0, 200)), rng.choice(_SODIUM_TAGS)) for _ in range(40)]
    sealed = [
        bindings.crypto_secretstream_xchacha20poly1305_push(state, plain, None, tag)
        for plain, tag in messages
    ]
    puller = PULL_IMPLEMENTATIONS["openssl"](KeyMaterial(key, header))
    for (plain, tag), message in zip(messages, sealed, strict=True):
        assert puller.pull(message) == (plain, tag)


@pytest.mark.parametrize("backend", PULL_BACKENDS)
@pytest.mark.parametrize("where", ["tag byte", "ciphertext", "mac", "too short"])
def test_each_part_of_a_message_is_authenticated(backend: str, where: str) -> None:
    """A change to the tag byte, the ciphertext or the MAC, or a stub message, is rejected."""
    key = os.urandom(32)
    header, cipher = v3_encrypt(os.urandom(100), key)
    damaged = bytearray(cipher)
    if where == "too short":
        damaged = damaged[:16]
    else:
        damaged[{"tag byte": 0, "ciphertext": 50, "mac": -1}[where]] ^= 0x80
    with pytest.raises(DecryptionError, match="authentication"):
        list(
            decrypt_secretstream(
                [bytes(damaged)], KeyMaterial(key, header), plaintext_size=100, backend=backend
            )
        )
