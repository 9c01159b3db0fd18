"""Thin async client for the Supervisor API at http://supervisor/ (restore-rules.md §5).

The app reads `GET /info` and `GET /host/info` to learn the system a restore
would run on. Every call sends `Authorization: Bearer $SUPERVISOR_TOKEN`,
unwraps the `{"result": "ok", "data": {...}}` envelope, and has a timeout.
Nothing raises past the caller: a failure returns None and is logged once
per client (the facts are a nice-to-have; a Supervisor that is briefly away
must not flood the log or break the page).

It also asks the Supervisor to reload its backups after a copy was written
into /backup (`reload_backups`, `POST /backups/reload`, needs `hassio_role:
backup`): the Supervisor lists what it has scanned, not what is on disk.
That call is synchronous on purpose: it runs at the end of a copy job, in the
job's worker thread.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import aiohttp

from .inspection.target_facts import TargetFacts, TargetFactsError, target_facts_from_info

_LOGGER: logging.Logger = logging.getLogger(__name__)

SUPERVISOR_URL = "http://supervisor"
TOKEN_ENVIRONMENT_VARIABLE = "SUPERVISOR_TOKEN"  # noqa: S105 - a variable name, set with hassio_api
DEFAULT_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 1024 * 1024  # /info is about 1 KB
SUPERVISOR_URL_ENV = "SUPERVISOR_URL"  # tests point the reload at a fake Supervisor
RELOAD_TIMEOUT_S = 60.0


class SupervisorClient:
    """Reads JSON from the Supervisor; None instead of an exception when anything fails."""

    def __init__(
        self, token: str, base_url: str = SUPERVISOR_URL, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._has_logged_failure = False

    @classmethod
    def from_environment(cls, base_url: str = SUPERVISOR_URL) -> SupervisorClient | None:
        """A client with $SUPERVISOR_TOKEN, or None outside Home Assistant (a desktop).

        `base_url` is for tests, which answer as the Supervisor on 127.0.0.1.
        """
        token = os.environ.get(TOKEN_ENVIRONMENT_VARIABLE)
        return cls(token, base_url) if token else None

    async def get_data(self, path: str) -> dict[str, Any] | None:
        """`GET <path>` and its `data` object; None on any failure (logged once)."""
        url = f"{self._base_url}/{path.lstrip('/')}"
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(url, headers={"Authorization": f"Bearer {self._token}"}) as response,
            ):
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise ValueError("the answer is too large")
                document = _json_object(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            self._log_failure(url, err)
            return None
        if document.get("result") != "ok" or not isinstance(document.get("data"), dict):
            self._log_failure(url, ValueError(f"result {document.get('result')!r}"))
            return None
        return document["data"]

    async def read_target_facts(self) -> TargetFacts | None:
        """Facts for the restore rules from `/info` plus `disk_free` from `/host/info`.

        `/host/info` failing only leaves `disk_free` unknown; `/info` failing
        returns None.
        """
        info = await self.get_data("/info")
        if info is None:
            return None
        host = await self.get_data("/host/info")
        try:
            return target_facts_from_info(info, host)
        except TargetFactsError as err:
            self._log_failure(f"{self._base_url}/info", err)
            return None

    def _log_failure(self, url: str, err: Exception) -> None:
        if self._has_logged_failure:
            return
        self._has_logged_failure = True
        _LOGGER.warning(
            "Could not read %s (%s); the restore prediction will not know this system",
            url,
            err or type(err).__name__,
        )


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; ValueError otherwise."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError("the answer is not JSON") from err
    if not isinstance(document, dict):
        raise ValueError("the answer is not a JSON object")
    return document


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
    token = os.environ.get(TOKEN_ENVIRONMENT_VARIABLE)
    if not token:
        return ReloadOutcome("not-in-addon", "Not running as a Home Assistant add-on.")
    base = os.environ.get(SUPERVISOR_URL_ENV, SUPERVISOR_URL).rstrip("/")
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
