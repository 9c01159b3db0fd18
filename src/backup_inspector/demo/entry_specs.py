"""Declarative specs of inner-archive entries and archives, and their content.

Tests say which bytes they are about with `FileSpec` (one tar entry) and
`ArchiveSpec` (one inner archive of a backup); large regular files get their
bytes from seeded generators, so a 1 GB entry is reproducible from its path
and costs no memory. Nothing here writes a file.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Literal

GENERATOR_BLOCK_BYTES = 64 * 1024  # unit of the deterministic content generators

#: The supervisor inner archive is never listed in the metadata (§3.4).
UNLISTED_COMPONENTS = frozenset({"supervisor"})
#: A float on purpose: files archived from disk have float mtimes, which makes
#: Python's PAX writer emit a PAX header for every member (format-spec §3.1).
DEFAULT_ENTRY_MTIME = datetime.fromisoformat("2026-11-19T21:14:07.250000+00:00").timestamp()

EntryType = Literal["file", "dir", "symlink", "hardlink", "fifo", "chardev"]
Encryption = Literal["none", "v1-legacy", "v1-fixed", "v2", "v3"]
TarDialect = Literal["pax", "gnu"]
PlainGzipStyle = Literal["file", "stream"]
#: (offset, length) -> exactly `length` bytes of content starting at `offset`.
ContentGenerator = Callable[[int, int], bytes]

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


def with_dot_slash(name: str) -> str:
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


def archive_specs(
    components: Mapping[str, Sequence[FileSpec] | Mapping[str, bytes]], **options: Any
) -> list[ArchiveSpec]:
    """One ArchiveSpec per (component, entries) pair, all sharing `options`, in order.

    Era presets and demo backups give every archive of a backup the same
    encryption and root mtime; this keeps each list down to what differs.
    """
    return [ArchiveSpec(name, entries, **options) for name, entries in components.items()]
