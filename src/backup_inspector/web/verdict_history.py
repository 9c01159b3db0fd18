"""The verdict history: every full check's word (ok, failing, unverified) per backup, kept across restarts.

One small JSON file in the data folder, so that after a restart the page's
health summary and Home Assistant's entities are right at once and the
watch does not check again a backup version it already verified. Entries
are keyed by the backup id (a hash of the file name). What is stored is
what the summary needs — size, date, verdicts and problem codes — and a
label: the backup's name for an unencrypted backup, but only its slug for
an encrypted one (its name may say what it holds). Never a password, never
a file name. A backup that was deleted keeps its entry (its size stays in
the chart) until MAX_BACKUPS newer ones push it out.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.json_file import read_json_object, write_json_atomically

_LOGGER: logging.Logger = logging.getLogger(__name__)

HISTORY_FILE_NAME = "verdicts.json"
MAX_BACKUPS = 500
MAX_VERDICTS_PER_BACKUP = 20


@dataclass(frozen=True)
class StoredVerdict:
    """One check's outcome for one version of a backup."""

    at: float
    verdict: str
    codes: tuple[str, ...]
    source: str  # "watch" or "user"
    file_size: int
    mtime_ns: int

    def to_json(self) -> dict[str, Any]:
        """The shape in the file and in the API."""
        return {
            "at": self.at,
            "verdict": self.verdict,
            "codes": list(self.codes),
            "source": self.source,
            "file_size": self.file_size,
            "mtime_ns": self.mtime_ns,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredVerdict:
        """Read one verdict back; KeyError/TypeError/ValueError for a damaged one."""
        return cls(
            at=float(data["at"]),
            verdict=str(data["verdict"]),
            codes=tuple(str(code) for code in data["codes"]),
            source=str(data["source"]),
            file_size=int(data["file_size"]),
            mtime_ns=int(data["mtime_ns"]),
        )


def label_for(known: KnownBackup) -> str:
    """What the store may call a backup: its name if unencrypted, else its slug."""
    overview = known.overview
    metadata = overview.metadata if overview is not None else None
    is_protected = overview.is_protected if overview is not None else True
    if metadata is None:
        return "unnamed backup"
    return metadata.slug if is_protected else metadata.name


class VerdictHistory:
    """Verdicts per backup id, in memory and in `<data_dir>/verdicts.json`; thread-safe."""

    def __init__(self, data_dir: Path | None) -> None:
        self._file = data_dir / HISTORY_FILE_NAME if data_dir is not None else None
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = self._load()

    def record(
        self, known: KnownBackup, verdict: str, codes: list[str], source: str
    ) -> StoredVerdict:
        """Add the verdict of a full check of this version of the backup."""
        stored = StoredVerdict(
            time.time(), verdict, tuple(codes), source, known.file_size, known.mtime_ns
        )
        with self._lock:
            entry = self._entries.pop(known.backup_id, None) or {"verdicts": [], "notified": False}
            entry["label"] = label_for(known)
            entry["date"] = known.sort_moment.isoformat()
            entry["size"] = known.file_size
            entry["verdicts"] = [*entry["verdicts"], stored.to_json()][-MAX_VERDICTS_PER_BACKUP:]
            self._entries[known.backup_id] = entry
            while len(self._entries) > MAX_BACKUPS:
                del self._entries[next(iter(self._entries))]
            self._save_locked()
        return stored

    def latest(self, backup_id: str, file_size: int, mtime_ns: int) -> StoredVerdict | None:
        """The last verdict of exactly this version of the backup."""
        with self._lock:
            entry = self._entries.get(backup_id)
            verdicts = list(entry["verdicts"]) if entry is not None else []
        for data in reversed(verdicts):
            verdict = StoredVerdict.from_json(data)
            if (verdict.file_size, verdict.mtime_ns) == (file_size, mtime_ns):
                return verdict
        return None

    def sizes(self) -> list[dict[str, Any]]:
        """(id, label, date, size) of every backup ever verified, oldest first."""
        with self._lock:
            rows = [
                {"id": backup_id, "label": e["label"], "date": e["date"], "size": e["size"]}
                for backup_id, e in self._entries.items()
            ]
        return sorted(rows, key=lambda row: row["date"])

    def notified_ids(self) -> set[str]:
        """Backups with a notification raised in Home Assistant (to dismiss later)."""
        with self._lock:
            return {key for key, entry in self._entries.items() if entry.get("notified")}

    def set_notified(self, backup_id: str, notified: bool) -> None:
        """Remember whether this backup's notification is up."""
        with self._lock:
            entry = self._entries.get(backup_id)
            if entry is None or bool(entry.get("notified")) == notified:
                return
            entry["notified"] = notified
            self._save_locked()

    def _load(self) -> dict[str, dict[str, Any]]:
        """Read the file; a missing or damaged one starts empty (damaged entries are dropped)."""
        entries: dict[str, dict[str, Any]] = {}
        for backup_id, entry in read_json_object(self._file).items():
            try:
                verdicts = [StoredVerdict.from_json(v).to_json() for v in entry["verdicts"]]
                entries[str(backup_id)] = {
                    "label": str(entry["label"]),
                    "date": str(entry["date"]),
                    "size": int(entry["size"]),
                    "verdicts": verdicts,
                    "notified": bool(entry.get("notified")),
                }
            except (KeyError, TypeError, ValueError):
                continue
        return entries

    def _save_locked(self) -> None:
        """Write the file atomically; a failure is only logged."""
        write_json_atomically(self._file, self._entries)
