"""The result of the last check of each backup, shown in the backup list.

Kept in memory and, when the add-on has a data folder, in one small JSON
file there so the list still shows it after a restart. A result belongs to
one version of the file (size and mtime): a replaced file shows no result.
Nothing secret is in it (no password, no file content).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from backup_inspector.web.json_file import read_json_object, write_json_atomically

_LOGGER: logging.Logger = logging.getLogger(__name__)

HISTORY_FILE_NAME = "last-checks.json"
MAX_REMEMBERED = 500


class CheckHistory:
    """Last check summary per backup id, optionally persisted in the data folder."""

    def __init__(self, data_dir: Path | None) -> None:
        self._file = data_dir / HISTORY_FILE_NAME if data_dir is not None else None
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = self._load()

    def record(
        self, backup_id: str, file_size: int, mtime_ns: int, summary: dict[str, Any]
    ) -> dict[str, Any]:
        """Remember `summary` as the last check of this version of the backup."""
        entry = {
            **summary,
            "checked_at": time.time(),
            "file_size": file_size,
            "mtime_ns": mtime_ns,
        }
        with self._lock:
            self._entries.pop(backup_id, None)
            self._entries[backup_id] = entry
            while len(self._entries) > MAX_REMEMBERED:
                del self._entries[next(iter(self._entries))]
            self._save(self._entries)
        return entry

    def last_check(self, backup_id: str, file_size: int, mtime_ns: int) -> dict[str, Any] | None:
        """The last check of this version of the backup, if there was one."""
        with self._lock:
            entry = self._entries.get(backup_id)
        if entry is None or (entry.get("file_size"), entry.get("mtime_ns")) != (
            file_size,
            mtime_ns,
        ):
            return None
        return {key: value for key, value in entry.items() if key not in ("file_size", "mtime_ns")}

    def _load(self) -> dict[str, dict[str, Any]]:
        """Read the history file; a missing or unreadable one starts empty."""
        data = read_json_object(self._file)
        return {key: value for key, value in data.items() if isinstance(value, dict)}

    def _save(self, entries: dict[str, dict[str, Any]]) -> None:
        """Write the history atomically (temporary file, then rename)."""
        write_json_atomically(self._file, entries)
