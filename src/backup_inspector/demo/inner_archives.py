"""Build one inner archive (plain, gzip or SecureTar v1/v2/v3) into the outer tar.

Every inner archive is first built into an anonymous temporary file next to
the output, then copied (and encrypted, where asked) into the outer tar in
bounded chunks, so multi-hundred-megabyte backups never sit in memory.
"""

from __future__ import annotations

import gzip
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from securetar import SecureTarEncryptStream, SecureTarRootKeyContext

from backup_inspector.demo.entry_specs import ArchiveSpec, with_dot_slash
from backup_inspector.demo.legacy_crypto import LegacyPaddingEncryptWriter, encrypt_v1_fixed

LEGACY_DEFAULT_BUFSIZE = tarfile.RECORDSIZE  # 10240, Python's stream default (§2.3)
SUPERVISOR_STREAM_BUFSIZE = 4 * 1024 * 1024  # Supervisor >= 2023.04.1 (§2.3)
GZIP_FILE_COMPRESSLEVEL = 6  # securetar >= 2023.12.0 unencrypted, `w:gz` (§2.8)

TARFILE_FORMATS: Mapping[str, int] = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT}
_SECURETAR_CREATE_VERSIONS: Mapping[str, int] = {"v2": 2, "v3": 3}


def root_entry(mtime: float) -> tarfile.TarInfo:
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
        tar.addfile(root_entry(archive.root_mtime))
    for spec in archive.file_specs():
        stored_name = with_dot_slash(spec.path) if archive.entry_dot_slash else spec.path
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
        format=TARFILE_FORMATS[archive.inner_format],
        encoding="utf-8",
    ) as tar:
        _add_entries(tar, archive)


def _write_file_tar(archive: ArchiveSpec, destination: IO[bytes], gzip_name: str) -> None:
    """Write a plain inner tar the way `tarfile.open(name, "w:gz")` does.

    Supervisor >= 2023.12 opened plain archives as `w:gz` with compresslevel
    6 and the archive name, so the gzip header carries FNAME "<name>.tar".
    Building GzipFile ourselves only adds a fixed MTIME for reproducibility.
    """
    tar_format = TARFILE_FORMATS[archive.inner_format]
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


class RootKeyContexts:
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


def add_archive_member(
    outer: tarfile.TarFile,
    archive: ArchiveSpec,
    *,
    member_name: str,
    password: str | None,
    contexts: RootKeyContexts,
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
                encrypt_v1_fixed(built, encrypted, effective_password)
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
