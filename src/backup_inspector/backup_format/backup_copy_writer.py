"""Write a new backup file from an existing one: archives copied, rewritten or left out.

The outer tar and every new inner archive are written by the pinned
`securetar` (`SecureTarArchive.create_tar`), exactly as the Supervisor writes
a backup: a PAX outer tar, gzip through tarfile, SecureTar v3 when a password
is given. We never encrypt by hand. Archives that do not change are copied
byte for byte, whatever their encryption. Entries of a rewritten archive go
through Python's tarfile one by one, so names, modes, times, owners and link
targets stay as they were; only an edited entry gets new bytes.

Everything streams: tarfile copies entry data in bounded pieces, and the
source's tar bytes come from `inner_tar_stream`.
"""

from __future__ import annotations

import copy
import io
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from securetar import SecureTarArchive

from .tar_entry import normalise_member_path

COPY_BUFFER_BYTES = 1024 * 1024  # tarfile's default (16 KiB) costs ~30 % on large archives
SECURETAR_CREATE_VERSION = 3  # what current Home Assistant writes (format-spec §2.5)
NEW_ENTRY_MODE = 0o644


class ArchiveEditError(ValueError):
    """An edit cannot be applied: the path is missing, or is not a regular file."""


@dataclass(frozen=True)
class Replacement:
    """New content for one entry: how to open it, its size and its modification time."""

    open: Callable[[], BinaryIO]
    size: int
    mtime: float


@dataclass
class ArchiveEdits:
    """Edits to one inner archive, by normalised path: a Replacement, or None to delete.

    `done` lists what was applied, in archive order: {"path", "action"} with
    action "replaced", "added" or "deleted".
    """

    by_path: dict[str, Replacement | None] = field(default_factory=dict)
    done: list[dict[str, str]] = field(default_factory=list)

    def record(self, path: str, action: str) -> None:
        """Note one applied edit."""
        self.done.append({"path": path, "action": action})


def _replaced_info(info: tarfile.TarInfo, replacement: Replacement) -> tarfile.TarInfo:
    """The old entry's header with the new size and time; owner, mode and name stay."""
    new = copy.copy(info)
    new.size = replacement.size
    new.mtime = replacement.mtime
    # A PAX record would win over the attributes when the header is written.
    new.pax_headers = {k: v for k, v in info.pax_headers.items() if k not in ("size", "mtime")}
    return new


def _added_info(path: str, replacement: Replacement, uses_dot_slash: bool) -> tarfile.TarInfo:
    """A header for a new regular file, named in the archive's own style ("./" or not)."""
    info = tarfile.TarInfo(f"./{path}" if uses_dot_slash else path)
    info.size = replacement.size
    info.mtime = replacement.mtime
    info.mode = NEW_ENTRY_MODE
    return info


class BackupCopyWriter:
    """Writes the outer tar of a copy into an open binary file, through securetar.

    `password` is the one new archives are encrypted with (SecureTar v3), or
    None for unencrypted archives. Use as a context manager; the caller owns
    the file (temporary name, fsync, rename).
    """

    def __init__(self, out: BinaryIO, password: str | None) -> None:
        self._archive = SecureTarArchive(
            fileobj=out,
            mode="w",
            password=password,
            create_version=SECURETAR_CREATE_VERSION,
        )

    def __enter__(self) -> BackupCopyWriter:
        self._archive.open()
        self._archive.tar.copybufsize = COPY_BUFFER_BYTES
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._archive.close()

    def copy_member(self, name: str, source: BinaryIO, size: int) -> None:
        """Add a member whose `size` bytes are read from `source` unchanged (byte for byte)."""
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = time.time()
        info.mode = NEW_ENTRY_MODE
        self._archive.tar.addfile(info, source)

    def add_metadata(self, name: str, data: bytes) -> None:
        """Add backup.json."""
        self.copy_member(name, io.BytesIO(data), len(data))

    def rewrite_archive(
        self, name: str, *, is_gzip: bool, source_tar: BinaryIO, edits: ArchiveEdits
    ) -> None:
        """Write a new inner archive from the source's tar stream, applying `edits`.

        Raises ArchiveEditError when an edit does not fit the archive (the
        caller discards the whole copy then).
        """
        pending = dict(edits.by_path)
        uses_dot_slash = False
        with (
            self._archive.create_tar(name, gzip=is_gzip) as out_tar,
            tarfile.open(fileobj=source_tar, mode="r|") as source,
        ):
            out_tar.copybufsize = COPY_BUFFER_BYTES
            for info in source:
                uses_dot_slash = uses_dot_slash or info.name.startswith("./")
                path = normalise_member_path(info.name)
                if path not in edits.by_path:
                    out_tar.addfile(info, source.extractfile(info) if info.isreg() else None)
                    continue
                pending.pop(path, None)
                self._apply_edit(out_tar, info, path, edits)
            for path, replacement in pending.items():
                if replacement is None:
                    raise ArchiveEditError(f"{path} is not in {name}: nothing to delete")
                with replacement.open() as data:
                    out_tar.addfile(_added_info(path, replacement, uses_dot_slash), data)
                edits.record(path, "added")

    @staticmethod
    def _apply_edit(
        out_tar: tarfile.TarFile, info: tarfile.TarInfo, path: str, edits: ArchiveEdits
    ) -> None:
        """Replace or leave out one existing entry."""
        replacement = edits.by_path[path]
        if info.isdir():
            raise ArchiveEditError(f"{path} is a folder: only files can be replaced or deleted")
        if replacement is None:
            edits.record(path, "deleted")
            return
        if not info.isreg():
            raise ArchiveEditError(f"{path} is a link, not a file: it cannot be replaced")
        with replacement.open() as data:
            out_tar.addfile(_replaced_info(info, replacement), data)
        edits.record(path, "replaced")
