"""Thin client for http://supervisor/: ask it to reload the backup folder after a copy.

The Supervisor lists what it has scanned, not what is on disk: a copy written
into /backup appears in Home Assistant only after `POST /backups/reload`
(addon-platform.md §9.3; needs `hassio_role: backup`). Outside the add-on
there is no SUPERVISOR_TOKEN and nothing to tell. Synchronous on purpose: it
is called at the end of a copy job, in the job's worker thread.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

_LOGGER: logging.Logger = logging.getLogger(__name__)

SUPERVISOR_URL_ENV = "SUPERVISOR_URL"  # tests point it at a fake Supervisor
DEFAULT_SUPERVISOR_URL = "http://supervisor"
SUPERVISOR_TOKEN_ENV = "SUPERVISOR_TOKEN"  # noqa: S105 - the variable's name, not a token
RELOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ReloadOutcome:
    """Whether the Supervisor reloaded its backups: "reloaded", "not-in-addon" or "failed"."""

    state: str
    message: str

    def to_json(self) -> dict[str, str]:
        """For the job result."""
        return {"state": self.state, "message": self.message}


def reload_backups() -> ReloadOutcome:
    """POST /backups/reload; never raises (the copy is written either way)."""
    token = os.environ.get(SUPERVISOR_TOKEN_ENV)
    if not token:
        return ReloadOutcome("not-in-addon", "Not running as a Home Assistant add-on.")
    base = os.environ.get(SUPERVISOR_URL_ENV, DEFAULT_SUPERVISOR_URL).rstrip("/")
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL of the Supervisor
        f"{base}/backups/reload",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=RELOAD_TIMEOUT_S) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as err:
        _LOGGER.warning("The Supervisor did not reload its backups: %s", err)
        return ReloadOutcome(
            "failed",
            "Home Assistant was not told about the copy; it lists it after its next reload "
            "(Settings → System → Backups, or a restart).",
        )
    if answer.get("result") != "ok":
        _LOGGER.warning("The Supervisor refused to reload its backups: %s", answer)
        return ReloadOutcome("failed", "The Supervisor refused to reload its backups.")
    return ReloadOutcome("reloaded", "Home Assistant now lists the copy.")
