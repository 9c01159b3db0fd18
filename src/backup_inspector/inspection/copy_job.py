"""Make a restorable copy of a backup: decrypt, new password, files changed, archives dropped.

The copy is written under a temporary name next to its destination, fsynced,
given the same full check the CLI's `check` runs (restore rehearsal included:
whatever `full_check` verifies), and only then renamed into place. On any
error, a cancel, a full disk or a failed check, the partial file is removed:
nothing half-written ever carries a backup's name, and Home Assistant never
lists a copy that did not pass. The source is only ever opened for reading.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..backup_format.archive_keys import ArchiveKeyRing
from ..backup_format.backup_copy_writer import (
    ArchiveEditError,
    ArchiveEdits,
    BackupCopyWriter,
    Replacement,
)
from ..backup_format.backup_metadata import MAX_METADATA_BYTES
from ..backup_format.copy_metadata import (
    COPY_METADATA_MEMBER,
    CopyMetadataError,
    copy_name,
    metadata_for_copy,
    new_copy_slug,
    serialize_copy_metadata,
)
from ..backup_format.findings import FindingCode
from ..backup_format.inner_archive import ArchiveReadError
from ..backup_format.inner_tar_stream import InnerTarStream
from ..backup_format.securetar_header import Encryption
from ..backup_format.tar_entry import normalise_member_path
from .archive_walk import ProgressTotals, finding_for_read_error, require_archive
from .backup_overview import BackupOverview, InnerArchive, open_backup
from .check_job import CheckReport, full_check, keyring_for, quick_check
from .progress import CancelToken, Progress, ProgressCallback

PARTIAL_SUFFIX = ".partial"  # not *.tar: the Supervisor never lists a copy being written
COPY_FILE_MODE = 0o600  # a decrypted copy is as secret as the password was
WRITING = "writing the copy"
CHECKING = "checking the copy"


class CopyError(Exception):
    """The copy cannot be made, or did not pass its check; nothing was left behind.

    `check` is the failed check of the copy, when it got that far.
    """

    def __init__(self, message: str, check: CheckReport | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.check = check


@dataclass(frozen=True)
class FileEdit:
    """Replace or add (`local_file`) or delete (None) one file inside one archive."""

    archive: str
    path: str
    local_file: Path | None


@dataclass(frozen=True)
class CopyRequest:
    """What the copy should be. `decrypt` and `new_password` exclude each other."""

    destination: Path
    name: str | None = None
    decrypt: bool = False
    new_password: str | None = None
    drop: tuple[str, ...] = ()
    edits: tuple[FileEdit, ...] = ()
    overwrite: bool = False
    taken_slugs: frozenset[str] = frozenset()


@dataclass
class CopyReport:
    """The copy that was written and passed its check."""

    path: Path
    slug: str
    name: str
    archives: list[str]
    dropped: list[dict[str, str]]
    changed: list[dict[str, Any]]
    check: CheckReport
    protected: bool = False

    def to_json(self) -> dict[str, object]:
        """Issue 12's `copy --json` shape."""
        return {
            "path": str(self.path),
            "slug": self.slug,
            "name": self.name,
            "archives": self.archives,
            "dropped": self.dropped,
            "changed": self.changed,
            "check": self.check.to_json(),
        }


@dataclass
class _Plan:
    """The request resolved against the source backup."""

    kept: list[InnerArchive]
    dropped: list[InnerArchive]
    edits: dict[str, ArchiveEdits]
    target_password: str | None  # what rewritten archives are encrypted with
    rewrite_all: bool
    is_protected: bool
    changed: list[dict[str, Any]] = field(default_factory=list)


def make_copy(
    overview: BackupOverview,
    password: str | None,
    request: CopyRequest,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    database_dir: Path | None = None,
) -> CopyReport:
    """Write the copy `request` describes and check it; CopyError if it cannot or fails.

    Raises ArchiveNotFoundError for an archive name the backup does not
    have, ValueError for contradictory options, FileExistsError when the
    destination exists and `overwrite` is false, OSError for I/O failures
    (a full disk) and JobCancelledError on cancel; in every case the partial
    file is gone.
    """
    plan = _plan(overview, password, request)
    metadata = _copy_metadata(overview, request, plan)
    if request.destination.exists() and not request.overwrite:
        raise FileExistsError(f"{request.destination} exists (allow replacing it to overwrite)")
    partial_path, partial = _open_partial(request.destination)
    try:
        with partial:
            _write(overview, password, plan, metadata, partial, progress, cancel)
            partial.flush()
            os.fsync(partial.fileno())
        check = _check_copy(partial_path, plan, password, progress, cancel, database_dir)
        _move_into_place(partial_path, request.destination, request.overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial_path.unlink()
        raise
    check.overview.path = request.destination
    return CopyReport(
        path=request.destination,
        slug=metadata["slug"],
        name=metadata["name"],
        archives=[a.file_name for a in plan.kept],
        dropped=[{"name": a.name, "archive": a.file_name, "label": a.label} for a in plan.dropped],
        changed=plan.changed,
        check=check,
        protected=plan.is_protected,
    )


# --- planning -----------------------------------------------------------------


def _plan(overview: BackupOverview, password: str | None, request: CopyRequest) -> _Plan:
    """Resolve names, refuse what cannot work, and decide what is rewritten how."""
    if request.decrypt and request.new_password is not None:
        raise ValueError("decrypt and a new password exclude each other")
    dropped_names = {require_archive(overview, name).name for name in request.drop}
    edits: dict[str, ArchiveEdits] = {}
    for edit in request.edits:
        archive = require_archive(overview, edit.archive)
        if archive.name in dropped_names:
            raise ValueError(f"{archive.name} is dropped: its files cannot be changed too")
        path = normalise_member_path(edit.path)
        edits.setdefault(archive.name, ArchiveEdits()).by_path[path] = _replacement(edit)
    kept = [a for a in overview.archives if a.name not in dropped_names]
    if not kept:
        raise CopyError("a copy without any archive would restore nothing")
    _refuse_unusable_source(overview, password, kept)
    rewrite_all = request.decrypt or request.new_password is not None
    if rewrite_all:
        target_password = request.new_password
        is_protected = request.new_password is not None
    else:
        target_password = password if overview.is_protected else None
        is_protected = any(a.encryption != Encryption.NONE for a in kept) or (
            bool(edits) and target_password is not None
        )
    return _Plan(
        kept=kept,
        dropped=[a for a in overview.archives if a.name in dropped_names],
        edits=edits,
        target_password=target_password,
        rewrite_all=rewrite_all,
        is_protected=is_protected,
    )


def _replacement(edit: FileEdit) -> Replacement | None:
    """The new content of an edit (None for a delete); the local file must be readable now."""
    if edit.local_file is None:
        return None
    local = edit.local_file
    stat = local.stat()  # OSError (missing, unreadable) reaches the caller before any write
    if not local.is_file():
        raise ValueError(f"{local} is not a file")
    return Replacement(open=lambda: local.open("rb"), size=stat.st_size, mtime=stat.st_mtime)


def _refuse_unusable_source(
    overview: BackupOverview, password: str | None, kept: list[InnerArchive]
) -> None:
    """Metadata, password and every kept archive must be usable before anything is written."""
    if overview.metadata is None or not overview.metadata.is_valid:
        raise CopyError(
            "the backup's metadata is missing or invalid, so Home Assistant could not use a copy "
            "of it either"
        )
    quick = quick_check(overview, password)
    for finding in quick.backup_problems:
        if finding.code in (FindingCode.WRONG_PASSWORD, FindingCode.PASSWORD_REQUIRED):
            raise CopyError(finding.message)
    kept_names = {a.name for a in kept}
    for check in quick.archives:
        if check.archive.name in kept_names and not check.ok:
            reason = check.problems[0].message if check.problems else "it is incomplete"
            raise CopyError(
                f"{check.archive.file_name} cannot be copied: {reason} Drop it to make a copy "
                "without it."
            )


def _copy_metadata(overview: BackupOverview, request: CopyRequest, plan: _Plan) -> dict[str, Any]:
    """The copy's backup.json, built from the original's raw metadata."""
    assert overview.metadata is not None  # checked by _refuse_unusable_source
    original = _raw_metadata(overview)
    name = request.name or copy_name(overview.metadata.name)
    taken = set(request.taken_slugs) | {overview.metadata.slug}
    try:
        return metadata_for_copy(
            original,
            name=name,
            slug=new_copy_slug(overview.metadata.date, name, taken),
            is_protected=plan.is_protected,
            archive_names={a.name for a in plan.kept},
        )
    except CopyMetadataError as err:
        raise CopyError(str(err)) from err


def _raw_metadata(overview: BackupOverview) -> dict[str, Any]:
    """The original metadata as stored (all keys, not only the ones we normalise)."""
    assert overview.metadata is not None and overview.scan is not None
    member = overview.scan.member(normalise_member_path(overview.metadata.member_name))
    if member is None or member.size > MAX_METADATA_BYTES:
        raise CopyError("the backup's metadata cannot be read again")
    with overview.path.open("rb") as f:
        f.seek(member.data_offset)
        return json.loads(f.read(member.size).decode("utf-8"))


# --- writing ------------------------------------------------------------------


def _open_partial(destination: Path) -> tuple[Path, BinaryIO]:
    """A new file next to the destination, created exclusively (never an existing file)."""
    partial = destination.parent / f".{destination.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, COPY_FILE_MODE)
    return partial, os.fdopen(fd, "w+b")


def _write(
    overview: BackupOverview,
    password: str | None,
    plan: _Plan,
    metadata: dict[str, Any],
    out: BinaryIO,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> None:
    """The outer tar: every kept archive in the original order, then backup.json."""
    totals = ProgressTotals(
        sum(a.member.available_size for a in plan.kept), _labelled(progress, WRITING), cancel
    )
    keyring = keyring_for(password)
    with overview.path.open("rb") as source, BackupCopyWriter(out, plan.target_password) as writer:
        for archive in plan.kept:
            on_raw = totals.for_archive(archive)
            if plan.rewrite_all or archive.name in plan.edits:
                _rewrite(source, archive, keyring, writer, plan, on_raw)
            else:
                source.seek(archive.member.data_offset)
                writer.copy_member(
                    archive.member_name,
                    _CountingReader(source, on_raw),
                    archive.member.size,
                )
        writer.add_metadata(COPY_METADATA_MEMBER, serialize_copy_metadata(metadata))


def _rewrite(
    source: BinaryIO,
    archive: InnerArchive,
    keyring: ArchiveKeyRing | None,
    writer: BackupCopyWriter,
    plan: _Plan,
    on_raw,
) -> None:
    """Write one archive anew from its verified tar stream; record what changed."""
    edits = plan.edits.get(archive.name, ArchiveEdits())
    is_gzip = archive.member.path.endswith((".gz", ".tgz"))
    stream = InnerTarStream(source, archive.member, archive.sniff, keyring, on_raw)
    try:
        writer.rewrite_archive(archive.member_name, is_gzip=is_gzip, source_tar=stream, edits=edits)
        stream.drain()
    except ArchiveReadError as err:
        raise CopyError(finding_for_read_error(archive, err).message) from err
    except ArchiveEditError as err:
        raise CopyError(str(err)) from err
    finally:
        stream.close()
    if plan.rewrite_all:
        action = "encrypted" if plan.target_password is not None else "decrypted"
        plan.changed.append({"archive": archive.file_name, "path": None, "action": action})
    plan.changed.extend({"archive": archive.file_name, **done} for done in edits.done)


class _CountingReader:
    """Reads an archive's bytes for a byte-for-byte copy, reporting progress (and cancel)."""

    def __init__(self, source: BinaryIO, on_raw) -> None:
        self._source = source
        self._on_raw = on_raw

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the source; progress callbacks may raise JobCancelledError."""
        data = self._source.read(size)
        self._on_raw(len(data))
        return data


def _labelled(progress: ProgressCallback | None, message: str) -> ProgressCallback | None:
    """Progress reports that say which phase of the copy they belong to."""
    if progress is None:
        return None

    def report(update: Progress) -> None:
        progress(dataclasses.replace(update, message=message))

    return report


# --- checking and renaming ----------------------------------------------------------


def _check_copy(
    partial: Path,
    plan: _Plan,
    password: str | None,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    database_dir: Path | None,
) -> CheckReport:
    """The full check of the written copy; CopyError (the copy then goes) if it does not pass."""
    check_password = plan.target_password if plan.rewrite_all else password
    report = full_check(
        open_backup(partial),
        check_password if plan.is_protected else None,
        progress=_labelled(progress, CHECKING),
        cancel=cancel,
        database_dir=database_dir,
    )
    if not report.ok:
        first = next((p.message for p in report.problems), "")
        raise CopyError(f"the copy did not pass its check and was removed: {first}", report)
    return report


def _move_into_place(partial: Path, destination: Path, overwrite: bool) -> None:
    """Give the checked copy its name: atomically, and never over an existing file unless asked."""
    if overwrite:
        os.replace(partial, destination)
    else:
        try:
            os.link(partial, destination)  # FileExistsError if it appeared meanwhile
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: check, then rename
            if destination.exists():
                raise FileExistsError(errno.EEXIST, "the file exists", str(destination)) from None
            os.rename(partial, destination)
        else:
            partial.unlink()
    directory = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
