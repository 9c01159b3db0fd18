"""Write synthetic Home Assistant backups of every era, byte-exact per format-spec.

Tests, the demo folder and benchmarks need *real* backup files: outer tars in
GNU and PAX dialects, `snapshot.json`/`backup.json` metadata of each schema
generation, and inner archives that are plain, gzip, or wrapped in each
SecureTar version — including the legacy v1 padding quirk that only the
original writer produced (format-spec §2.3). Fixture files checked into git
cannot cover that matrix and hide what each case is; a declarative writer
lets each test say exactly which bytes it is about.

Design notes:

* Every inner archive is first built into an anonymous temporary file next
  to the output, then copied (and encrypted, where asked) into the outer tar
  in bounded chunks, so multi-hundred-megabyte backups never sit in memory.
* "v2" and "v3" use the pinned securetar's own public encryptor, with one
  root key context per backup, so all v3 inner archives share the root salt
  exactly as real backups do (format-spec §2.5).
* "v1-legacy" is written by `LegacyPaddingEncryptWriter`, a file-like object
  handed to Python's streaming tarfile, because the legacy padding is a
  property of how tarfile chunks its writes, not of the cipher.
* This module writes; it never validates. Tests check its output with
  independent readers (stdlib tarfile, securetar's reader, hand decryption).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import struct
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from securetar import SecureTarEncryptStream, SecureTarRootKeyContext

# --------------------------------------------------------------------------
# Constants (with the specification section they come from)
# --------------------------------------------------------------------------

AES_BLOCK_SIZE = 16  # format-spec §2.2
AES_KDF_ROUNDS = 100  # format-spec §2.2: SHA-256 applied 100 times
LEGACY_DEFAULT_BUFSIZE = tarfile.RECORDSIZE  # 10240, Python's stream default (§2.3)
SUPERVISOR_STREAM_BUFSIZE = 4 * 1024 * 1024  # Supervisor >= 2023.04.1 (§2.3)
GZIP_FILE_COMPRESSLEVEL = 6  # securetar >= 2023.12.0 unencrypted, `w:gz` (§2.8)
OUTER_COPY_CHUNK_BYTES = 1024 * 1024  # outer tar copy chunk: bounded memory
TEMP_COPY_CHUNK_BYTES = 1024 * 1024
GENERATOR_BLOCK_BYTES = 64 * 1024  # unit of the deterministic content generators

#: Folder components and their metadata spelling (format-spec §3.3, §3.4).
FOLDER_METADATA_NAMES: Mapping[str, str] = {
    "share": "share",
    "ssl": "ssl",
    "media": "media",
    "addons_local": "addons/local",
    "homeassistant": "homeassistant",  # only a folder in format v1 (§3.5)
}
#: The supervisor inner archive is never listed in the metadata (§3.4).
UNLISTED_COMPONENTS = frozenset({"supervisor"})

#: Display names and versions of well-known add-ons, for realistic metadata.
KNOWN_ADDONS: Mapping[str, tuple[str, str]] = {
    "core_mosquitto": ("Mosquitto broker", "6.5.2"),
    "core_ssh": ("Terminal & SSH", "9.16.0"),
    "core_configurator": ("File editor", "5.8.0"),
    "a0d7b954_vscode": ("Studio Code Server", "5.19.3"),
    "core_samba": ("Samba share", "12.5.1"),
}

DEFAULT_BACKUP_NAME = "Full backup 2026-11-20"
DEFAULT_BACKUP_DATE = "2026-11-20T03:00:04.183512+00:00"
DEFAULT_HOMEASSISTANT_VERSION = "2026.11.2"
DEFAULT_SUPERVISOR_VERSION = "2026.11.0"
#: A float on purpose: files archived from disk have float mtimes, which makes
#: Python's PAX writer emit a PAX header for every member (format-spec §3.1).
DEFAULT_ENTRY_MTIME = datetime.fromisoformat("2026-11-19T21:14:07.250000+00:00").timestamp()
DEFAULT_OUTER_MTIME = datetime.fromisoformat(DEFAULT_BACKUP_DATE).timestamp()

EntryType = Literal["file", "dir", "symlink", "hardlink", "fifo", "chardev"]
Encryption = Literal["none", "v1-legacy", "v1-fixed", "v2", "v3"]
TarDialect = Literal["pax", "gnu"]
MetadataPosition = Literal["first", "last", "sorted"]
PlainGzipStyle = Literal["file", "stream"]
MetadataProducer = Literal["supervisor", "core"]
#: (offset, length) -> exactly `length` bytes of content starting at `offset`.
ContentGenerator = Callable[[int, int], bytes]

_TARFILE_FORMATS: Mapping[str, int] = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT}
_TARINFO_TYPES: Mapping[str, bytes] = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "chardev": tarfile.CHRTYPE,
}
_DEFAULT_MODES: Mapping[str, int] = {
    "file": 0o644,
    "dir": 0o755,
    "symlink": 0o777,
    "hardlink": 0o644,
    "fifo": 0o644,
    "chardev": 0o666,
}
_SECURETAR_CREATE_VERSIONS: Mapping[str, int] = {"v2": 2, "v3": 3}


# --------------------------------------------------------------------------
# Deterministic content
# --------------------------------------------------------------------------


def patterned_content(seed: str) -> ContentGenerator:
    """Return a generator of compressible, human-readable, repeating text.

    Large test files must be reproducible from a seed without being stored,
    and readable in a hex dump. Text lines compress well, which keeps gzip
    fast for big benchmark files.
    """
    lines = "".join(f"{seed} line {index:05d}: the quick brown fox\n" for index in range(1200))
    period = lines.encode()

    def generate(offset: int, length: int) -> bytes:
        """Slice the repeating period at `offset`."""
        start = offset % len(period)
        repeats = (start + length) // len(period) + 1
        return (period * repeats)[start : start + length]

    return generate


def random_content(seed: str) -> ContentGenerator:
    """Return a generator of incompressible, seed-determined bytes.

    Photos and databases in real backups do not compress; zlib then stores
    them in "stored" deflate blocks, where a flipped byte changes only the
    CRC — which is what the damaged demo backup needs. SHAKE-256 per 64 KiB
    block makes any offset addressable without generating what precedes it.
    """

    def block(index: int) -> bytes:
        """One 64 KiB block of the stream."""
        return hashlib.shake_256(f"{seed}:{index}".encode()).digest(GENERATOR_BLOCK_BYTES)

    def generate(offset: int, length: int) -> bytes:
        """Concatenate the blocks that cover [offset, offset+length)."""
        pieces: list[bytes] = []
        position = offset
        end = offset + length
        while position < end:
            index, inside = divmod(position, GENERATOR_BLOCK_BYTES)
            take = min(GENERATOR_BLOCK_BYTES - inside, end - position)
            pieces.append(block(index)[inside : inside + take])
            position += take
        return b"".join(pieces)

    return generate


class _GeneratedContentReader(io.RawIOBase):
    """Read-only file object over a content generator, for tarfile.addfile.

    tarfile copies member data with read(n) calls of a bounded size, so
    serving them from the generator keeps memory use independent of the
    file size.
    """

    def __init__(self, size_bytes: int, generator: ContentGenerator) -> None:
        """Serve `size_bytes` bytes produced by `generator`."""
        super().__init__()
        self._size_bytes = size_bytes
        self._generator = generator
        self._position = 0

    def readable(self) -> bool:
        """Tell io that this object supports read()."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Return the next `size` bytes (all remaining bytes when size < 0)."""
        remaining = self._size_bytes - self._position
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        if wanted <= 0:
            return b""
        chunk = self._generator(self._position, wanted)
        if len(chunk) != wanted:
            raise ValueError(f"content generator returned {len(chunk)} bytes, expected {wanted}")
        self._position += wanted
        return chunk

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the generator (the io.RawIOBase primitive)."""
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# --------------------------------------------------------------------------
# Declarative specs
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    """One entry of an inner archive, stored under `path` exactly as given.

    `path` is not sanitised on purpose: "../evil", "/abs", names over 100
    characters and non-ASCII names are what the reader's safety checks are
    tested against. Regular-file content is either `content`, or `size`
    bytes produced by `generator` (default: `patterned_content(path)`) and
    streamed, so a 1 GB entry costs no memory. `link_target` is the target
    of a symlink or hard link.
    """

    path: str
    type: EntryType = "file"
    content: bytes | None = None
    size: int | None = None
    generator: ContentGenerator | None = None
    mode: int | None = None
    mtime: float = DEFAULT_ENTRY_MTIME
    link_target: str = ""
    uid: int = 0
    gid: int = 0
    uname: str = "root"
    gname: str = "root"
    device_major: int = 0
    device_minor: int = 0

    def __post_init__(self) -> None:
        """Reject contradictory specs early, where the mistake is visible."""
        if self.type not in _TARINFO_TYPES:
            raise ValueError(f"unknown entry type {self.type!r}")
        has_data = self.content is not None or self.size is not None
        if self.type != "file" and has_data:
            raise ValueError(f"{self.type} entry {self.path!r} cannot have content")
        if self.content is not None and self.size is not None and self.size != len(self.content):
            raise ValueError(f"size {self.size} does not match content of {self.path!r}")
        if self.type in ("symlink", "hardlink") and not self.link_target:
            raise ValueError(f"{self.type} entry {self.path!r} needs a link_target")

    @property
    def content_size(self) -> int:
        """Number of data bytes this entry stores (0 for non-files)."""
        if self.content is not None:
            return len(self.content)
        return self.size or 0

    def open_content(self) -> IO[bytes]:
        """Return a fresh reader over the entry's data."""
        if self.content is not None:
            return io.BytesIO(self.content)
        generator = self.generator or patterned_content(self.path)
        return _GeneratedContentReader(self.content_size, generator)  # type: ignore[return-value]

    def to_tarinfo(self, stored_name: str) -> tarfile.TarInfo:
        """Build the tar header for this entry under `stored_name`."""
        info = tarfile.TarInfo(stored_name)
        info.type = _TARINFO_TYPES[self.type]
        info.mode = self.mode if self.mode is not None else _DEFAULT_MODES[self.type]
        info.mtime = self.mtime  # type: ignore[assignment]  # floats force PAX mtime
        info.uid, info.gid = self.uid, self.gid
        info.uname, info.gname = self.uname, self.gname
        info.linkname = self.link_target
        info.size = self.content_size if self.type == "file" else 0
        if self.type == "chardev":
            info.devmajor, info.devminor = self.device_major, self.device_minor
        return info


def files_to_specs(
    files: Mapping[str, bytes | FileSpec],
    *,
    mtime: float = DEFAULT_ENTRY_MTIME,
    add_parent_dirs: bool = True,
) -> list[FileSpec]:
    """Turn a path -> bytes mapping into FileSpecs, adding parent directories.

    Real archives are made by walking directories, so each directory has its
    own entry before its content; tests that just want "these files" should
    still get that shape. A FileSpec value is used as is (its path wins).
    """
    specs: list[FileSpec] = []
    seen_dirs: set[str] = set()
    for path, value in files.items():
        if add_parent_dirs:
            parts = path.strip("/").split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory in ("", ".") or directory in seen_dirs:
                    continue
                seen_dirs.add(directory)
                specs.append(FileSpec(directory, type="dir", mtime=mtime))
        if isinstance(value, FileSpec):
            specs.append(value)
        else:
            specs.append(FileSpec(path, content=value, mtime=mtime))
    return specs


def _with_dot_slash(name: str) -> str:
    """Prefix "./" the way `tar.add(dir, arcname=".")` names members.

    Names that are absolute or already relative-dotted ("./x", "../x", ".",
    "..") are left alone so that deliberately hostile names stay verbatim.
    """
    if name.startswith(("/", "./", "../")) or name in (".", ".."):
        return name
    return f"./{name}"


@dataclass(frozen=True)
class ArchiveSpec:
    """One inner archive (component) of a backup.

    `name` is the component: "homeassistant", an add-on slug such as
    "core_mosquitto", a folder ("share", "ssl", "media", "addons_local") or
    "supervisor". The outer member is `<name>.tar.gz` or `<name>.tar` unless
    `member_name` overrides it (e.g. the 2022 name/compression mismatch bug,
    format-spec §3.5). `entry_dot_slash` stores entry names as "./name"
    (Supervisor before 228); `include_root_entry` adds the "." directory that
    every HA writer puts first. `password` overrides the backup password for
    this archive only (mixed-password test cases).
    """

    name: str
    entries: Sequence[FileSpec] | Mapping[str, bytes] = ()
    compressed: bool = True
    encryption: Encryption = "none"
    member_name: str | None = None
    entry_dot_slash: bool = False
    include_root_entry: bool = True
    root_mtime: float = DEFAULT_ENTRY_MTIME
    #: Tar dialect of the inner archive: GNU for Python <= 3.7 (Supervisor <= 228).
    inner_format: TarDialect = "pax"
    #: Unencrypted gzip: "file" = `w:gz` level 6 (securetar >= 2023.12.0);
    #: "stream" = `w|gz` level 9 (older). Encrypted archives always stream.
    plain_gzip_style: PlainGzipStyle = "file"
    #: gzip header MTIME of "file"-style gzip (stream style uses the clock).
    gzip_mtime: int = int(DEFAULT_ENTRY_MTIME)
    #: v1-fixed only: write `_securetar.*` PAX records on the outer member.
    v1_fixed_pax_records: bool = True
    password: str | None = None
    #: None = listed unless the component is "supervisor" (format-spec §3.4).
    listed_in_metadata: bool | None = None

    def file_specs(self) -> list[FileSpec]:
        """Return the entries as FileSpecs (a mapping gains parent dirs)."""
        if isinstance(self.entries, Mapping):
            return files_to_specs(self.entries)
        return list(self.entries)

    def outer_member_name(self, *, dot_slash: bool) -> str:
        """Name of this archive's member in the outer tar."""
        if self.member_name is not None:
            return self.member_name
        extension = ".tar.gz" if self.compressed else ".tar"
        return f"{'./' if dot_slash else ''}{self.name}{extension}"

    @property
    def is_encrypted(self) -> bool:
        """Whether this archive is wrapped in SecureTar."""
        return self.encryption != "none"

    @property
    def is_listed_in_metadata(self) -> bool:
        """Whether "auto" metadata lists this component."""
        if self.listed_in_metadata is not None:
            return self.listed_in_metadata
        return self.name not in UNLISTED_COMPONENTS


# --------------------------------------------------------------------------
# AES pieces shared by v1 and v2 (format-spec §2.2)
# --------------------------------------------------------------------------


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


def _encrypt_v1_fixed(plaintext: IO[bytes], destination: IO[bytes], password: str) -> None:
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


# --------------------------------------------------------------------------
# Inner archive construction
# --------------------------------------------------------------------------


def _root_entry(mtime: float) -> tarfile.TarInfo:
    """The "." directory entry (tarfile stores it as "./")."""
    info = tarfile.TarInfo(".")
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = mtime  # type: ignore[assignment]
    info.uname = info.gname = "root"
    return info


def _add_entries(tar: tarfile.TarFile, archive: ArchiveSpec) -> None:
    """Add the root entry (if wanted) and every FileSpec to an open inner tar."""
    if archive.include_root_entry:
        tar.addfile(_root_entry(archive.root_mtime))
    for spec in archive.file_specs():
        stored_name = _with_dot_slash(spec.path) if archive.entry_dot_slash else spec.path
        info = spec.to_tarinfo(stored_name)
        if spec.type == "file":
            with spec.open_content() as reader:
                tar.addfile(info, reader)
        else:
            tar.addfile(info)


def _write_stream_tar(
    archive: ArchiveSpec,
    destination: IO[bytes] | LegacyPaddingEncryptWriter,
    *,
    bufsize: int,
    gzip_name: str | None,
) -> None:
    """Write the inner tar with tarfile's stream mode (`w|gz` / `w|`).

    Stream mode is what every encrypting writer used, and what Supervisor
    used for plain archives before securetar 2023.12.0. `gzip_name` ends up
    in the gzip FNAME field; encrypting writers had none (empty FNAME).
    """
    mode = "w|gz" if archive.compressed else "w|"
    with tarfile.open(  # type: ignore[call-overload]
        name=gzip_name,
        mode=mode,
        fileobj=destination,
        bufsize=bufsize,
        format=_TARFILE_FORMATS[archive.inner_format],
        encoding="utf-8",
    ) as tar:
        _add_entries(tar, archive)


def _write_file_tar(archive: ArchiveSpec, destination: IO[bytes], gzip_name: str) -> None:
    """Write a plain inner tar the way `tarfile.open(name, "w:gz")` does.

    Supervisor >= 2023.12 opened plain archives as `w:gz` with compresslevel
    6 and the archive name, so the gzip header carries FNAME "<name>.tar".
    Building GzipFile ourselves only adds a fixed MTIME for reproducibility.
    """
    tar_format = _TARFILE_FORMATS[archive.inner_format]
    if not archive.compressed:
        with tarfile.open(
            fileobj=destination, mode="w:", format=tar_format, encoding="utf-8"
        ) as tar:
            _add_entries(tar, archive)
        return
    with (
        gzip.GzipFile(
            filename=gzip_name,
            mode="wb",
            compresslevel=GZIP_FILE_COMPRESSLEVEL,
            fileobj=destination,
            mtime=archive.gzip_mtime,
        ) as gzip_stream,
        tarfile.open(
            fileobj=gzip_stream,  # type: ignore[arg-type]
            mode="w:",
            format=tar_format,
            encoding="utf-8",
        ) as tar,
    ):
        _add_entries(tar, archive)


def _file_size(handle: IO[bytes]) -> int:
    """Size of an open temporary file (and rewind it)."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    return size


class _RootKeyContexts:
    """One securetar root key context per (version, password) in a backup.

    Real writers derive the v3 root key once per backup; reusing the context
    makes every v3 inner archive share the root salt, validation salt and
    validation key (format-spec §2.5). securetar binds a context to a single
    version, hence the key includes it.
    """

    def __init__(self) -> None:
        """Start with no contexts; they are created on first use."""
        self._contexts: dict[tuple[int, str], SecureTarRootKeyContext] = {}

    def get(self, version: int, password: str) -> SecureTarRootKeyContext:
        """Return the shared context for this version and password."""
        key = (version, password)
        if key not in self._contexts:
            self._contexts[key] = SecureTarRootKeyContext(password)
        return self._contexts[key]


def _add_archive_member(
    outer: tarfile.TarFile,
    archive: ArchiveSpec,
    *,
    member_name: str,
    password: str | None,
    contexts: _RootKeyContexts,
    legacy_bufsize: int,
    member_mtime: float,
    scratch_dir: Path,
) -> None:
    """Build one inner archive in a temporary file and append it to the outer tar."""
    effective_password = archive.password if archive.password is not None else password
    if archive.is_encrypted and effective_password is None:
        raise ValueError(f"archive {archive.name!r} is encrypted but no password was given")
    gzip_name = Path(member_name).name
    info = tarfile.TarInfo(member_name)
    info.mode = 0o644
    info.mtime = member_mtime  # type: ignore[assignment]

    with tempfile.TemporaryFile(dir=scratch_dir) as built:
        if archive.encryption == "v1-legacy":
            assert effective_password is not None
            writer = LegacyPaddingEncryptWriter(built, effective_password)
            _write_stream_tar(archive, writer, bufsize=legacy_bufsize, gzip_name=None)
            info.size = _file_size(built)
            outer.addfile(info, built)
            return

        if archive.encryption == "none":
            if archive.compressed and archive.plain_gzip_style == "stream":
                _write_stream_tar(
                    archive, built, bufsize=LEGACY_DEFAULT_BUFSIZE, gzip_name=gzip_name
                )
            else:
                _write_file_tar(archive, built, gzip_name)
            info.size = _file_size(built)
            outer.addfile(info, built)
            return

        # v1-fixed, v2, v3: plaintext as securetar produced it (stream mode,
        # no gzip file name), then encrypted from the temporary file.
        assert effective_password is not None
        _write_stream_tar(archive, built, bufsize=LEGACY_DEFAULT_BUFSIZE, gzip_name=None)
        plaintext_size = _file_size(built)

        if archive.encryption == "v1-fixed":
            if archive.v1_fixed_pax_records:
                if outer.format != tarfile.PAX_FORMAT:
                    raise ValueError("v1-fixed PAX records need a PAX outer tar")
                info.pax_headers = {
                    "_securetar.plaintext_size": str(plaintext_size),
                    "_securetar.version": "2.0",
                }
            with tempfile.TemporaryFile(dir=scratch_dir) as encrypted:
                _encrypt_v1_fixed(built, encrypted, effective_password)
                info.size = _file_size(encrypted)
                outer.addfile(info, encrypted)
            return

        version = _SECURETAR_CREATE_VERSIONS[archive.encryption]
        with SecureTarEncryptStream(
            built,
            create_version=version,
            derived_key_id=None,
            plaintext_size=plaintext_size,
            root_key_context=contexts.get(version, effective_password),
        ) as encrypted_stream:
            info.size = encrypted_stream.ciphertext_size
            outer.addfile(info, encrypted_stream)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Metadata (format-spec §3.3, §3.6, §4.1)
# --------------------------------------------------------------------------


def compute_slug(name: str, date: str) -> str:
    """Slug = first 8 hex chars of SHA-1 over lower("<date> - <name>") (format-spec §3.6)."""
    text = f"{date} - {name}".lower().encode()
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:8]


def _version_key(version: str) -> tuple[int, ...]:
    """Comparable key for HA/Supervisor versions, including pre-2020 integers.

    Supervisor versions were plain integers ("192", "228") before calendar
    versioning, so "192" must sort before "2020.10.0"; a ".devNNNN" suffix
    is ignored.
    """
    numbers = [int(part) for part in re.findall(r"\d+", version.split(".dev", 1)[0])]
    if len(numbers) == 1 or (numbers and numbers[0] < 2000):
        return (0, *numbers)
    return tuple(numbers)


def _is_at_least(version: str, minimum: str) -> bool:
    """Whether `version` >= `minimum` under `_version_key`."""
    return _version_key(version) >= _version_key(minimum)


def _addon_entry(
    slug: str, addon_versions: Mapping[str, tuple[str, str]], size_mb: float
) -> dict[str, Any]:
    """Metadata `addons` item for one add-on slug."""
    display_name, version = addon_versions.get(
        slug, KNOWN_ADDONS.get(slug, (slug.replace("_", " ").title(), "1.0.0"))
    )
    return {"slug": slug, "name": display_name, "version": version, "size": size_mb}


def _legacy_homeassistant_settings(
    homeassistant_version: str, supervisor_version: str, password: str | None
) -> dict[str, Any]:
    """Format-v1 `homeassistant` dict: HA settings kept in the metadata (2018 … 2022-01)."""
    settings: dict[str, Any] = {
        "version": homeassistant_version,
        "image": "homeassistant/qemux86-64-homeassistant",
        "last_version": homeassistant_version,
        "boot": True,
        "ssl": False,
        "port": 8123,
        "watchdog": True,
        "wait_boot": 600,
    }
    if _is_at_least(supervisor_version, "200"):  # audio settings since 2020-02
        settings["audio_input"] = None
        settings["audio_output"] = None
    refresh_token = "d9b1c4f0" * 16  # fake, 128 hex chars like HA's refresh tokens
    settings["refresh_token"] = (
        encrypt_legacy_metadata_value(password, refresh_token)
        if password is not None
        else refresh_token
    )
    return settings


def make_metadata(
    archives: Sequence[ArchiveSpec] = (),
    *,
    producer: MetadataProducer = "supervisor",
    name: str | None = None,
    date: str = DEFAULT_BACKUP_DATE,
    password: str | None = None,
    protected: bool | None = None,
    compressed: bool | None = None,
    backup_type: Literal["full", "partial"] | None = None,
    homeassistant_version: str = DEFAULT_HOMEASSISTANT_VERSION,
    supervisor_version: str = DEFAULT_SUPERVISOR_VERSION,
    exclude_database: bool = False,
    addon_versions: Mapping[str, tuple[str, str]] | None = None,
    repositories: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    slug: str | None = None,
) -> dict[str, Any]:
    """Build the metadata dict a given producer and version would have written.

    The schema follows the producer's version, so one function covers every
    era (format-spec §3.3 history, §4.1):

    * Supervisor < 2022.02.0 (format v1): `protected` is the check digit
      string and `crypto` is "aes128" (both only when protected); the HA
      config is the "homeassistant" *folder*; `homeassistant` holds HA
      settings with an encrypted refresh token.
    * Supervisor >= 2022.02.0: `version: 2`, `compressed`, boolean
      `protected`, `homeassistant: {version, size}`; then
      `supervisor_version` (2022.08.4), `exclude_database` (2023.10.1),
      `extra` (2024.12.0); `docker` until 2026.02.3, `crypto` until 2026.03.3.
    * Core < 2025.1: `{slug, name: "Core <ver>", date, type: partial,
      folders: [homeassistant], homeassistant: {version}, compressed}` —
      no `version`, no `protected`.
    * Core >= 2025.1: the "new backup system" shape with `version: 2`.

    `protected` defaults to "any archive is encrypted", `compressed` to "all
    listed archives are compressed", `backup_type` to "full" when a
    Supervisor backup includes Home Assistant. Components not listed in the
    metadata (see `ArchiveSpec.is_listed_in_metadata`) are skipped.
    """
    listed = [archive for archive in archives if archive.is_listed_in_metadata]
    if protected is None:
        protected = any(archive.is_encrypted for archive in archives)
    if compressed is None:
        compressed = all(archive.compressed for archive in listed) if listed else True
    addon_versions = addon_versions or {}
    if producer == "core":
        return _make_core_metadata(
            name=name,
            date=date,
            protected=protected,
            homeassistant_version=homeassistant_version,
            exclude_database=exclude_database,
            extra=extra,
            slug=slug,
        )

    name = name if name is not None else DEFAULT_BACKUP_NAME
    has_homeassistant = any(archive.name == "homeassistant" for archive in listed)
    is_format_v2 = _is_at_least(supervisor_version, "2022.02.0")
    is_streamed = _is_at_least(supervisor_version, "2024.02.0")
    size_mb = 0.0 if is_streamed else 0.04
    metadata: dict[str, Any] = {
        "slug": slug or compute_slug(name, date),
        "name": name,
        "date": date,
        "type": backup_type or ("full" if has_homeassistant else "partial"),
    }
    folders: list[str] = []
    addons: list[dict[str, Any]] = []
    homeassistant: dict[str, Any] | None = None
    for archive in listed:
        if archive.name == "homeassistant" and is_format_v2:
            homeassistant = {"version": homeassistant_version, "size": size_mb}
            if _is_at_least(supervisor_version, "2023.10.1"):
                homeassistant["exclude_database"] = exclude_database
        elif archive.name in FOLDER_METADATA_NAMES:
            folders.append(FOLDER_METADATA_NAMES[archive.name])
        else:
            addons.append(_addon_entry(archive.name, addon_versions, size_mb))

    if not is_format_v2:
        if has_homeassistant:
            homeassistant = _legacy_homeassistant_settings(
                homeassistant_version, supervisor_version, password if protected else None
            )
        if protected:
            if password is None:
                raise ValueError(
                    "a format-v1 protected backup needs the password for its check digit"
                )
            metadata["protected"] = legacy_protected_digit(password)
            metadata["crypto"] = "aes128"
        if _is_at_least(supervisor_version, "248"):  # registries since 2020-10
            metadata["docker"] = {"registries": {}}
    else:
        metadata["version"] = 2
        if _is_at_least(supervisor_version, "2022.08.4"):
            metadata["supervisor_version"] = supervisor_version
        if _is_at_least(supervisor_version, "2024.12.0"):
            metadata["extra"] = dict(extra) if extra is not None else {}
        metadata["compressed"] = compressed
        metadata["protected"] = protected
        if not _is_at_least(supervisor_version, "2026.03.3"):
            metadata["crypto"] = "aes128" if protected else None
        if not _is_at_least(supervisor_version, "2026.02.3"):
            metadata["docker"] = {"registries": {}}
    if repositories is None:
        # Older Supervisors rejected the built-in names "local"/"core" (§3.3).
        repositories = ["https://github.com/hassio-addons/repository"]
        if is_format_v2:
            repositories = [*repositories, "local", "core"]
    metadata["homeassistant"] = homeassistant
    metadata["folders"] = folders
    metadata["addons"] = addons
    metadata["repositories"] = list(repositories)
    return metadata


def _make_core_metadata(
    *,
    name: str | None,
    date: str,
    protected: bool,
    homeassistant_version: str,
    exclude_database: bool,
    extra: Mapping[str, Any] | None,
    slug: str | None,
) -> dict[str, Any]:
    """Metadata of a Core-written backup (non-Supervisor install, format-spec §4.1)."""
    if not _is_at_least(homeassistant_version, "2025.1.0"):
        name = name if name is not None else f"Core {homeassistant_version}"
        return {
            "slug": slug or compute_slug(name, date),
            "name": name,
            "date": date,
            "type": "partial",
            "folders": ["homeassistant"],
            "homeassistant": {"version": homeassistant_version},
            "compressed": True,
        }
    name = name if name is not None else f"Automatic backup {homeassistant_version}"
    return {
        "compressed": True,
        "date": date,
        "extra": dict(extra)
        if extra is not None
        else {"instance_id": "0f3a5c2e9d8b4a71b6e4c1d2a3f4e5d6", "with_automatic_settings": True},
        "homeassistant": {"exclude_database": exclude_database, "version": homeassistant_version},
        "name": name,
        "protected": protected,
        "slug": slug or compute_slug(name, date),
        "type": "partial",
        "version": 2,
    }


def serialize_metadata(metadata: Mapping[str, Any], *, indent: int | None = None) -> bytes:
    """Encode metadata as Supervisor/Core did: compact (orjson era) or indented (older)."""
    if indent is None:
        return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode()
    return json.dumps(metadata, indent=indent, ensure_ascii=False).encode()


# --------------------------------------------------------------------------
# The outer tar
# --------------------------------------------------------------------------


def write_backup(
    path: Path | str,
    archives: Sequence[ArchiveSpec],
    *,
    password: str | None = None,
    metadata: Mapping[str, Any] | bytes | Literal["auto"] | None = "auto",
    metadata_name: str = "./backup.json",
    metadata_position: MetadataPosition = "last",
    outer_format: TarDialect = "pax",
    outer_dot_entry: bool = False,
    inner_dot_slash: bool = False,
    trailing_nul_bytes: int = 0,
    legacy_bufsize: int = LEGACY_DEFAULT_BUFSIZE,
    outer_mtime: float = DEFAULT_OUTER_MTIME,
    outer_float_mtime: bool = True,
) -> Path:
    """Write one complete backup file and return its path.

    `metadata` is "auto" (current Supervisor schema built from `archives`
    by `make_metadata`), a dict (serialised compactly), raw bytes (written
    verbatim — for broken JSON cases) or None (no metadata member).
    `metadata_position` "first"/"last" puts it before/after the archives;
    "sorted" orders every member by name like the temp-dir writers
    (`tar.add(tmpdir, arcname=".")`, Python >= 3.7) did. `outer_dot_entry`
    adds their "." directory entry; `inner_dot_slash` names inner archives
    "./x.tar.gz". `outer_float_mtime` gives inner-archive members a float
    mtime, which forces a PAX header as every writer since 2020 did.
    `trailing_nul_bytes` appends zeros after the tar end like downloads
    through Core's streamer (format-spec §4.3). `legacy_bufsize` is the
    stream bufsize for v1-legacy archives (10240, or 4 MiB in Supervisor
    >= 2023.04.1); it decides where the legacy writer padded.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if metadata == "auto":
        metadata = make_metadata(archives, password=password)
    metadata_bytes: bytes | None
    if metadata is None or isinstance(metadata, bytes):
        metadata_bytes = metadata
    else:
        metadata_bytes = serialize_metadata(metadata)

    # Order the members: (name, writer-callable) pairs.
    members: list[tuple[str, ArchiveSpec | None]] = [
        (archive.outer_member_name(dot_slash=inner_dot_slash), archive) for archive in archives
    ]
    if metadata_bytes is not None:
        if metadata_position == "first":
            members.insert(0, (metadata_name, None))
        else:
            members.append((metadata_name, None))
    if metadata_position == "sorted":
        members.sort(key=lambda item: item[0])

    contexts = _RootKeyContexts()
    member_mtime = outer_mtime if outer_float_mtime else int(outer_mtime)
    # copybufsize: copy member data in 1 MiB reads (the default 16 KiB makes
    # securetar's encrypt readers re-slice their buffer quadratically).
    with tarfile.open(  # type: ignore[call-overload]
        path,
        mode="w",
        format=_TARFILE_FORMATS[outer_format],
        encoding="utf-8",
        copybufsize=OUTER_COPY_CHUNK_BYTES,
    ) as outer:
        if outer_dot_entry:
            outer.addfile(_root_entry(int(outer_mtime) if outer_format == "gnu" else outer_mtime))
        for member_name, archive in members:
            if archive is None:
                assert metadata_bytes is not None
                info = tarfile.TarInfo(metadata_name)
                info.size = len(metadata_bytes)
                info.mode = 0o644
                info.mtime = int(outer_mtime)
                outer.addfile(info, io.BytesIO(metadata_bytes))
                continue
            _add_archive_member(
                outer,
                archive,
                member_name=member_name,
                password=password,
                contexts=contexts,
                legacy_bufsize=legacy_bufsize,
                member_mtime=member_mtime,
                scratch_dir=path.parent,
            )
    if trailing_nul_bytes:
        append_bytes(path, b"\0" * trailing_nul_bytes)
    return path


# --------------------------------------------------------------------------
# Corruption helpers
# --------------------------------------------------------------------------


def member_location(path: Path | str, member_name: str) -> tuple[int, int]:
    """Return (data offset, size) of an outer member, so tests can damage its bytes."""
    with tarfile.open(path, mode="r:") as outer:
        info = outer.getmember(member_name)
        return info.offset_data, info.size


def flip_byte(path: Path | str, offset: int, xor_mask: int = 0xFF) -> int:
    """XOR one byte of a file in place and return its new value."""
    with open(path, "r+b") as handle:
        handle.seek(offset)
        original = handle.read(1)
        if len(original) != 1:
            raise ValueError(f"offset {offset} is past the end of {path}")
        new_value = original[0] ^ xor_mask
        handle.seek(offset)
        handle.write(bytes([new_value]))
    return new_value


def truncate_file(path: Path | str, new_size: int) -> None:
    """Cut a file to `new_size` bytes (an interrupted copy or upload)."""
    with open(path, "r+b") as handle:
        handle.truncate(new_size)


def append_bytes(path: Path | str, data: bytes) -> None:
    """Append bytes after the current end of a file (trailing zeros or garbage)."""
    with open(path, "ab") as handle:
        handle.write(data)


def _gzip_header_length(data: bytes) -> int:
    """Length of a gzip member header, honouring the FLG bits (RFC 1952)."""
    if data[:3] != b"\x1f\x8b\x08":
        raise ValueError("not a gzip stream")
    flags = data[3]
    position = 10
    if flags & 0x04:  # FEXTRA
        (extra_length,) = struct.unpack("<H", data[position : position + 2])
        position += 2 + extra_length
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            position = data.index(b"\0", position) + 1
    if flags & 0x02:  # FHCRC
        position += 2
    return position


def _inflates_with_bad_crc(gzip_bytes: bytes, header_length: int) -> bool:
    """Whether a gzip stream inflates cleanly with the right ISIZE but a wrong CRC32."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        output = inflater.decompress(gzip_bytes[header_length:])
    except zlib.error:
        return False
    if not inflater.eof or len(inflater.unused_data) != 8:
        return False
    stored_crc, stored_size = struct.unpack("<II", inflater.unused_data)
    return stored_size == len(output) & 0xFFFFFFFF and stored_crc != zlib.crc32(output)


def find_crc_breaking_offset(
    path: Path | str, member_name: str, *, max_candidates: int = 4096
) -> int:
    """Find a file offset inside an unencrypted gzip member whose flip only breaks the CRC.

    A random flipped byte in deflate data usually makes inflation fail
    outright; a validator test that wants the "CRC mismatch" finding needs a
    byte inside a stored (incompressible) block instead. Candidates are tried
    outward from the middle of the deflate data; the returned offset is
    absolute in the backup file, ready for `flip_byte`.
    """
    data_offset, size = member_location(path, member_name)
    with open(path, "rb") as handle:
        handle.seek(data_offset)
        gzip_bytes = bytearray(handle.read(size))
    header_length = _gzip_header_length(bytes(gzip_bytes))
    deflate_end = len(gzip_bytes) - 8
    middle = (header_length + deflate_end) // 2
    for step in range(max_candidates):
        candidate = middle + (step // 2 + 1) * (1 if step % 2 else -1) if step else middle
        if not header_length <= candidate < deflate_end:
            continue
        gzip_bytes[candidate] ^= 0xFF
        is_crc_only = _inflates_with_bad_crc(bytes(gzip_bytes), header_length)
        gzip_bytes[candidate] ^= 0xFF
        if is_crc_only:
            return data_offset + candidate
    raise ValueError(f"no CRC-only corruption point found in {member_name}")


# --------------------------------------------------------------------------
# Realistic component content
# --------------------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    """Indented JSON, the way HA writes its .storage files."""
    return json.dumps(value, indent=2).encode()


def fake_sqlite_database(size_bytes: int, seed: str = "recorder") -> bytes:
    """A small fake `home-assistant_v2.db`: a SQLite 3 header then seeded pages.

    Not a usable database — the inspector only lists and extracts it — but
    it starts with the real magic so file-type sniffing recognises it.
    """
    header = b"SQLite format 3\0" + struct.pack(">HBBBBBB", 4096, 1, 1, 0, 64, 32, 32)
    body = random_content(seed)(0, max(size_bytes - len(header), 0))
    return (header + body)[:size_bytes]


def homeassistant_config_files(
    homeassistant_version: str = DEFAULT_HOMEASSISTANT_VERSION,
    *,
    database_size_bytes: int = 96 * 1024,
    include_database: bool = True,
) -> dict[str, bytes]:
    """The content of a small but realistic /config directory, deterministic."""
    files: dict[str, bytes] = {
        ".HA_VERSION": homeassistant_version.encode(),
        "configuration.yaml": (
            b"# Loads default set of integrations. Do not remove.\n"
            b"default_config:\n\n"
            b"homeassistant:\n  name: Home\n  unit_system: metric\n"
            b"  time_zone: Europe/Amsterdam\n\n"
            b"frontend:\n  themes: !include_dir_merge_named themes\n\n"
            b"automation: !include automations.yaml\n"
            b"script: !include scripts.yaml\n"
            b"scene: !include scenes.yaml\n"
        ),
        "automations.yaml": (
            b"- id: '1700000000001'\n"
            b"  alias: Hallway light on motion\n"
            b"  triggers:\n"
            b"  - trigger: state\n"
            b"    entity_id: binary_sensor.hallway_motion\n"
            b"    to: 'on'\n"
            b"  actions:\n"
            b"  - action: light.turn_on\n"
            b"    target:\n"
            b"      entity_id: light.hallway\n"
            b"  mode: single\n"
        ),
        "scripts.yaml": (
            b"good_night:\n  alias: Good night\n  sequence:\n"
            b"  - action: light.turn_off\n    target:\n      entity_id: all\n"
        ),
        "scenes.yaml": b"[]\n",
        "secrets.yaml": b"# Fake secrets for the demo\nwifi_password: correct-horse-battery\n",
        "themes/.gitkeep": b"",
        ".storage/core.config_entries": _json_bytes(
            {
                "version": 1,
                "minor_version": 5,
                "key": "core.config_entries",
                "data": {
                    "entries": [
                        {
                            "entry_id": "01JD2Y7Q8M5V4R3T2S1P0N9K8J",
                            "domain": "mqtt",
                            "title": "Mosquitto Mqtt Broker",
                            "data": {"broker": "core-mosquitto", "port": 1883},
                            "source": "hassio",
                        },
                        {
                            "entry_id": "01JD2Y7Q8M5V4R3T2S1P0N9K8K",
                            "domain": "met",
                            "title": "Home",
                            "data": {"track_home": True},
                            "source": "onboarding",
                        },
                    ]
                },
            }
        ),
        ".storage/core.entity_registry": _json_bytes(
            {
                "version": 1,
                "minor_version": 15,
                "key": "core.entity_registry",
                "data": {
                    "entities": [
                        {
                            "entity_id": "light.hallway",
                            "platform": "mqtt",
                            "unique_id": "hallway-light",
                        },
                        {
                            "entity_id": "binary_sensor.hallway_motion",
                            "platform": "mqtt",
                            "unique_id": "hallway-pir",
                        },
                    ]
                },
            }
        ),
        ".storage/auth": _json_bytes(
            {
                "version": 1,
                "minor_version": 1,
                "key": "auth",
                "data": {
                    "users": [
                        {"id": "7f1c0c3b2a194d8e9f6a5b4c3d2e1f00", "name": "Demo", "is_owner": True}
                    ],
                    "refresh_tokens": [
                        {
                            "id": "rt-demo",
                            "token": "0123456789abcdef" * 8,
                            "user_id": "7f1c0c3b2a194d8e9f6a5b4c3d2e1f00",
                        }
                    ],
                },
            }
        ),
    }
    if include_database:
        files["home-assistant_v2.db"] = fake_sqlite_database(database_size_bytes)
    return files


def homeassistant_archive_entries(
    homeassistant_version: str = DEFAULT_HOMEASSISTANT_VERSION,
    *,
    layout: Literal["data", "folder"] = "data",
    with_supervisor_settings: bool = True,
    mtime: float = DEFAULT_ENTRY_MTIME,
    database_size_bytes: int = 96 * 1024,
) -> list[FileSpec]:
    """Entries of homeassistant.tar[.gz] (the root "." comes from ArchiveSpec).

    "data" is format v2 (Supervisor >= 2022.02, Core): `./homeassistant.json`
    with a "./" prefix, then `data` and `data/...` without one — the mixed
    naming real archives have (format-spec §3.5). Core-written archives
    have no `homeassistant.json` (`with_supervisor_settings=False`). "folder"
    is format v1: the /config files at the archive root.
    """
    config = homeassistant_config_files(
        homeassistant_version, database_size_bytes=database_size_bytes
    )
    if layout == "folder":
        return files_to_specs(config, mtime=mtime)
    settings = {
        "uuid": "4e2f8a7c1b9d4c3e8f5a6b7c8d9e0f1a",
        "version": homeassistant_version,
        "image": "ghcr.io/home-assistant/qemux86-64-homeassistant",
        "access_token": "fake-access-token-" + "a1" * 24,
        "boot": True,
        "port": 8123,
        "refresh_token": "fake-refresh-token-" + "b2" * 56,
        "ssl": False,
        "watchdog": True,
        "audio_output": None,
        "audio_input": None,
        "backups_exclude_database": False,
        "duplicate_log_file": False,
        "override_image": False,
    }
    data_files = {f"data/{relative}": content for relative, content in config.items()}
    data_specs = files_to_specs(data_files, mtime=mtime)
    if not with_supervisor_settings:
        return data_specs
    return [
        FileSpec("./homeassistant.json", content=_json_bytes(settings), mtime=mtime),
        *data_specs,
    ]


def addon_archive_entries(
    slug: str,
    *,
    version: str | None = None,
    options: Mapping[str, Any] | None = None,
    data_files: Mapping[str, bytes] | None = None,
    state: str = "started",
    mtime: float = DEFAULT_ENTRY_MTIME,
) -> list[FileSpec]:
    """Entries of an add-on archive: `./addon.json`, `./apparmor.txt`, `data/...`."""
    display_name, default_version = KNOWN_ADDONS.get(slug, (slug.title(), "1.0.0"))
    version = version or default_version
    options = dict(options) if options is not None else {"logins": [], "require_certificate": False}
    addon_json = {
        "user": {"options": options, "boot": "auto", "watchdog": True},
        "system": {
            "name": display_name,
            "slug": slug.split("_", 1)[-1],
            "version": version,
            "arch": ["aarch64", "amd64"],
        },
        "version": version,
        "state": state,
    }
    data = (
        dict(data_files) if data_files is not None else {"data/options.json": _json_bytes(options)}
    )
    return [
        FileSpec("./addon.json", content=_json_bytes(addon_json), mtime=mtime),
        FileSpec(
            "./apparmor.txt",
            content=f"#include <tunables/global>\nprofile {slug} {{\n}}\n".encode(),
            mtime=mtime,
        ),
        *files_to_specs(data, mtime=mtime),
    ]


def mosquitto_addon_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The Mosquitto broker add-on with its options and persistence file."""
    options = {
        "logins": [],
        "require_certificate": False,
        "certfile": "fullchain.pem",
        "keyfile": "privkey.pem",
    }
    return addon_archive_entries(
        "core_mosquitto",
        options=options,
        data_files={
            "data/options.json": _json_bytes(options),
            "data/mosquitto.db": random_content("mosquitto.db")(0, 3072),
            "data/system_user.json": _json_bytes(
                {"homeassistant": {"username": "homeassistant", "password": "fake"}}
            ),
        },
        mtime=mtime,
    )


def share_folder_entries(
    mtime: float = DEFAULT_ENTRY_MTIME, *, snapshot_size_bytes: int = 48 * 1024
) -> list[FileSpec]:
    """The share folder: notes, an incompressible camera snapshot, an empty dir.

    The JPEG-like snapshot is random bytes, so gzip stores it uncompressed;
    that gives `find_crc_breaking_offset` a place to damage.
    """
    snapshot = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random_content("snapshot")(
        0, snapshot_size_bytes
    )
    return [
        *files_to_specs(
            {
                "notes.txt": b"Shopping list: milk, coffee, batteries for the hallway sensor.\n",
                "camera/front_door_2026-11-19.jpg": snapshot,
            },
            mtime=mtime,
        ),
        FileSpec("music", type="dir", mtime=mtime),
    ]


def ssl_folder_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The ssl folder with a fake certificate pair."""
    body = base64.encodebytes(random_content("certificate")(0, 900))
    return files_to_specs(
        {
            "fullchain.pem": b"-----BEGIN CERTIFICATE-----\n"
            + body
            + b"-----END CERTIFICATE-----\n",
            "privkey.pem": b"-----BEGIN PRIVATE KEY-----\n"
            + body[:400]
            + b"\n-----END PRIVATE KEY-----\n",
        },
        mtime=mtime,
    )


def media_folder_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The media folder with one short recording."""
    return files_to_specs(
        {"recordings/doorbell.mp4": random_content("doorbell")(0, 8192)}, mtime=mtime
    )


def addons_local_folder_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """The addons/local folder with one locally built add-on's sources."""
    return files_to_specs(
        {
            "hello_world/Dockerfile": (
                b'ARG BUILD_FROM\nFROM $BUILD_FROM\nCOPY run.sh /\nCMD ["/run.sh"]\n'
            ),
            "hello_world/run.sh": (
                b"#!/usr/bin/with-contenv bashio\nbashio::log.info 'Hello world'\n"
            ),
            "hello_world/DOCS.md": b"# Hello world\n\nA local demo add-on.\n",
        },
        mtime=mtime,
    )


def supervisor_archive_entries(mtime: float = DEFAULT_ENTRY_MTIME) -> list[FileSpec]:
    """supervisor.tar.gz content (2026.03.3+): mounts and registries (format-spec §3.5)."""
    mounts = {
        "default_backup_mount": "nas_backups",
        "mounts": [
            {
                "name": "nas_backups",
                "usage": "backup",
                "type": "cifs",
                "server": "nas.local",
                "share": "backups",
                "username": "ha",
                "password": "fake-nas-password",
            }
        ],
    }
    registries = {
        "registries": {"ghcr.io": {"username": "demo", "password": "fake-registry-token"}}
    }
    return [
        FileSpec("mounts.json", content=_json_bytes(mounts), mtime=mtime),
        FileSpec("docker.json", content=_json_bytes(registries), mtime=mtime),
    ]


# --------------------------------------------------------------------------
# Era presets (format-spec §3.1, §4.1)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenArchive:
    """What a preset wrote for one component."""

    component: str
    member_name: str
    encryption: Encryption
    is_gzip: bool
    is_listed_in_metadata: bool


@dataclass(frozen=True)
class WrittenBackup:
    """A preset's result: where it wrote, how to open it, what to expect inside."""

    preset_name: str
    description: str
    path: Path
    password: str | None
    metadata_name: str
    outer_format: TarDialect
    archives: tuple[WrittenArchive, ...] = field(default_factory=tuple)

    @property
    def archive_member_names(self) -> tuple[str, ...]:
        """Outer member names of the inner archives, in write order."""
        return tuple(archive.member_name for archive in self.archives)


def _write_preset(
    directory: Path,
    *,
    preset_name: str,
    description: str,
    file_name: str,
    archives: Sequence[ArchiveSpec],
    password: str | None,
    metadata: Mapping[str, Any] | bytes,
    metadata_name: str = "./backup.json",
    outer_format: TarDialect = "pax",
    inner_dot_slash: bool = False,
    **write_options: Any,
) -> WrittenBackup:
    """Write a preset backup and describe it."""
    path = write_backup(
        Path(directory) / file_name,
        archives,
        password=password,
        metadata=metadata,
        metadata_name=metadata_name,
        outer_format=outer_format,
        inner_dot_slash=inner_dot_slash,
        **write_options,
    )
    written = tuple(
        WrittenArchive(
            component=archive.name,
            member_name=archive.outer_member_name(dot_slash=inner_dot_slash),
            encryption=archive.encryption,
            is_gzip=archive.compressed,
            is_listed_in_metadata=archive.is_listed_in_metadata,
        )
        for archive in archives
    )
    return WrittenBackup(
        preset_name=preset_name,
        description=description,
        path=path,
        password=password,
        metadata_name=metadata_name,
        outer_format=outer_format,
        archives=written,
    )


def _timestamp(date: str) -> float:
    """POSIX time of an ISO date string."""
    return datetime.fromisoformat(date).timestamp()


def core_style_file_name(name: str, date: str) -> str:
    """Core's file name: "<name>_<YYYY-MM-DD_HH.MM_SSffffff>.tar", whitespace as "_"."""
    moment = datetime.fromisoformat(date)
    return re.sub(r"\s+", "_", f"{name} {moment:%Y-%m-%d %H.%M %S%f}") + ".tar"


def supervisor_2019_gnu_snapshot(directory: Path) -> WrittenBackup:
    """Supervisor 192 (2019-09, Python 3.7): GNU tar, ./snapshot.json, v1-legacy, "./" names."""
    password, date, name = "hassio-2019", "2019-09-14T02:00:03.512233+00:00", "Weekly 2019-09-14"
    mtime = _timestamp(date) - 3600.25
    common: dict[str, Any] = {
        "encryption": "v1-legacy",
        "entry_dot_slash": True,
        "inner_format": "gnu",
        "root_mtime": mtime,
    }
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("0.99.3", layout="folder", mtime=mtime),
            **common,
        ),
        ArchiveSpec(
            "core_ssh", addon_archive_entries("core_ssh", version="6.4", mtime=mtime), **common
        ),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
        ArchiveSpec("ssl", ssl_folder_entries(mtime), **common),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="0.99.3",
        supervisor_version="192",
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2019_gnu_snapshot",
        description=supervisor_2019_gnu_snapshot.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=password,
        metadata=serialize_metadata(metadata, indent=2),
        metadata_name="./snapshot.json",
        outer_format="gnu",
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=float(int(_timestamp(date))),
        outer_float_mtime=False,
    )


def supervisor_2021_pax_backup_json(directory: Path) -> WrittenBackup:
    """Supervisor 2021.09 (temp dir, PAX): ./backup.json, format-v1 metadata, v1-legacy."""
    password, date, name = (
        "pässwörd-2021",
        "2021-10-03T01:30:11.004512+00:00",
        "Full Backup 2021-10-03",
    )
    mtime = _timestamp(date) - 120.5
    common: dict[str, Any] = {"encryption": "v1-legacy", "root_mtime": mtime}
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2021.9.7", layout="folder", mtime=mtime),
            **common,
        ),
        ArchiveSpec("core_mosquitto", mosquitto_addon_entries(mtime), **common),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
        ArchiveSpec("media", media_folder_entries(mtime), **common),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="2021.9.7",
        supervisor_version="2021.09.0",
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2021_pax_backup_json",
        description=supervisor_2021_pax_backup_json.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=password,
        metadata=serialize_metadata(metadata, indent=2),
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=_timestamp(date),
    )


def supervisor_2022_uncompressed(directory: Path) -> WrittenBackup:
    """Supervisor 2022.11 `compressed: false`: legacy v1 over plain .tar archives (no padding)."""
    password, date, name = "uncompressed-2022", "2022-11-27T04:12:45.771203+00:00", "Before upgrade"
    mtime = _timestamp(date) - 30.75
    common: dict[str, Any] = {"encryption": "v1-legacy", "compressed": False, "root_mtime": mtime}
    archives = [
        ArchiveSpec(
            "homeassistant", homeassistant_archive_entries("2022.11.5", mtime=mtime), **common
        ),
        ArchiveSpec("core_mosquitto", mosquitto_addon_entries(mtime), **common),
        ArchiveSpec("ssl", ssl_folder_entries(mtime), **common),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="2022.11.5",
        supervisor_version="2022.11.2",
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2022_uncompressed",
        description=supervisor_2022_uncompressed.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=password,
        metadata=serialize_metadata(metadata, indent=2),
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=_timestamp(date),
    )


def supervisor_2022_name_mismatch(directory: Path) -> WrittenBackup:
    """Supervisor 2022.05 bug: `compressed: false`, yet homeassistant.tar.gz is gzip (§3.5)."""
    password, date, name = "mismatch-2022", "2022-05-08T02:45:00.125000+00:00", "Nightly 2022-05-08"
    mtime = _timestamp(date) - 45.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2022.5.2", mtime=mtime),
            encryption="v1-legacy",
            compressed=True,
            root_mtime=mtime,
        ),
        ArchiveSpec(
            "core_ssh",
            addon_archive_entries("core_ssh", version="10.0.2", mtime=mtime),
            encryption="v1-legacy",
            compressed=False,
            root_mtime=mtime,
        ),
        ArchiveSpec(
            "share",
            share_folder_entries(mtime),
            encryption="v1-legacy",
            compressed=False,
            root_mtime=mtime,
        ),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        compressed=False,
        homeassistant_version="2022.5.2",
        supervisor_version="2022.05.3",
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2022_name_mismatch",
        description=supervisor_2022_name_mismatch.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=password,
        metadata=serialize_metadata(metadata, indent=2),
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=_timestamp(date),
    )


def supervisor_2023_plain_partial(directory: Path) -> WrittenBackup:
    """Supervisor 2023.06 partial backup, unencrypted, stream-mode gzip (securetar 2023.3.0)."""
    date, name = "2023-06-18T10:05:59.902311+00:00", "Before SSH update"
    mtime = _timestamp(date) - 10.5
    common: dict[str, Any] = {"plain_gzip_style": "stream", "root_mtime": mtime}
    archives = [
        ArchiveSpec(
            "core_ssh", addon_archive_entries("core_ssh", version="15.0.1", mtime=mtime), **common
        ),
        ArchiveSpec("ssl", ssl_folder_entries(mtime), **common),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        homeassistant_version="2023.6.2",
        supervisor_version="2023.06.4",
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2023_plain_partial",
        description=supervisor_2023_plain_partial.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=None,
        metadata=serialize_metadata(metadata, indent=2),
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=_timestamp(date),
    )


def supervisor_2024_streamed(directory: Path) -> WrittenBackup:
    """Supervisor 2024.06 streamed: no ".", names without "./", ./backup.json last, v1-legacy."""
    password, date, name = (
        "streamed-2024",
        "2024-06-30T03:00:00.481516+00:00",
        "Automatic backup 2024.6.4",
    )
    mtime = _timestamp(date) - 600.125
    common: dict[str, Any] = {"encryption": "v1-legacy", "root_mtime": mtime}
    archives = [
        ArchiveSpec(
            "homeassistant", homeassistant_archive_entries("2024.6.4", mtime=mtime), **common
        ),
        ArchiveSpec("core_mosquitto", mosquitto_addon_entries(mtime), **common),
        ArchiveSpec(
            "a0d7b954_vscode", addon_archive_entries("a0d7b954_vscode", mtime=mtime), **common
        ),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
        ArchiveSpec("addons_local", addons_local_folder_entries(mtime), **common),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="2024.6.4",
        supervisor_version="2024.06.2",
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2024_streamed",
        description=supervisor_2024_streamed.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="last",
        legacy_bufsize=SUPERVISOR_STREAM_BUFSIZE,
        outer_mtime=_timestamp(date),
    )


def supervisor_2025_v2(directory: Path) -> WrittenBackup:
    """Supervisor 2025.03 streamed with SecureTar v2 (emergency-kit style key)."""
    password, date, name = (
        "K3T9-Q8ZL-0M2D-7XWA-P5RU-1YHB-C6EN",
        "2025-03-16T04:45:10.662093+00:00",
        "Automatic backup 2025.3.3",
    )
    mtime = _timestamp(date) - 300.5
    common: dict[str, Any] = {"encryption": "v2", "root_mtime": mtime}
    archives = [
        ArchiveSpec(
            "homeassistant", homeassistant_archive_entries("2025.3.3", mtime=mtime), **common
        ),
        ArchiveSpec("core_mosquitto", mosquitto_addon_entries(mtime), **common),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
        ArchiveSpec("ssl", ssl_folder_entries(mtime), **common),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="2025.3.3",
        supervisor_version="2025.03.4",
        extra={
            "instance_id": "5b8c1e0f7a6d4e2c9b3a1f0e8d7c6b5a",
            "with_automatic_settings": True,
            "supervisor.backup_request_date": date,
        },
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2025_v2",
        description=supervisor_2025_v2.__doc__ or "",
        file_name=core_style_file_name(name, date),
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="last",
        outer_mtime=_timestamp(date),
    )


def supervisor_2026_v3(directory: Path) -> WrittenBackup:
    """Supervisor 2026.04 with SecureTar v3 and an unlisted supervisor.tar.gz."""
    password, date, name = (
        "R7WQ-2MXD-H4LK-9PZA-0VBN-T6YC-S1EJ",
        "2026-04-19T04:46:02.118204+00:00",
        "Automatic backup 2026.4.2",
    )
    mtime = _timestamp(date) - 240.5
    common: dict[str, Any] = {"encryption": "v3", "root_mtime": mtime}
    archives = [
        ArchiveSpec(
            "homeassistant", homeassistant_archive_entries("2026.4.2", mtime=mtime), **common
        ),
        ArchiveSpec("core_mosquitto", mosquitto_addon_entries(mtime), **common),
        ArchiveSpec("core_ssh", addon_archive_entries("core_ssh", mtime=mtime), **common),
        ArchiveSpec("share", share_folder_entries(mtime), **common),
        ArchiveSpec("media", media_folder_entries(mtime), **common),
        ArchiveSpec(
            "supervisor", supervisor_archive_entries(mtime), include_root_entry=False, **common
        ),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="2026.4.2",
        supervisor_version="2026.04.0",
        extra={
            "instance_id": "5b8c1e0f7a6d4e2c9b3a1f0e8d7c6b5a",
            "with_automatic_settings": True,
            "supervisor.backup_request_date": date,
        },
    )
    return _write_preset(
        directory,
        preset_name="supervisor_2026_v3",
        description=supervisor_2026_v3.__doc__ or "",
        file_name=core_style_file_name(name, date),
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="last",
        outer_mtime=_timestamp(date),
    )


def core_2023_unencrypted(directory: Path) -> WrittenBackup:
    """Core 2023.5 (2022.4 … 2024.10 style): temp dir, ".", "./" names, plain stream gzip."""
    date = "2023-05-20T03:14:05.123456+02:00"
    mtime = _timestamp(date) - 5.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2023.5.4", with_supervisor_settings=False, mtime=mtime),
            plain_gzip_style="stream",
            root_mtime=mtime,
        ),
    ]
    metadata = make_metadata(archives, producer="core", date=date, homeassistant_version="2023.5.4")
    return _write_preset(
        directory,
        preset_name="core_2023_unencrypted",
        description=core_2023_unencrypted.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=None,
        metadata=metadata,
        inner_dot_slash=True,
        outer_dot_entry=True,
        metadata_position="sorted",
        outer_mtime=_timestamp(date),
    )


def core_2025_1_legacy(directory: Path) -> WrittenBackup:
    """Core 2025.1 (securetar 2024.11.0): ./backup.json first, homeassistant.tar.gz v1-legacy."""
    password, date = "A1B2-C3D4-E5F6-G7H8-J9K0-LMNP-QRST", "2025-01-12T04:40:12.337411+01:00"
    name = "Automatic backup 2025.1.4"
    mtime = _timestamp(date) - 60.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2025.1.4", with_supervisor_settings=False, mtime=mtime),
            encryption="v1-legacy",
            root_mtime=mtime,
        ),
    ]
    metadata = make_metadata(
        archives, producer="core", name=name, date=date, homeassistant_version="2025.1.4"
    )
    return _write_preset(
        directory,
        preset_name="core_2025_1_legacy",
        description=core_2025_1_legacy.__doc__ or "",
        file_name=core_style_file_name(name, date),
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="first",
        outer_mtime=_timestamp(date),
    )


def core_2025_v2(directory: Path) -> WrittenBackup:
    """Core 2025.6 (securetar 2025.2.x): ./backup.json first, homeassistant.tar.gz v2."""
    password, date = "A1B2-C3D4-E5F6-G7H8-J9K0-LMNP-QRST", "2025-06-08T04:40:55.000123+02:00"
    name = "Automatic backup 2025.6.1"
    mtime = _timestamp(date) - 60.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2025.6.1", with_supervisor_settings=False, mtime=mtime),
            encryption="v2",
            root_mtime=mtime,
        ),
    ]
    metadata = make_metadata(
        archives, producer="core", name=name, date=date, homeassistant_version="2025.6.1"
    )
    return _write_preset(
        directory,
        preset_name="core_2025_v2",
        description=core_2025_v2.__doc__ or "",
        file_name=core_style_file_name(name, date),
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="first",
        outer_mtime=_timestamp(date),
    )


def core_2026_v3_downloaded(directory: Path) -> WrittenBackup:
    """Core 2026.11 v3 backup as downloaded: 30 KiB of NUL bytes after the tar end (§4.3)."""
    password, date = "X9Y8-Z7W6-V5U4-T3S2-R1Q0-PONM-LKJH", "2026-11-18T04:41:37.654321+01:00"
    name = "Automatic backup 2026.11.1"
    mtime = _timestamp(date) - 60.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2026.11.1", with_supervisor_settings=False, mtime=mtime),
            encryption="v3",
            root_mtime=mtime,
        ),
    ]
    metadata = make_metadata(
        archives, producer="core", name=name, date=date, homeassistant_version="2026.11.1"
    )
    return _write_preset(
        directory,
        preset_name="core_2026_v3_downloaded",
        description=core_2026_v3_downloaded.__doc__ or "",
        file_name=core_style_file_name(name, date),
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="first",
        trailing_nul_bytes=3 * tarfile.RECORDSIZE,
        outer_mtime=_timestamp(date),
    )


def securetar_2025_1_fixed_padding(directory: Path) -> WrittenBackup:
    """securetar 2025.1.0-2025.1.2: v1 with correct padding and `_securetar.*` PAX records."""
    password, date, name = (
        "fixed-padding-2025",
        "2025-01-14T12:00:00.000001+00:00",
        "securetar 2025.1.1 test",
    )
    mtime = _timestamp(date) - 1.5
    archives = [
        ArchiveSpec(
            "homeassistant",
            homeassistant_archive_entries("2025.1.2", mtime=mtime),
            encryption="v1-fixed",
            root_mtime=mtime,
        ),
        ArchiveSpec(
            "ssl",
            ssl_folder_entries(mtime),
            encryption="v1-fixed",
            compressed=False,
            root_mtime=mtime,
        ),
    ]
    metadata = make_metadata(
        archives,
        name=name,
        date=date,
        password=password,
        homeassistant_version="2025.1.2",
        supervisor_version="2024.12.3",
    )
    return _write_preset(
        directory,
        preset_name="securetar_2025_1_fixed_padding",
        description=securetar_2025_1_fixed_padding.__doc__ or "",
        file_name=f"{metadata['slug']}.tar",
        archives=archives,
        password=password,
        metadata=metadata,
        metadata_position="last",
        outer_mtime=_timestamp(date),
    )


PresetWriter = Callable[[Path], WrittenBackup]


def era_presets() -> dict[str, PresetWriter]:
    """All era presets by name, oldest first; each writes one backup into a directory."""
    writers: Iterable[PresetWriter] = (
        supervisor_2019_gnu_snapshot,
        supervisor_2021_pax_backup_json,
        supervisor_2022_name_mismatch,
        supervisor_2022_uncompressed,
        supervisor_2023_plain_partial,
        core_2023_unencrypted,
        supervisor_2024_streamed,
        core_2025_1_legacy,
        securetar_2025_1_fixed_padding,
        supervisor_2025_v2,
        core_2025_v2,
        supervisor_2026_v3,
        core_2026_v3_downloaded,
    )
    return {writer.__name__: writer for writer in writers}


__all__ = [
    "ArchiveSpec",
    "FileSpec",
    "LegacyPaddingEncryptWriter",
    "WrittenArchive",
    "WrittenBackup",
    "addon_archive_entries",
    "append_bytes",
    "compute_slug",
    "core_style_file_name",
    "derive_aes_iv",
    "derive_aes_key",
    "encrypt_legacy_metadata_value",
    "era_presets",
    "files_to_specs",
    "find_crc_breaking_offset",
    "flip_byte",
    "homeassistant_archive_entries",
    "legacy_protected_digit",
    "make_metadata",
    "member_location",
    "patterned_content",
    "random_content",
    "serialize_metadata",
    "truncate_file",
    "write_backup",
]
