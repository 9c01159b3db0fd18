"""A small client for Home Assistant's Core REST API: post states, call services, see if Core is up.

In the add-on the Supervisor proxies the Core API at http://supervisor/core/api
for apps with `homeassistant_api: true`, with the app's SUPERVISOR_TOKEN as
bearer token. Home Assistant being down or restarting is normal, so calls are
retried with a growing pause, and a failure is logged once until calls work
again — never per attempt, and never with the token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

_LOGGER: logging.Logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0
DEFAULT_ATTEMPTS = 4
DEFAULT_FIRST_PAUSE_S = 2.0  # then 4 s, 8 s


class CoreApiError(Exception):
    """A Core API call failed after every attempt; the message names the path, not the token."""


class CoreApiClient:
    """Authorised JSON calls to `base_url` (…/api), one aiohttp session for the app's life."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        first_pause_s: float | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._attempts = attempts
        self._first_pause_s = DEFAULT_FIRST_PAUSE_S if first_pause_s is None else first_pause_s
        self._session: aiohttp.ClientSession | None = None
        self._is_failing = False

    def __repr__(self) -> str:
        """Never show the token."""
        return f"CoreApiClient({self._base_url!r})"

    @property
    def is_failing(self) -> bool:
        """Whether the last call failed after all its attempts."""
        return self._is_failing

    async def close(self) -> None:
        """Close the session (at shutdown)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
            )
        return self._session

    async def _request_once(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[int, Any]:
        """One attempt: (status, parsed JSON or None). Raises aiohttp/OS errors."""
        async with self._session_now().request(
            method, f"{self._base_url}{path}", json=body, headers=self._headers()
        ) as response:
            data = None
            if response.content_type == "application/json":
                data = await response.json()
            return response.status, data

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, retry: bool = True
    ) -> tuple[int, Any]:
        """Call the API; retry on connection errors and 5xx; raise CoreApiError in the end.

        A 4xx answer is returned, not retried: it will not get better (a 404
        for a state that does not exist is an answer, too).
        """
        attempts = self._attempts if retry else 1
        pause_s = self._first_pause_s
        problem = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(pause_s)
                pause_s *= 2
            try:
                status, data = await self._request_once(method, path, body)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                problem = type(error).__name__
                continue
            if status >= 500:
                problem = f"HTTP {status}"
                continue
            self._succeeded()
            return status, data
        self._failed(method, path, problem)
        raise CoreApiError(f"{method} {path} failed: {problem}")

    def _succeeded(self) -> None:
        if self._is_failing:
            _LOGGER.info("Home Assistant's Core API answers again")
        self._is_failing = False

    def _failed(self, method: str, path: str, problem: str) -> None:
        if not self._is_failing:
            _LOGGER.warning(
                "Home Assistant's Core API does not answer (%s %s: %s); checks go on, "
                "and Home Assistant is told when it is back",
                method,
                path,
                problem,
            )
        self._is_failing = True

    async def post_state(self, entity_id: str, state: str, attributes: dict[str, Any]) -> None:
        """POST /states/<entity_id>: create or replace an entity's state."""
        await self.request(
            "POST", f"/states/{entity_id}", {"state": state, "attributes": attributes}
        )

    async def has_state(self, entity_id: str) -> bool:
        """GET /states/<entity_id>: whether Core knows the entity (it forgets posted ones on restart)."""
        status, _data = await self.request("GET", f"/states/{entity_id}", retry=False)
        return status == 200

    async def call_service(self, domain: str, service: str, data: dict[str, Any]) -> None:
        """POST /services/<domain>/<service>."""
        await self.request("POST", f"/services/{domain}/{service}", data)

    async def is_up(self) -> bool:
        """GET /: one attempt, True when Core answers 200."""
        try:
            status, _data = await self.request("GET", "/", retry=False)
        except CoreApiError:
            return False
        return status == 200
