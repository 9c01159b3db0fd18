"""Read a backup back with plain tarfile and the pinned securetar only, never with our reader.

Copies are judged by what Home Assistant's own libraries see: the outer tar
through tarfile, encrypted inner archives through securetar's
SecureTarArchive.extract_tar, and the inner tar through tarfile again.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from securetar import SecureTarArchive

from backup_inspector.backup_format.metadata_schema import SCHEMA_BACKUP_METADATA

SECURETAR_MAGIC = b"SecureTar"


@dataclass(frozen=True)
class EntryFacts:
    """Everything a restore keeps of one entry."""

    type: bytes
    mode: int
    mtime: float
    uid: int
    gid: int
    uname: str
    gname: str
    linkname: str
    data: bytes | None


@dataclass
class ReadBack:
    """A backup as tarfile and securetar see it."""

    metadata: dict[str, Any]
    member_names: list[str]
    raw_members: dict[str, bytes]  # outer member name -> its bytes
    securetar_versions: dict[str, int | None]  # inner base name -> version (None: plain)
    entries: dict[str, dict[str, EntryFacts]]  # inner base name -> path -> facts

    def files(self, archive: str) -> dict[str, bytes]:
        """Regular files of one archive: normalised path -> bytes."""
        return {
            path: facts.data
            for path, facts in self.entries[archive].items()
            if facts.data is not None
        }


def file_sha256(path: Path) -> str:
    """The SHA-256 of a whole file (the source must never change)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _base_name(member_name: str) -> str:
    name = member_name.removeprefix("./")
    for suffix in (".tar.gz", ".tar"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _normalised(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") or "."


def _inner_entries(inner: tarfile.TarFile) -> dict[str, EntryFacts]:
    entries: dict[str, EntryFacts] = {}
    for info in inner:
        handle = inner.extractfile(info) if info.isreg() else None
        entries[_normalised(info.name)] = EntryFacts(
            type=info.type,
            mode=info.mode,
            mtime=float(info.mtime),
            uid=info.uid,
            gid=info.gid,
            uname=info.uname,
            gname=info.gname,
            linkname=info.linkname,
            data=handle.read() if handle is not None else None,
        )
    return entries


def _is_plain(data: bytes) -> bool:
    """gzip or tar bytes (no encryption); anything else is SecureTar v1, which has no magic."""
    return data.startswith(b"\x1f\x8b") or data[257:262] == b"ustar"


def read_back(path: Path, password: str | None) -> ReadBack:
    """Read every member of the backup at `path`; metadata validated against the mirrored schema."""
    with tarfile.open(path, "r:") as outer:
        members = [m for m in outer.getmembers() if m.isfile()]
        raw = {m.name: outer.extractfile(m).read() for m in members}
    metadata_name = next(n for n in raw if n.removeprefix("./") == "backup.json")
    metadata = json.loads(raw[metadata_name])
    SCHEMA_BACKUP_METADATA(json.loads(raw[metadata_name]))  # raises if the Supervisor would refuse
    versions: dict[str, int | None] = {}
    entries: dict[str, dict[str, EntryFacts]] = {}
    for name, data in raw.items():
        if name == metadata_name:
            continue
        base = _base_name(name)
        if data.startswith(SECURETAR_MAGIC) or (password is not None and not _is_plain(data)):
            versions[base] = data[len(SECURETAR_MAGIC)] if data.startswith(SECURETAR_MAGIC) else 1
            with (
                SecureTarArchive(path, "r", password=password) as archive,
                archive.extract_tar(archive.tar.getmember(name)) as plain,
                tarfile.open(fileobj=plain, mode="r|*") as inner,
            ):
                entries[base] = _inner_entries(inner)
        else:
            versions[base] = None
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as inner:
                entries[base] = _inner_entries(inner)
    return ReadBack(metadata, [m.name for m in members], raw, versions, entries)
