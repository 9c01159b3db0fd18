"""Compare two versions of one file: a unified diff for text, "differs" with hashes for binary.

The versions come from two backups (or one backup and today's config folder)
and are read whole into memory to be compared, so each side is capped at
MAX_COMPARE_BYTES and a bigger file is refused with the limit named: a diff
of a 300 MB database would be neither readable nor cheap.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from typing import Any

from ..backup_format.tar_entry import DataSink, TarEntry
from .archive_walk import EntryNotFoundError
from .backup_overview import BackupOverview
from .extract_job import read_entry
from .name_pattern import CONFIG_PREFIX, HOMEASSISTANT_ARCHIVE

MAX_COMPARE_BYTES = 2 * 1024 * 1024
CONTEXT_LINES = 3
TEXT_SNIFF_BYTES = 8192


class TooLargeToCompareError(ValueError):
    """One side is beyond MAX_COMPARE_BYTES; the message names the size and the limit."""


def too_large(label: str, size: int, limit: int = MAX_COMPARE_BYTES) -> TooLargeToCompareError:
    """The refusal for a file beyond the compare limit."""
    return TooLargeToCompareError(
        f"{label} is {size:,} bytes; files up to {limit:,} bytes can be compared. "
        "Download both versions to compare them with a tool of your choice."
    )


@dataclass(frozen=True)
class FileSide:
    """One side of a comparison: where it is from, and its bytes."""

    label: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The content hash (the same as the listing's)."""
        return hashlib.sha256(self.data).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """Label, size and hash (never the bytes)."""
        return {"label": self.label, "size": len(self.data), "sha256": self.sha256}


@dataclass(frozen=True)
class FileComparison:
    """Whether two versions are equal, whether both are text, and the unified diff if so."""

    old: FileSide
    new: FileSide
    equal: bool
    is_text: bool
    diff: list[str]  # unified diff lines without line ends; empty when equal or binary

    def to_json(self) -> dict[str, Any]:
        """The page's and `diff --json`'s shape."""
        return {
            "equal": self.equal,
            "kind": "text" if self.is_text else "binary",
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "diff": self.diff,
        }

    def unified_text(self) -> str:
        """The diff as diff(1) prints it (empty when equal), or the binary sentence."""
        if self.equal:
            return ""
        if not self.is_text:
            return (
                f"Binary files {self.old.label} and {self.new.label} differ "
                f"({len(self.old.data):,} bytes, sha256 {self.old.sha256[:12]}… / "
                f"{len(self.new.data):,} bytes, sha256 {self.new.sha256[:12]}…)\n"
            )
        return "".join(line + "\n" for line in self.diff)


def looks_like_text(data: bytes) -> bool:
    """UTF-8 without NUL bytes: YAML, JSON, Python, JS… (a database or image is not)."""
    if b"\0" in data[:TEXT_SNIFF_BYTES]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def compare_sides(old: FileSide, new: FileSide) -> FileComparison:
    """Compare two versions already read."""
    if old.data == new.data:
        return FileComparison(old, new, equal=True, is_text=looks_like_text(old.data), diff=[])
    if not (looks_like_text(old.data) and looks_like_text(new.data)):
        return FileComparison(old, new, equal=False, is_text=False, diff=[])
    diff = difflib.unified_diff(
        old.data.decode("utf-8").splitlines(),
        new.data.decode("utf-8").splitlines(),
        fromfile=old.label,
        tofile=new.label,
        n=CONTEXT_LINES,
        lineterm="",
    )
    return FileComparison(old, new, equal=False, is_text=True, diff=list(diff))


class _CappedBuffer(DataSink):
    """Collects one file's bytes in memory, refusing more than the limit."""

    def __init__(self, label: str, limit: int) -> None:
        self.data = bytearray()
        self._label = label
        self._limit = limit

    def write(self, data: bytes | memoryview) -> None:
        """Keep the piece, or refuse once past the limit."""
        self.data += data
        if len(self.data) > self._limit:
            raise too_large(self._label, len(self.data), self._limit)


def era_alternative(archive: str, path: str) -> str | None:
    """The same config file's path in the other era (data/ added or dropped), if any."""
    if archive != HOMEASSISTANT_ARCHIVE:
        return None
    if path.startswith(CONFIG_PREFIX):
        return path[len(CONFIG_PREFIX) :]
    return CONFIG_PREFIX + path


def read_version(
    overview: BackupOverview,
    archive: str,
    path: str,
    password: str | None,
    *,
    limit: int = MAX_COMPARE_BYTES,
) -> tuple[str, bytes]:
    """The path found and the bytes of one file; the other era's path is tried too.

    Raises EntryNotFoundError, ReadEntryError, TooLargeToCompareError.
    """
    label = f"{overview.path.name}:{archive}/{path}"
    candidates = [path]
    alternative = era_alternative(archive, path)
    if alternative is not None:
        candidates.append(alternative)
    for candidate in candidates:
        buffer = _CappedBuffer(label, limit)

        def refuse_large(entry: TarEntry) -> None:
            if entry.size > limit:
                raise too_large(label, entry.size, limit)

        try:
            read_entry(overview, archive, candidate, password, buffer, on_located=refuse_large)
        except EntryNotFoundError:
            continue
        return candidate, bytes(buffer.data)
    also = f" (nor {alternative!r})" if alternative is not None else ""
    raise EntryNotFoundError(f"{archive} of {overview.path.name} has no file {path!r}{also}")
