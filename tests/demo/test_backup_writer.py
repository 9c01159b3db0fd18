"""Tests for the synthetic backup writer, checked with independent readers.

The writer is never used to check itself: outer tars and plain inner
archives are read with the stdlib (tarfile, gzip, zlib), SecureTar v2/v3
with securetar's own public reader, and v1 by decrypting with the
cryptography library right here, following format-spec §2.2/§2.3.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import struct
import tarfile
import tracemalloc
import zlib
from pathlib import Path
from typing import IO

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from securetar import SecureTarArchive

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    LegacyPaddingEncryptWriter,
    WrittenBackup,
    append_bytes,
    era_presets,
    find_crc_breaking_offset,
    flip_byte,
    make_metadata,
    member_location,
    patterned_content,
    random_content,
    truncate_file,
    write_backup,
)
from backup_inspector.demo.demo_backups import DEMO_PASSWORD, create_demo_folder

PASSWORD = "correct horse battery staple"
RECORDSIZE = 10240
GZIP_MAGIC = b"\x1f\x8b\x08"

SAMPLE_FILES: dict[str, bytes] = {
    "configuration.yaml": b"default_config:\n",
    "sub/dir/notes.txt": b"hello\n" * 300,
    "photo.jpg": random_content("photo")(0, 20_000),
}


# --------------------------------------------------------------------------
# Independent readers (written from format-spec, not from the writer)
# --------------------------------------------------------------------------


def sha256_rounds(data: bytes) -> bytes:
    """SHA-256 applied 100 times, each round over the previous digest (spec §2.2)."""
    for _ in range(100):
        data = hashlib.sha256(data).digest()
    return data


def decrypt_v1_member(member_bytes: bytes, password: str) -> bytes:
    """Decrypt a header-less v1 member (salt ‖ AES-128-CBC) without unpadding."""
    key = sha256_rounds(password.encode())[:16]
    salt, ciphertext = member_bytes[:16], member_bytes[16:]
    iv = sha256_rounds(key + salt)[:16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def outer_member_bytes(path: Path, member_name: str) -> bytes:
    """Read one outer member's data with stdlib tarfile."""
    with tarfile.open(path, "r:") as outer:
        handle = outer.extractfile(member_name)
        assert handle is not None
        return handle.read()


def outer_names(path: Path) -> list[str]:
    """Outer member names in file order."""
    with tarfile.open(path, "r:") as outer:
        return outer.getnames()


def inner_tar_contents(tar_bytes: bytes) -> dict[str, bytes | str]:
    """Map inner member name -> file data (files) or type marker (others)."""
    contents: dict[str, bytes | str] = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as inner:
        for member in inner.getmembers():
            if member.isfile():
                handle = inner.extractfile(member)
                assert handle is not None
                contents[member.name] = handle.read()
            else:
                contents[member.name] = f"type:{member.type.decode()}"
    return contents


def gzip_header_length(data: bytes) -> int:
    """Header length of a gzip member honouring FLG.FNAME (the only flag our writers set)."""
    assert data[:3] == GZIP_MAGIC
    if data[3] & 0x08:
        return data.index(b"\0", 10) + 1
    return 10


def securetar_plaintext(path: Path, member_name: str, password: str) -> bytes:
    """Decrypt a v2/v3 member with securetar's public reader."""
    with SecureTarArchive(path, "r", password=password) as archive:
        member = archive.tar.getmember(member_name)
        with archive.extract_tar(member) as stream:
            chunks = []
            while chunk := stream.read(1024 * 1024):
                chunks.append(chunk)
    return b"".join(chunks)


def securetar_validates(path: Path, member_name: str, password: str) -> bool:
    """securetar's full validation of one encrypted member."""
    with SecureTarArchive(path, "r", password=password) as archive:
        return archive.validate(archive.tar.getmember(member_name))


def expected_slug(name: str, date: str) -> str:
    """Slug formula of format-spec §3.6."""
    return hashlib.sha1(f"{date} - {name}".lower().encode(), usedforsecurity=False).hexdigest()[:8]


def expected_protected_digit(password: str) -> str:
    """Pre-2022 check digit of format-spec §2.7."""
    text = password
    for _ in range(100):
        text = hashlib.sha256(text.encode()).hexdigest()
    runs = re.findall(r"[0-9]+", text)
    return str(sum(map(int, runs)))[0] if runs else "0"


def split_legacy_gzip(plaintext: bytes) -> tuple[bytes, bytes]:
    """Inflate a decrypted legacy gzip stream; return (inner tar, undecoded remainder R)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inner_tar = inflater.decompress(plaintext[gzip_header_length(plaintext) :])
    assert inflater.eof
    return inner_tar, inflater.unused_data


# --------------------------------------------------------------------------
# Outer tar
# --------------------------------------------------------------------------


def test_plain_backup_reads_with_stdlib(tmp_path: Path) -> None:
    """An unencrypted backup's outer tar and gzip inner archive read back with the stdlib."""
    path = write_backup(tmp_path / "b.tar", [ArchiveSpec("share", SAMPLE_FILES)])
    assert outer_names(path) == ["share.tar.gz", "./backup.json"]
    inner_tar = gzip.decompress(outer_member_bytes(path, "share.tar.gz"))  # trailer is valid
    contents = inner_tar_contents(inner_tar)
    assert list(contents)[:4] == [".", "configuration.yaml", "sub", "sub/dir"]
    for name, data in SAMPLE_FILES.items():
        assert contents[name] == data
    assert path.stat().st_size % RECORDSIZE == 0


def test_plain_gzip_header_carries_file_name_and_mtime(tmp_path: Path) -> None:
    """File-style plain gzip has FNAME "<name>.tar" and the requested MTIME, like `w:gz`."""
    archive = ArchiveSpec("share", SAMPLE_FILES, gzip_mtime=1_700_000_000)
    path = write_backup(tmp_path / "b.tar", [archive])
    data = outer_member_bytes(path, "share.tar.gz")
    assert data[3] == 0x08
    assert struct.unpack("<I", data[4:8])[0] == 1_700_000_000
    assert data[10 : gzip_header_length(data)] == b"share.tar\0"


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("first", ["./backup.json", "ssl.tar.gz", "share.tar.gz"]),
        ("last", ["ssl.tar.gz", "share.tar.gz", "./backup.json"]),
        ("sorted", ["./backup.json", "share.tar.gz", "ssl.tar.gz"]),
    ],
)
def test_metadata_position(tmp_path: Path, position: str, expected: list[str]) -> None:
    """The metadata member goes first, last or in name order as asked."""
    archives = [ArchiveSpec("ssl", {"a": b"1"}), ArchiveSpec("share", {"b": b"2"})]
    path = write_backup(tmp_path / "b.tar", archives, metadata_position=position)  # type: ignore[arg-type]
    assert outer_names(path) == expected


def test_sorted_order_matches_temp_dir_writers(tmp_path: Path) -> None:
    """ "sorted" with "./" names puts snapshot.json between archives, as tar.add(tmpdir) did."""
    archives = [
        ArchiveSpec("ssl", {"a": b"1"}),
        ArchiveSpec("core_ssh", {"b": b"2"}),
        ArchiveSpec("share", {}),
    ]
    path = write_backup(
        tmp_path / "b.tar",
        archives,
        metadata_name="./snapshot.json",
        metadata_position="sorted",
        outer_dot_entry=True,
        inner_dot_slash=True,
    )
    assert outer_names(path) == [
        ".",
        "./core_ssh.tar.gz",
        "./share.tar.gz",
        "./snapshot.json",
        "./ssl.tar.gz",
    ]


def test_outer_gnu_format_bytes(tmp_path: Path) -> None:
    """A GNU outer tar has the GNU magic and no PAX headers, and long names use ././@LongLink."""
    long_name = "./" + "x" * 120 + ".tar.gz"
    path = write_backup(
        tmp_path / "b.tar",
        [ArchiveSpec("share", {"a": b"1"}, member_name=long_name)],
        outer_format="gnu",
        outer_dot_entry=True,
    )
    raw = path.read_bytes()
    assert raw[257:265] == b"ustar  \0"
    assert b"././@PaxHeader" not in raw[:4096]
    assert b"././@LongLink" in raw
    assert outer_names(path) == [".", long_name, "./backup.json"]


def test_outer_pax_format_bytes(tmp_path: Path) -> None:
    """A PAX outer tar uses POSIX magic and a PAX header (float mtime) before inner archives."""
    path = write_backup(tmp_path / "b.tar", [ArchiveSpec("share", {"a": b"1"})])
    raw = path.read_bytes()
    assert raw[257:265] == b"ustar\x0000"
    assert raw[156:157] == b"x"  # first header is the PAX extended header of share.tar.gz
    with tarfile.open(path, "r:") as outer:
        assert "mtime" in outer.getmember("share.tar.gz").pax_headers


def test_dot_slash_naming_and_root_entries(tmp_path: Path) -> None:
    """inner_dot_slash/outer_dot_entry name outer members; entry_dot_slash names inner entries."""
    archive = ArchiveSpec("share", {"a.txt": b"1", "d/b.txt": b"2"}, entry_dot_slash=True)
    path = write_backup(tmp_path / "b.tar", [archive], outer_dot_entry=True, inner_dot_slash=True)
    assert outer_names(path) == [".", "./share.tar.gz", "./backup.json"]
    contents = inner_tar_contents(gzip.decompress(outer_member_bytes(path, "./share.tar.gz")))
    assert list(contents) == [".", "./a.txt", "./d", "./d/b.txt"]


def test_no_root_entry_when_disabled(tmp_path: Path) -> None:
    """include_root_entry=False leaves out the "." entry of the inner archive."""
    path = write_backup(
        tmp_path / "b.tar",
        [ArchiveSpec("supervisor", {"mounts.json": b"{}"}, include_root_entry=False)],
    )
    assert list(
        inner_tar_contents(gzip.decompress(outer_member_bytes(path, "supervisor.tar.gz")))
    ) == ["mounts.json"]


def test_trailing_nul_bytes(tmp_path: Path) -> None:
    """Trailing NUL bytes follow the tar end and do not hide any member."""
    plain = write_backup(tmp_path / "plain.tar", [ArchiveSpec("share", {"a": b"1"})])
    padded = write_backup(
        tmp_path / "padded.tar", [ArchiveSpec("share", {"a": b"1"})], trailing_nul_bytes=34_816
    )
    assert padded.stat().st_size == plain.stat().st_size + 34_816
    assert padded.read_bytes()[-34_816:] == b"\0" * 34_816
    assert outer_names(padded) == ["share.tar.gz", "./backup.json"]


@pytest.mark.parametrize("inner_format", ["pax", "gnu"])
def test_hostile_names_and_special_types_roundtrip(tmp_path: Path, inner_format: str) -> None:
    """Traversal, absolute, long and non-ASCII names and every entry type are stored verbatim."""
    long_name = "deep/" + "n" * 140 + ".txt"
    entries = [
        FileSpec("../evil", content=b"escape"),
        FileSpec("/abs/path", content=b"absolute"),
        FileSpec(long_name, content=b"long"),
        FileSpec("Küche/Wärme €.txt", content="ünïcödé".encode()),
        FileSpec("empty", type="dir"),
        FileSpec("link-abs", type="symlink", link_target="/etc/passwd"),
        FileSpec("link-long", type="symlink", link_target="t" * 150),
        FileSpec("hard", type="hardlink", link_target="../evil"),
        FileSpec("pipe", type="fifo"),
        FileSpec("null", type="chardev", device_major=1, device_minor=3),
        FileSpec(
            "exec.sh",
            content=b"#!/bin/sh\n",
            mode=0o4755,
            uid=1000,
            gid=1000,
            uname="abc",
            gname="abc",
        ),
    ]
    path = write_backup(
        tmp_path / "b.tar",
        [ArchiveSpec("share", entries, compressed=False, inner_format=inner_format)],  # type: ignore[arg-type]
    )
    with tarfile.open(
        fileobj=io.BytesIO(outer_member_bytes(path, "share.tar")), mode="r:"
    ) as inner:
        members = {member.name: member for member in inner.getmembers()}
        assert list(members) == [".", *(entry.path for entry in entries)]
        assert inner.extractfile("../evil").read() == b"escape"  # type: ignore[union-attr]
        assert inner.extractfile("Küche/Wärme €.txt").read() == "ünïcödé".encode()  # type: ignore[union-attr]
    assert members["link-abs"].issym() and members["link-abs"].linkname == "/etc/passwd"
    assert members["link-long"].linkname == "t" * 150
    assert members["hard"].islnk() and members["hard"].linkname == "../evil"
    assert members["pipe"].isfifo()
    assert members["null"].ischr() and (members["null"].devmajor, members["null"].devminor) == (
        1,
        3,
    )
    assert members["empty"].isdir()
    assert members["exec.sh"].mode == 0o4755 and members["exec.sh"].uid == 1000


def test_metadata_none_and_raw_bytes(tmp_path: Path) -> None:
    """metadata=None omits the member; raw bytes are stored verbatim under the chosen name."""
    without = write_backup(tmp_path / "none.tar", [ArchiveSpec("ssl", {"a": b"1"})], metadata=None)
    assert outer_names(without) == ["ssl.tar.gz"]
    broken = write_backup(
        tmp_path / "raw.tar",
        [ArchiveSpec("ssl", {"a": b"1"})],
        metadata=b"{not json",
        metadata_name="backup.json",
    )
    assert outer_member_bytes(broken, "backup.json") == b"{not json"


def test_encrypted_archive_without_password_is_refused(tmp_path: Path) -> None:
    """Asking for encryption without a password fails instead of writing a plain archive."""
    with pytest.raises(ValueError, match="no password"):
        write_backup(tmp_path / "b.tar", [ArchiveSpec("ssl", {"a": b"1"}, encryption="v2")])


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def test_auto_metadata_current_schema(tmp_path: Path) -> None:
    """Auto metadata lists HA, add-ons and folders (addons_local → addons/local), not supervisor."""
    archives = [
        ArchiveSpec("homeassistant", {"data/configuration.yaml": b"x"}, encryption="v3"),
        ArchiveSpec("core_mosquitto", {"./addon.json": b"{}"}, encryption="v3"),
        ArchiveSpec("share", {"a": b"1"}, encryption="v3"),
        ArchiveSpec("addons_local", {"b": b"2"}, encryption="v3"),
        ArchiveSpec("supervisor", {"mounts.json": b"{}"}, encryption="v3"),
    ]
    path = write_backup(tmp_path / "b.tar", archives, password=PASSWORD)
    metadata = json.loads(outer_member_bytes(path, "./backup.json"))
    assert metadata["version"] == 2
    assert metadata["type"] == "full"
    assert metadata["protected"] is True and metadata["compressed"] is True
    assert metadata["folders"] == ["share", "addons/local"]
    assert [addon["slug"] for addon in metadata["addons"]] == ["core_mosquitto"]
    assert metadata["homeassistant"]["version"]
    assert "crypto" not in metadata and "docker" not in metadata
    assert metadata["slug"] == expected_slug(metadata["name"], metadata["date"])
    assert "supervisor.tar.gz" in outer_names(path)


def test_auto_metadata_unprotected_uncompressed(tmp_path: Path) -> None:
    """Plain .tar archives give protected false and compressed false."""
    path = write_backup(tmp_path / "b.tar", [ArchiveSpec("ssl", {"a": b"1"}, compressed=False)])
    metadata = json.loads(outer_member_bytes(path, "./backup.json"))
    assert (metadata["protected"], metadata["compressed"], metadata["type"]) == (
        False,
        False,
        "partial",
    )
    assert outer_names(path)[0] == "ssl.tar"


def test_make_metadata_legacy_supervisor() -> None:
    """Format-v1 metadata has the check digit, crypto aes128, and homeassistant as a folder."""
    archives = [
        ArchiveSpec("homeassistant", {}, encryption="v1-legacy"),
        ArchiveSpec("ssl", {}, encryption="v1-legacy"),
    ]
    metadata = make_metadata(
        archives,
        password=PASSWORD,
        supervisor_version="192",
        homeassistant_version="0.99.3",
        name="Weekly",
        date="2019-09-14T02:00:03.512233+00:00",
    )
    assert metadata["protected"] == expected_protected_digit(PASSWORD)
    assert isinstance(metadata["protected"], str) and len(metadata["protected"]) == 1
    assert metadata["crypto"] == "aes128"
    assert metadata["folders"] == ["homeassistant", "ssl"]
    assert "version" not in metadata and "compressed" not in metadata
    assert metadata["homeassistant"]["version"] == "0.99.3"
    # The refresh token is encrypted with IV = SHA-256x100(key) (format-spec §3.3).
    key = sha256_rounds(PASSWORD.encode())[:16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(sha256_rounds(key)[:16])).decryptor()
    padded = (
        decryptor.update(base64.b64decode(metadata["homeassistant"]["refresh_token"]))
        + decryptor.finalize()
    )
    assert re.fullmatch(rb"[0-9a-f]{128}", padded[: -padded[-1]])


def test_make_metadata_supervisor_2022_fields() -> None:
    """Supervisor 2022.05 metadata: version 2, bool protected, crypto, docker, no extra."""
    metadata = make_metadata(
        [ArchiveSpec("homeassistant", {}, compressed=False)], supervisor_version="2022.05.3"
    )
    assert metadata["version"] == 2 and metadata["protected"] is False
    assert metadata["crypto"] is None and metadata["docker"] == {"registries": {}}
    assert metadata["compressed"] is False
    assert "supervisor_version" not in metadata and "extra" not in metadata
    assert set(metadata["homeassistant"]) == {"version", "size"}


def test_make_metadata_core_eras() -> None:
    """Core 2023 metadata lacks version/protected; Core 2025.1+ has version 2 and protected."""
    old = make_metadata(
        [ArchiveSpec("homeassistant", {})], producer="core", homeassistant_version="2023.5.4"
    )
    assert old["name"] == "Core 2023.5.4" and old["folders"] == ["homeassistant"]
    assert "version" not in old and "protected" not in old
    new = make_metadata(
        [ArchiveSpec("homeassistant", {}, encryption="v1-legacy")],
        producer="core",
        homeassistant_version="2025.1.4",
    )
    assert new["version"] == 2 and new["protected"] is True and new["type"] == "partial"
    assert new["homeassistant"] == {"exclude_database": False, "version": "2025.1.4"}


# --------------------------------------------------------------------------
# SecureTar v2 / v3 (securetar's public reader)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("encryption", ["v2", "v3"])
@pytest.mark.parametrize("compressed", [True, False])
def test_securetar_v2_v3_decrypt_with_securetar(
    tmp_path: Path, encryption: str, compressed: bool
) -> None:
    """securetar's reader decrypts and validates v2/v3 archives and rejects a wrong password."""
    archive = ArchiveSpec("share", SAMPLE_FILES, encryption=encryption, compressed=compressed)  # type: ignore[arg-type]
    path = write_backup(tmp_path / "b.tar", [archive], password=PASSWORD)
    member_name = archive.outer_member_name(dot_slash=False)
    raw = outer_member_bytes(path, member_name)
    assert raw[:9] == b"SecureTar" and raw[9] == int(encryption[1]) and raw[10:16] == b"\0" * 6
    plaintext = securetar_plaintext(path, member_name, PASSWORD)
    assert struct.unpack(">Q", raw[16:24])[0] == len(plaintext)
    inner_tar = gzip.decompress(plaintext) if compressed else plaintext
    assert inner_tar_contents(inner_tar)["photo.jpg"] == SAMPLE_FILES["photo.jpg"]
    assert securetar_validates(path, member_name, PASSWORD)
    assert not securetar_validates(path, member_name, "wrong password")


def test_v2_sizes_follow_spec(tmp_path: Path) -> None:
    """v2 member size is 48 + (plaintext div 16 + 1) x 16 and every archive has its own salt."""
    archives = [
        ArchiveSpec("share", SAMPLE_FILES, encryption="v2"),
        ArchiveSpec("ssl", {"a": b"1"}, encryption="v2"),
    ]
    path = write_backup(tmp_path / "b.tar", archives, password=PASSWORD)
    salts = set()
    for name in ("share.tar.gz", "ssl.tar.gz"):
        raw = outer_member_bytes(path, name)
        plaintext_size = struct.unpack(">Q", raw[16:24])[0]
        assert len(raw) == 48 + (plaintext_size // 16 + 1) * 16
        assert raw[24:32] == b"\0" * 8
        salts.add(raw[32:48])
    assert len(salts) == 2


def test_v3_archives_share_root_salt(tmp_path: Path) -> None:
    """All v3 archives of a backup share root salt and validation key but not derivation salt."""
    archives = [
        ArchiveSpec(name, {"f": name.encode()}, encryption="v3")
        for name in ("homeassistant", "share", "ssl")
    ]
    path = write_backup(tmp_path / "b.tar", archives, password=PASSWORD)
    headers = [
        outer_member_bytes(path, f"{name}.tar.gz")[:136]
        for name in ("homeassistant", "share", "ssl")
    ]
    assert (
        len({header[32:96] for header in headers}) == 1
    )  # root salt, validation salt, validation key
    assert len({header[96:112] for header in headers}) == 3  # derivation salts
    for header, name in zip(headers, ("homeassistant", "share", "ssl"), strict=True):
        plaintext_size = struct.unpack(">Q", header[16:24])[0]
        assert len(outer_member_bytes(path, f"{name}.tar.gz")) == 136 + plaintext_size + 17


def test_per_archive_password_override(tmp_path: Path) -> None:
    """ArchiveSpec.password encrypts one archive with a different password."""
    archives = [
        ArchiveSpec("share", {"a": b"1"}, encryption="v2"),
        ArchiveSpec("ssl", {"b": b"2"}, encryption="v2", password="other"),
    ]
    path = write_backup(tmp_path / "b.tar", archives, password=PASSWORD)
    assert securetar_validates(path, "share.tar.gz", PASSWORD)
    assert securetar_validates(path, "ssl.tar.gz", "other")
    assert not securetar_validates(path, "ssl.tar.gz", PASSWORD)


# --------------------------------------------------------------------------
# SecureTar v1 (decrypted by hand)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bufsize", [10240, 4 * 1024 * 1024])
@pytest.mark.parametrize("seed", ["a", "b", "c"])
def test_v1_legacy_gzip_split_trailer(tmp_path: Path, bufsize: int, seed: str) -> None:
    """Legacy v1 gzip ends pad | CRC32 | 0x0C x12 | ISIZE | 0x0C x12, matching the inner tar."""
    files = {
        "data.bin": random_content(seed)(0, 30_000 + ord(seed)),
        "note.txt": seed.encode() * 99,
    }
    path = write_backup(
        tmp_path / "b.tar",
        [ArchiveSpec("share", files, encryption="v1-legacy")],
        password=PASSWORD,
        legacy_bufsize=bufsize,
    )
    plaintext = decrypt_v1_member(outer_member_bytes(path, "share.tar.gz"), PASSWORD)
    assert (
        plaintext[:4] == b"\x1f\x8b\x08\x08" and plaintext[8:11] == b"\x02\xff\x00"
    )  # FNAME, empty
    inner_tar, remainder = split_legacy_gzip(plaintext)
    pad_length = len(remainder) - 32
    assert 0 <= pad_length <= 15
    assert remainder[:pad_length] == bytes([pad_length]) * pad_length
    assert remainder[-12:] == b"\x0c" * 12 and remainder[-28:-16] == b"\x0c" * 12
    assert struct.unpack("<I", remainder[-32:-28])[0] == zlib.crc32(inner_tar)
    assert struct.unpack("<I", remainder[-16:-12])[0] == len(inner_tar)
    assert inner_tar_contents(inner_tar)["data.bin"] == files["data.bin"]
    with pytest.raises((gzip.BadGzipFile, OSError)):
        gzip.decompress(plaintext)


@pytest.mark.parametrize("bufsize", [10240, 4 * 1024 * 1024])
def test_v1_legacy_uncompressed_has_no_padding(tmp_path: Path, bufsize: int) -> None:
    """Legacy v1 plain tar: ciphertext length equals the inner tar length, a multiple of 10240."""
    files = {"data.bin": random_content("x")(0, 25_000)}
    path = write_backup(
        tmp_path / "b.tar",
        [ArchiveSpec("share", files, compressed=False, encryption="v1-legacy")],
        password=PASSWORD,
        legacy_bufsize=bufsize,
    )
    member = outer_member_bytes(path, "share.tar")
    plaintext = decrypt_v1_member(member, PASSWORD)
    assert len(member) - 16 == len(plaintext)
    assert len(plaintext) % RECORDSIZE == 0
    assert plaintext[-1024:] == b"\0" * 1024  # ends with the end-of-archive blocks, no pad
    assert inner_tar_contents(plaintext)["data.bin"] == files["data.bin"]


@pytest.mark.parametrize("compressed", [True, False])
def test_v1_fixed_single_padding_and_pax_records(tmp_path: Path, compressed: bool) -> None:
    """v1-fixed has one PKCS#7 pad at the end and `_securetar.*` PAX records on the outer member."""
    archive = ArchiveSpec("share", SAMPLE_FILES, encryption="v1-fixed", compressed=compressed)
    path = write_backup(tmp_path / "b.tar", [archive], password=PASSWORD)
    member_name = archive.outer_member_name(dot_slash=False)
    padded = decrypt_v1_member(outer_member_bytes(path, member_name), PASSWORD)
    pad_length = padded[-1]
    assert 1 <= pad_length <= 16 and padded[-pad_length:] == bytes([pad_length]) * pad_length
    plaintext = padded[:-pad_length]
    if compressed:
        assert plaintext[10] == 0  # stream-mode gzip with an empty FNAME
        inner_tar = gzip.decompress(plaintext)  # standard trailer intact
    else:
        inner_tar = plaintext
        assert pad_length == 16 and len(plaintext) % RECORDSIZE == 0
    assert inner_tar_contents(inner_tar)["sub/dir/notes.txt"] == SAMPLE_FILES["sub/dir/notes.txt"]
    with tarfile.open(path, "r:") as outer:
        pax = outer.getmember(member_name).pax_headers
    assert pax["_securetar.plaintext_size"] == str(len(plaintext))
    assert pax["_securetar.version"] == "2.0"


def test_v1_fixed_pax_records_need_pax_outer(tmp_path: Path) -> None:
    """PAX records cannot be written into a GNU outer tar, so the writer refuses."""
    with pytest.raises(ValueError, match="PAX"):
        write_backup(
            tmp_path / "b.tar",
            [ArchiveSpec("ssl", {"a": b"1"}, encryption="v1-fixed")],
            password=PASSWORD,
            outer_format="gnu",
        )


def test_legacy_writer_pads_each_unaligned_write_alone() -> None:
    """The legacy writer pads each unaligned write() on its own and leaves aligned ones alone."""
    destination = io.BytesIO()
    writer = LegacyPaddingEncryptWriter(destination, PASSWORD, salt=b"S" * 16)
    writer.write(b"A" * 32)
    writer.write(b"CRC!")
    writer.write(b"B" * 16)
    writer.write(b"SIZE")
    data = destination.getvalue()
    assert data[:16] == b"S" * 16 and len(data) == 16 + 32 + 16 + 16 + 16
    plaintext = decrypt_v1_member(data, PASSWORD)
    assert plaintext == b"A" * 32 + b"CRC!" + b"\x0c" * 12 + b"B" * 16 + b"SIZE" + b"\x0c" * 12


# --------------------------------------------------------------------------
# Large content and memory
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encryption", "compressed"), [("none", False), ("v3", False), ("v1-legacy", True)]
)
def test_large_content_is_streamed(tmp_path: Path, encryption: str, compressed: bool) -> None:
    """A 50 MB generated file is written with a tracemalloc peak far below its size."""
    size = 50_000_000
    generator = patterned_content("big")
    archive = ArchiveSpec(
        "share",
        [FileSpec("big.bin", size=size, generator=generator)],
        encryption=encryption,  # type: ignore[arg-type]
        compressed=compressed,
    )
    tracemalloc.start()
    try:
        path = write_backup(tmp_path / "big.tar", [archive], password=PASSWORD)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    expected = hashlib.sha256()
    for offset in range(0, size, 1 << 20):
        expected.update(generator(offset, min(1 << 20, size - offset)))
    if encryption == "none":
        with tarfile.open(path, "r:") as outer:
            handle = outer.extractfile("share.tar")
            assert handle is not None
            digest = _stream_digest(handle, "r|")
    elif encryption == "v3":
        with SecureTarArchive(path, "r", password=PASSWORD) as securetar_archive:
            member = securetar_archive.tar.getmember("share.tar")
            with securetar_archive.extract_tar(member) as stream:
                digest = _stream_digest(stream, "r|")  # type: ignore[arg-type]
    else:
        plaintext = decrypt_v1_member(outer_member_bytes(path, "share.tar.gz"), PASSWORD)
        digest = _stream_digest(io.BytesIO(split_legacy_gzip(plaintext)[0]), "r|")
    assert digest == expected.hexdigest()


def _stream_digest(fileobj: IO[bytes], mode: str) -> str:
    """SHA-256 of big.bin read from an inner tar stream."""
    with tarfile.open(fileobj=fileobj, mode=mode) as inner:  # type: ignore[call-overload]
        for member in inner:
            if member.name == "big.bin":
                handle = inner.extractfile(member)
                digest = hashlib.sha256()
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                return digest.hexdigest()
    raise AssertionError("big.bin not found")


# --------------------------------------------------------------------------
# Corruption helpers
# --------------------------------------------------------------------------


def test_member_location_points_at_member_data(tmp_path: Path) -> None:
    """member_location returns the offset and size of exactly the member's bytes."""
    path = write_backup(tmp_path / "b.tar", [ArchiveSpec("share", SAMPLE_FILES)])
    offset, size = member_location(path, "share.tar.gz")
    assert path.read_bytes()[offset : offset + size] == outer_member_bytes(path, "share.tar.gz")


def test_flip_truncate_append(tmp_path: Path) -> None:
    """flip_byte XORs one byte, truncate_file shortens, append_bytes extends."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00\x01\x02\x03")
    assert flip_byte(path, 1) == 0xFE
    assert path.read_bytes() == b"\x00\xfe\x02\x03"
    flip_byte(path, 2, xor_mask=0x01)
    assert path.read_bytes() == b"\x00\xfe\x03\x03"
    truncate_file(path, 2)
    append_bytes(path, b"zz")
    assert path.read_bytes() == b"\x00\xfezz"
    with pytest.raises(ValueError, match="past the end"):
        flip_byte(path, 99)


def test_crc_breaking_offset_breaks_only_the_crc(tmp_path: Path) -> None:
    """After flipping the found byte the stream still inflates but gzip reports a CRC failure."""
    path = write_backup(tmp_path / "b.tar", [ArchiveSpec("share", SAMPLE_FILES)])
    offset = find_crc_breaking_offset(path, "share.tar.gz")
    data_offset, size = member_location(path, "share.tar.gz")
    assert data_offset + 10 < offset < data_offset + size - 8
    flip_byte(path, offset)
    data = outer_member_bytes(path, "share.tar.gz")
    with pytest.raises(gzip.BadGzipFile, match="CRC check failed"):
        gzip.decompress(data)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inner_tar = inflater.decompress(data[gzip_header_length(data) :])
    assert inflater.eof and len(inner_tar) == struct.unpack("<I", data[-4:])[0]


# --------------------------------------------------------------------------
# Era presets and the demo folder
# --------------------------------------------------------------------------


def _check_inner_archive(
    backup: WrittenBackup, member_name: str, encryption: str, is_gzip: bool
) -> None:
    """Open one inner archive with the independent reader for its encryption."""
    if encryption in ("v2", "v3"):
        assert backup.password is not None
        plaintext = securetar_plaintext(backup.path, member_name, backup.password)
    elif encryption.startswith("v1"):
        assert backup.password is not None
        plaintext = decrypt_v1_member(outer_member_bytes(backup.path, member_name), backup.password)
        if is_gzip:
            plaintext = split_legacy_gzip(plaintext)[0]
            is_gzip = False
    else:
        plaintext = outer_member_bytes(backup.path, member_name)
    inner_tar = gzip.decompress(plaintext) if is_gzip else plaintext
    with tarfile.open(fileobj=io.BytesIO(inner_tar), mode="r:") as inner:
        assert inner.getnames()


@pytest.mark.parametrize("preset_name", list(era_presets()))
def test_era_preset_writes_readable_backup(tmp_path: Path, preset_name: str) -> None:
    """Every era preset writes a backup whose metadata and inner archives all open."""
    backup = era_presets()[preset_name](tmp_path)
    assert backup.preset_name == preset_name and backup.description
    names = outer_names(backup.path)
    assert backup.metadata_name in names
    assert set(backup.archive_member_names) <= set(names)
    metadata = json.loads(outer_member_bytes(backup.path, backup.metadata_name))
    assert metadata["slug"] == expected_slug(metadata["name"], metadata["date"])
    assert bool(metadata.get("protected", False)) == (backup.password is not None)
    for archive in backup.archives:
        _check_inner_archive(backup, archive.member_name, archive.encryption, archive.is_gzip)


def test_era_preset_specifics(tmp_path: Path) -> None:
    """Presets reproduce their era's dialect, naming, order and unlisted archives."""
    presets = era_presets()
    old = presets["supervisor_2019_gnu_snapshot"](tmp_path)
    assert old.path.read_bytes()[257:265] == b"ustar  \0"
    assert outer_names(old.path)[0] == "." and old.metadata_name == "./snapshot.json"
    assert isinstance(json.loads(outer_member_bytes(old.path, "./snapshot.json"))["protected"], str)

    streamed = presets["supervisor_2024_streamed"](tmp_path)
    names = outer_names(streamed.path)
    assert names[-1] == "./backup.json" and "." not in names and names[0] == "homeassistant.tar.gz"

    current = presets["supervisor_2026_v3"](tmp_path)
    metadata = json.loads(outer_member_bytes(current.path, "./backup.json"))
    assert "supervisor.tar.gz" in outer_names(current.path)
    assert "supervisor" not in [addon["slug"] for addon in metadata["addons"]] + metadata["folders"]

    downloaded = presets["core_2026_v3_downloaded"](tmp_path)
    assert downloaded.path.read_bytes()[-30720:] == b"\0" * 30720
    assert outer_names(downloaded.path) == ["./backup.json", "homeassistant.tar.gz"]

    mismatch = presets["supervisor_2022_name_mismatch"](tmp_path)
    assert json.loads(outer_member_bytes(mismatch.path, "./backup.json"))["compressed"] is False
    assert "./homeassistant.tar.gz" in outer_names(mismatch.path)


def test_demo_folder_created_once(tmp_path: Path) -> None:
    """create_demo_folder writes four demo backups once and leaves existing files untouched."""
    paths = create_demo_folder(tmp_path)
    assert len(paths) == 4 and all(path.exists() for path in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in paths
    )  # no .partial left
    mtimes = [path.stat().st_mtime_ns for path in paths]
    assert create_demo_folder(tmp_path) == paths
    assert [path.stat().st_mtime_ns for path in paths] == mtimes


def test_demo_backups_have_the_promised_states(tmp_path: Path) -> None:
    """Demo: plain full, v3 with the demo password, CRC-damaged share, legacy v1 from 2021."""
    full, encrypted, damaged, legacy = create_demo_folder(tmp_path)

    full_metadata = json.loads(outer_member_bytes(full, "./backup.json"))
    assert full_metadata["protected"] is False and full_metadata["type"] == "full"
    ha_contents = inner_tar_contents(
        gzip.decompress(outer_member_bytes(full, "homeassistant.tar.gz"))
    )
    assert {
        "data/configuration.yaml",
        "data/automations.yaml",
        "data/.storage/core.config_entries",
    } <= set(ha_contents)
    assert ha_contents["data/home-assistant_v2.db"][:16] == b"SQLite format 3\0"  # type: ignore[index]
    assert "./addon.json" in inner_tar_contents(
        gzip.decompress(outer_member_bytes(full, "core_mosquitto.tar.gz"))
    )

    for member_name in ("homeassistant.tar.gz", "share.tar.gz", "supervisor.tar.gz"):
        assert securetar_validates(encrypted, member_name, DEMO_PASSWORD)
    assert outer_member_bytes(encrypted, "share.tar.gz")[9] == 3

    with pytest.raises(gzip.BadGzipFile, match="CRC check failed"):
        gzip.decompress(outer_member_bytes(damaged, "share.tar.gz"))
    gzip.decompress(outer_member_bytes(damaged, "ssl.tar.gz"))  # only share is damaged

    legacy_metadata = json.loads(outer_member_bytes(legacy, "./backup.json"))
    assert legacy_metadata["protected"] == expected_protected_digit(DEMO_PASSWORD)
    plaintext = decrypt_v1_member(outer_member_bytes(legacy, "./share.tar.gz"), DEMO_PASSWORD)
    assert "notes.txt" in inner_tar_contents(split_legacy_gzip(plaintext)[0])
