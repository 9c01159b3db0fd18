"""What a backup holds, from its headers and metadata alone (nothing decrypted).

`open_backup` is cheap: it reads tar headers, the metadata member and the
first 512 bytes of each inner archive. Listing a folder of backups, showing
one, and every check start here.
"""

from __future__ import annotations

import errno
import os
import stat as stat_modes
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..backup_format.backup_metadata import (
    MAX_METADATA_BYTES,
    BackupMetadata,
    choose_metadata_member,
    metadata_too_large_finding,
    parse_backup_metadata,
)
from ..backup_format.findings import Finding, FindingCode
from ..backup_format.inner_archive import read_sniff
from ..backup_format.outer_tar import OuterMember, OuterScan, scan_outer_tar
from ..backup_format.securetar_header import ArchiveSniff, Compression, Encryption

INNER_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")

_FOLDER_LABELS = {
    "share": "the share folder",
    "ssl": "the SSL folder",
    "media": "the media folder",
    "addons_local": "the local add-ons folder",
}
_KNOWN_FOLDER_ARCHIVES = frozenset(_FOLDER_LABELS)


def archive_base_name(member_path: str) -> str | None:
    """ "homeassistant.tar.gz" → "homeassistant"; None if not an inner archive name."""
    if "/" in member_path:
        return None
    for suffix in INNER_ARCHIVE_SUFFIXES:
        if member_path.endswith(suffix) and len(member_path) > len(suffix):
            return member_path[: -len(suffix)]
    return None


@dataclass
class InnerArchive:
    """One inner archive of a backup, as its header and first bytes describe it."""

    name: str
    member: OuterMember
    kind: str  # homeassistant | addon | folder | supervisor | unknown
    label: str
    sniff: ArchiveSniff
    is_listed: bool

    @property
    def member_name(self) -> str:
        """The name as stored in the outer tar."""
        return self.member.name

    @property
    def file_name(self) -> str:
        """The member name without "./", as people see it (share.tar.gz)."""
        return self.member.path

    @property
    def encryption(self) -> Encryption:
        """Encryption generation, from the archive's own bytes."""
        return self.sniff.encryption

    @property
    def compressed(self) -> bool | None:
        """Whether the tar inside is gzip-compressed; None until decrypted if encrypted."""
        if self.sniff.compression == Compression.GZIP:
            return True
        if self.sniff.compression == Compression.TAR:
            return False
        return None

    @property
    def size(self) -> int:
        """Bytes the archive takes in the backup file."""
        return self.member.size

    @property
    def is_complete(self) -> bool:
        """Whether all of the archive's bytes are in the file."""
        return self.member.is_complete

    @property
    def restore_consequence(self) -> str:
        """What damage to this archive means for a restore, in words."""
        if self.kind == "homeassistant":
            return "restoring Home Assistant from this backup will fail"
        if self.kind == "addon":
            return f"restoring the add-on {self.label} will fail"
        if self.kind == "folder":
            return f"restoring {self.label} will fail"
        if self.kind == "supervisor":
            return "the Supervisor settings (network mounts, registries) in it cannot be restored"
        return "its content cannot be recovered"

    def to_json(self) -> dict[str, object]:
        """Shape used by `info --json` and the web API."""
        return {
            "name": self.name,
            "archive": self.file_name,
            "kind": self.kind,
            "label": self.label,
            "encryption": self.encryption.value,
            "compressed": self.compressed,
            "size": self.size,
            "listed": self.is_listed,
            "complete": self.is_complete,
        }


@dataclass
class BackupOverview:
    """A backup file: its metadata, inner archives and header-level findings."""

    path: Path
    file_size: int
    mtime: float
    metadata: BackupMetadata | None
    archives: list[InnerArchive]
    findings: list[Finding] = field(default_factory=list)
    scan: OuterScan | None = None

    @property
    def is_protected(self) -> bool:
        """Whether any inner archive is encrypted (or the metadata says so)."""
        if any(a.encryption not in (Encryption.NONE, Encryption.UNKNOWN) for a in self.archives):
            return True
        return bool(self.metadata and self.metadata.protected)

    @property
    def display_name(self) -> str:
        """The backup's name from its metadata, else its file name."""
        if self.metadata and self.metadata.name:
            return self.metadata.name
        return self.path.name

    def find_archive(self, name: str) -> InnerArchive | None:
        """Look an archive up by base name ("share") or member name ("./share.tar.gz")."""
        wanted = name.removeprefix("./")
        for archive in self.archives:
            if wanted in (archive.name, archive.file_name):
                return archive
        return None

    def to_json(self) -> dict[str, object]:
        """Shape used by `info --json` and the web API."""
        return {
            "path": str(self.path),
            "file": self.path.name,
            "size": self.file_size,
            "mtime": self.mtime,
            "name": self.display_name,
            "protected": self.is_protected,
            "metadata": self.metadata.to_json() if self.metadata else None,
            "archives": [a.to_json() for a in self.archives],
            "problems": [f.to_json() for f in self.findings],
        }


BACKUP_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_backup_file(path: Path) -> BinaryIO:
    """Open a backup for reading: a regular file, never a symlink, FIFO or device.

    The backup folder lists regular files only; opening with O_NOFOLLOW (and
    checking the type of what was opened) refuses a symlink swapped in after
    the listing too, so `zz.tar -> /etc/passwd` is never read. O_NONBLOCK
    keeps a FIFO from blocking the open; it changes nothing for regular files.
    """
    fd = os.open(path, BACKUP_OPEN_FLAGS)
    try:
        if not stat_modes.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_backup(path: Path | str) -> BackupOverview:
    """Read a backup's headers and metadata. Raises OSError only if the file cannot be read."""
    path = Path(path)
    with open_backup_file(path) as f:
        stat = os.fstat(f.fileno())
        scan = scan_outer_tar(f, stat.st_size)
        overview = BackupOverview(
            path=path,
            file_size=stat.st_size,
            mtime=stat.st_mtime,
            metadata=None,
            archives=[],
            scan=scan,
        )
        overview.findings.extend(scan.findings)
        if any(f_.code == FindingCode.NOT_A_TAR for f_ in scan.findings):
            return overview
        overview.metadata = _read_metadata(f, scan, overview.findings)
        overview.archives = _inner_archives(f, scan, overview.metadata)
    overview.findings.extend(_archive_list_findings(overview))
    return overview


def _read_metadata(f, scan: OuterScan, findings: list[Finding]) -> BackupMetadata | None:
    candidates = [m.name for m in scan.members if m.is_file]
    member_name, name_findings = choose_metadata_member(candidates)
    findings.extend(name_findings)
    member = next((m for m in reversed(scan.members) if m.name == member_name), None)
    if member is None or not member.is_complete:
        lost = (
            "was lost when the file was cut short" if scan.damaged_at is not None else "is missing"
        )
        findings.append(
            Finding(
                FindingCode.METADATA_MISSING,
                f"The backup's metadata (backup.json) {lost}. Home Assistant will not list or restore "
                "this backup. The archives in it can still be checked and their files extracted here.",
            )
        )
        return None
    if member.size > MAX_METADATA_BYTES:  # checked before reading: never load more than that
        findings.append(metadata_too_large_finding(member.name, member.size))
        return None
    f.seek(member.data_offset)
    metadata, metadata_findings = parse_backup_metadata(f.read(member.size), member.name)
    findings.extend(metadata_findings)
    return metadata


def _addon_labels(metadata: BackupMetadata | None) -> dict[str, str]:
    """Add-on slug -> the name shown for it, built once per backup.

    Looking each archive up in the metadata's add-on list instead made
    opening a backup quadratic in the number of add-ons (40 000 took 13 s).
    """
    if metadata is None:
        return {}
    labels: dict[str, str] = {}
    for addon in metadata.addons:
        labels.setdefault(addon.slug, addon.name or addon.slug)
    return labels


def _classify(
    name: str, metadata: BackupMetadata | None, addon_labels: dict[str, str]
) -> tuple[str, str]:
    if name == "homeassistant":
        return "homeassistant", "Home Assistant"
    if name == "supervisor":
        return "supervisor", "Supervisor settings"
    if name in addon_labels:
        return "addon", addon_labels[name]
    if name in _KNOWN_FOLDER_ARCHIVES:
        return "folder", _FOLDER_LABELS[name]
    if metadata is None and "_" in name:
        return "addon", name  # add-on slugs look like core_ssh, a0d7b954_vscode
    return "unknown", name


def _inner_archives(f, scan: OuterScan, metadata: BackupMetadata | None) -> list[InnerArchive]:
    expected = set(metadata.expected_archive_names()) if metadata else set()
    addon_labels = _addon_labels(metadata)
    archives: dict[str, InnerArchive] = {}
    for member in scan.members:
        if not member.is_file:
            continue
        name = archive_base_name(member.path)
        if name is None:
            continue
        kind, label = _classify(name, metadata, addon_labels)
        archives[name] = InnerArchive(
            name=name,
            member=member,
            kind=kind,
            label=label,
            sniff=read_sniff(f, member),
            is_listed=name in expected or (name == "supervisor"),
        )
    return list(archives.values())


def _archive_list_findings(overview: BackupOverview) -> list[Finding]:
    findings: list[Finding] = []
    present = {a.name for a in overview.archives}
    if overview.metadata is not None:
        addon_labels = _addon_labels(overview.metadata)
        for name in overview.metadata.expected_archive_names():
            if name in present:
                continue
            kind, label = _classify(name, overview.metadata, addon_labels)
            lost = (
                " (probably lost where the file was cut or damaged)"
                if overview.scan and overview.scan.damaged_at
                else ""
            )
            what = {"homeassistant": "Home Assistant", "addon": f"the add-on {label}"}.get(
                kind, label
            )
            findings.append(
                Finding(
                    FindingCode.ARCHIVE_MISSING,
                    f"The metadata lists {what}, but its archive is not in the backup{lost}: "
                    f"restoring {what} will fail.",
                    archive=name,
                )
            )
        for archive in overview.archives:
            if not archive.is_listed:
                findings.append(
                    Finding(
                        FindingCode.ARCHIVE_UNLISTED,
                        f"{archive.file_name} is in the backup but not in its metadata, usually a part that "
                        "failed while the backup was made. Home Assistant ignores it when restoring; its "
                        "files can still be checked and extracted here.",
                        archive=archive.name,
                    )
                )
    return findings
