"""Tell Home Assistant how the backups are: a notification per failing backup, and two entities.

* `binary_sensor.backup_inspector_problem` (device class problem) is on while
  any backup fails its check; its attributes list the failing backups and
  their problem codes.
* `sensor.backup_inspector_last_verified` (device class timestamp) says when
  the newest backup was last fully checked, with its name, age and verdict
  and the counts of ok, failing and unverified backups.
* A failing backup raises a persistent notification with a stable id per
  backup, naming it and what is wrong in one sentence with a link to the
  page; it is dismissed when the backup checks clean or is deleted.

States posted through the API live only until Core restarts, so the
reporter re-posts them (and re-raises notifications) when Core comes back.
Core being away never stops or slows checks: the reporter runs on the event
loop and only ever waits for the API itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from backup_inspector.web.backup_health import (
    UNCHECKED,
    BackupHealth,
    age_in_words,
    timestamp_iso,
    verdict_counts,
)
from backup_inspector.web.core_api_client import CoreApiClient, CoreApiError
from backup_inspector.web.verdict_history import VerdictHistory

_LOGGER: logging.Logger = logging.getLogger(__name__)

PROBLEM_ENTITY = "binary_sensor.backup_inspector_problem"
LAST_VERIFIED_ENTITY = "sensor.backup_inspector_last_verified"
NOTIFICATION_PREFIX = "backup_inspector_"

# What a problem code means, short enough for one sentence in a notification.
PROBLEM_WORDS = {
    "not-a-tar": "the file is not a backup archive",
    "outer-tar-damaged": "the backup file is damaged",
    "truncated": "the backup file was cut short",
    "metadata-missing": "its description (backup.json) is missing",
    "metadata-invalid": "its description (backup.json) is invalid",
    "unsupported-encryption": "it uses an encryption this version cannot read",
    "archive-corrupt": "an archive inside it is damaged",
    "archive-missing": "an archive it lists is missing",
}


def notification_id(backup_id: str) -> str:
    """The stable id of one backup's notification."""
    return f"{NOTIFICATION_PREFIX}{backup_id}"


def problem_sentence(codes: tuple[str, ...]) -> str:
    """What is wrong, in words: the known problems, or the codes themselves."""
    words = [PROBLEM_WORDS[code] for code in codes if code in PROBLEM_WORDS]
    if not words:
        words = [f"its check found {', '.join(codes) or 'a problem'}"]
    return " and ".join(dict.fromkeys(words))


def notification_for(health: BackupHealth, page_link: str) -> dict[str, str]:
    """The persistent notification of one failing backup."""
    return {
        "notification_id": notification_id(health.backup_id),
        "title": "A backup failed its check",
        "message": (
            f"The backup “{health.name}” will not fully restore: {problem_sentence(health.codes)} "
            f"([open Backup Inspector]({page_link}))."
        ),
    }


def problem_state(healths: list[BackupHealth]) -> tuple[str, dict[str, Any]]:
    """The binary sensor: on while any backup fails, listing them."""
    failing = [health for health in healths if health.is_failing]
    return (
        "on" if failing else "off",
        {
            "device_class": "problem",
            "friendly_name": "Backup problem",
            "icon": "mdi:archive-alert" if failing else "mdi:archive-check",
            "failing_backups": [
                {"name": health.name, "codes": list(health.codes)} for health in failing
            ],
        },
    )


def last_verified_state(
    healths: list[BackupHealth], now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """The timestamp sensor: when the newest backup was last fully checked, and the counts."""
    counts = verdict_counts(healths)
    attributes: dict[str, Any] = {
        "device_class": "timestamp",
        "friendly_name": "Backup last verified",
        "icon": "mdi:archive-clock",
        "ok": counts["ok"],
        "failing": counts["failing"],
        "unverified": counts["unverified"] + counts["unchecked"],
    }
    if not healths:
        return "unknown", attributes
    newest = healths[0]
    age_s = (now if now is not None else time.time()) - newest.date.timestamp()
    attributes |= {"name": newest.name, "age": age_in_words(age_s), "verdict": newest.verdict}
    state = timestamp_iso(newest.verified_at) if newest.verified_at is not None else "unknown"
    return state, attributes


@dataclass
class _Posted:
    """What Core was last told, to post only what changed."""

    states: dict[str, tuple[str, dict[str, Any]]]
    notifications: dict[str, str]  # backup id → message


class HomeAssistantReporter:
    """Keeps Home Assistant's picture of the backups in step with the folder's health."""

    def __init__(self, client: CoreApiClient, history: VerdictHistory, page_link: str) -> None:
        self._client = client
        self._history = history
        self._page_link = page_link
        self._posted = _Posted({}, {})
        self._lock = asyncio.Lock()

    async def publish(self, healths: list[BackupHealth], *, force: bool = False) -> bool:
        """Post what changed (everything with `force`); False when Core could not be reached."""
        async with self._lock:
            try:
                await self._publish_states(healths, force)
                await self._publish_notifications(healths, force)
            except CoreApiError:
                return False
            return True

    async def _publish_states(self, healths: list[BackupHealth], force: bool) -> None:
        wanted = {
            PROBLEM_ENTITY: problem_state(healths),
            LAST_VERIFIED_ENTITY: last_verified_state(healths),
        }
        for entity_id, (state, attributes) in wanted.items():
            if not force and self._posted.states.get(entity_id) == (state, attributes):
                continue
            await self._client.post_state(entity_id, state, attributes)
            self._posted.states[entity_id] = (state, attributes)

    async def _publish_notifications(self, healths: list[BackupHealth], force: bool) -> None:
        failing = {health.backup_id: health for health in healths if health.is_failing}
        for backup_id, health in failing.items():
            notification = notification_for(health, self._page_link)
            if not force and self._posted.notifications.get(backup_id) == notification["message"]:
                continue
            await self._client.call_service("persistent_notification", "create", notification)
            self._posted.notifications[backup_id] = notification["message"]
            self._history.set_notified(backup_id, True)
        # Dismissed when the backup is deleted or checks clean; a new version waiting
        # for its check keeps the old version's notification until then.
        waiting = {health.backup_id for health in healths if health.verdict == UNCHECKED}
        raised = set(self._posted.notifications) | self._history.notified_ids()
        for backup_id in raised - set(failing) - waiting:
            await self._client.call_service(
                "persistent_notification",
                "dismiss",
                {"notification_id": notification_id(backup_id)},
            )
            self._posted.notifications.pop(backup_id, None)
            self._history.set_notified(backup_id, False)

    async def core_forgot_us(self) -> bool:
        """Whether Core lost our states (it restarted): the problem sensor is gone."""
        if not self._posted.states:
            return False
        try:
            return not await self._client.has_state(PROBLEM_ENTITY)
        except CoreApiError:
            return False
