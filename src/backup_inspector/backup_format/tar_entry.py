"""One member of an inner tar archive, as the listing and extraction see it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EntryType(StrEnum):
    """Kinds of tar member that matter to a person browsing a backup."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"  # character/block devices, FIFOs: listed, never extracted


@dataclass(frozen=True, slots=True)
class TarEntry:
    """A member of an inner archive.

    `path` is normalised: no leading "./" or "/", no trailing "/"; the root
    entry "." is kept as ".". `raw_name` is the name as stored in the archive.
    `link` is the link target for symlinks and hard links (hard-link targets
    normalised like `path`), else "".
    """

    path: str
    raw_name: str
    type: EntryType
    size: int
    mtime: float
    mode: int
    link: str = ""

    def to_json(self) -> dict[str, object]:
        """The JSON shape of `ls --json` (issue 2's contract)."""
        return {
            "path": self.path,
            "type": self.type.value,
            "size": self.size,
            "mtime": self.mtime,
            "mode": self.mode,
            "link": self.link,
        }


def normalise_member_path(name: str) -> str:
    """Turn a stored tar name into the path users type: no "./", no leading "/".

    Both "./data/x" and "data/x" occur in real backups (format-spec §3.5).
    "." and "./" become "."; ".." components are kept so that safety checks
    can see them. Linear in the name's length: dropping "./" one slice at a
    time cost the square of it for a megabyte of "./././".
    """
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts) if parts else "."


class DataSink:
    """Receives the data of one regular-file member, in order.

    The tar reader calls `write` for each piece, then exactly one of `close`
    (all bytes arrived) or `abort` (the archive ended or broke before the
    member's last byte, or the job was cancelled). Subclasses decide where the
    bytes go (a file under a temporary name, an HTTP response, a hash).
    """

    def write(self, data: bytes | memoryview) -> None:
        """Take the next piece of member data."""
        raise NotImplementedError

    def close(self) -> None:
        """All member data was written."""

    def abort(self) -> None:
        """The member's data will not be completed; undo partial results."""
