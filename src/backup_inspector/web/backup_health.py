"""The health of the backup folder: each backup's last verdict, the counts, the newest backup.

Computed from the folder as it is now (the registry) and the verdict
history; the page's health summary and Home Assistant's entities both read
this, so they always agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backup_inspector.inspection.verification_verdict import Verification
from backup_inspector.web.backup_registry import BackupRegistry
from backup_inspector.web.verdict_history import VerdictHistory

UNCHECKED = "unchecked"  # no full check of this version yet


@dataclass(frozen=True)
class BackupHealth:
    """One backup in the folder and its last full check."""

    backup_id: str
    name: str
    date: datetime
    size: int
    verdict: str  # ok, failing, unverified or unchecked
    verified_at: float | None
    codes: tuple[str, ...]

    @property
    def is_failing(self) -> bool:
        """Whether its last full check found a problem."""
        return self.verdict == Verification.FAILING

    def to_json(self) -> dict[str, Any]:
        """One row of the page's summary."""
        return {
            "id": self.backup_id,
            "name": self.name,
            "date": self.date.isoformat(),
            "size": self.size,
            "verdict": self.verdict,
            "verified_at": self.verified_at,
            "codes": list(self.codes),
        }


def folder_health(registry: BackupRegistry, history: VerdictHistory) -> list[BackupHealth]:
    """Every backup in the folder, newest first, with its verdict."""
    healths = []
    for known in registry.backups():
        verdict = history.latest(known.backup_id, known.file_size, known.mtime_ns)
        healths.append(
            BackupHealth(
                backup_id=known.backup_id,
                name=known.display_name,
                date=known.sort_moment,
                size=known.file_size,
                verdict=verdict.verdict if verdict is not None else UNCHECKED,
                verified_at=verdict.at if verdict is not None else None,
                codes=verdict.codes if verdict is not None else (),
            )
        )
    return healths


def verdict_counts(healths: list[BackupHealth]) -> dict[str, int]:
    """How many backups are ok, failing, unverified (no key) and not yet checked."""
    counts = {word.value: 0 for word in Verification} | {UNCHECKED: 0}
    for health in healths:
        counts[health.verdict] = counts.get(health.verdict, 0) + 1
    return counts


def age_in_words(seconds: float) -> str:
    """ "3 hours", "2 days": how old a backup is, as the summary and the sensor say it."""
    minutes = max(0, int(seconds // 60))
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes >= size:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def newest_json(healths: list[BackupHealth], now: float | None = None) -> dict[str, Any] | None:
    """The newest backup: id, name, date and age, or None for an empty folder."""
    if not healths:
        return None
    newest = healths[0]
    age_s = (now if now is not None else time.time()) - newest.date.timestamp()
    return {
        "id": newest.backup_id,
        "name": newest.name,
        "date": newest.date.isoformat(),
        "age_s": round(age_s),
        "age": age_in_words(age_s),
        "verdict": newest.verdict,
        "verified_at": newest.verified_at,
    }


def timestamp_iso(moment: float) -> str:
    """A Unix time as ISO 8601 in UTC (what a timestamp sensor's state must be)."""
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="seconds")
