"""Write one complete backup file: the outer tar around metadata and inner archives."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from backup_inspector.demo.corruption import append_bytes
from backup_inspector.demo.entry_specs import ArchiveSpec, TarDialect
from backup_inspector.demo.inner_archives import (
    LEGACY_DEFAULT_BUFSIZE,
    TARFILE_FORMATS,
    RootKeyContexts,
    add_archive_member,
    root_entry,
)
from backup_inspector.demo.metadata_builder import (
    DEFAULT_BACKUP_DATE,
    make_metadata,
    serialize_metadata,
)

OUTER_COPY_CHUNK_BYTES = 1024 * 1024  # outer tar copy chunk: bounded memory
DEFAULT_OUTER_MTIME = datetime.fromisoformat(DEFAULT_BACKUP_DATE).timestamp()

MetadataPosition = Literal["first", "last", "sorted"]


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

    contexts = RootKeyContexts()
    member_mtime = outer_mtime if outer_float_mtime else int(outer_mtime)
    # copybufsize: copy member data in 1 MiB reads (the default 16 KiB makes
    # securetar's encrypt readers re-slice their buffer quadratically).
    with tarfile.open(  # type: ignore[call-overload]
        path,
        mode="w",
        format=TARFILE_FORMATS[outer_format],
        encoding="utf-8",
        copybufsize=OUTER_COPY_CHUNK_BYTES,
    ) as outer:
        if outer_dot_entry:
            outer.addfile(root_entry(int(outer_mtime) if outer_format == "gnu" else outer_mtime))
        for member_name, archive in members:
            if archive is None:
                assert metadata_bytes is not None
                info = tarfile.TarInfo(metadata_name)
                info.size = len(metadata_bytes)
                info.mode = 0o644
                info.mtime = int(outer_mtime)
                outer.addfile(info, io.BytesIO(metadata_bytes))
                continue
            add_archive_member(
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
