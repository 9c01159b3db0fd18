"""The Core API client: retries with backoff on 5xx, answers 4xx at once, never shows its token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from backup_inspector.web.core_api_client import CoreApiClient, CoreApiError

from .fake_core_api import FakeCore, start_fake_core

TOKEN = "client-test-token"


@pytest.fixture
async def core() -> AsyncIterator[FakeCore]:
    """A fake Core API."""
    fake = await start_fake_core()
    yield fake
    assert fake.server is not None
    await fake.server.close()


async def test_a_down_core_is_retried_then_reported_once(
    core: FakeCore, caplog: pytest.LogCaptureFixture
) -> None:
    """Three attempts per call; one warning for two failed calls; the token in no log line."""
    caplog.set_level(logging.DEBUG)
    core.is_down = True
    client = CoreApiClient(core.api_url, TOKEN, attempts=3, first_pause_s=0.01)
    try:
        for _ in range(2):
            with pytest.raises(CoreApiError):
                await client.post_state("sensor.x", "1", {})
        assert len(core.calls) == 6
        assert client.is_failing
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
        assert TOKEN not in caplog.text and TOKEN not in repr(client)
        core.is_down = False
        await client.post_state("sensor.x", "2", {"a": 1})
        assert not client.is_failing
        assert core.states["sensor.x"] == {"state": "2", "attributes": {"a": 1}}
    finally:
        await client.close()


async def test_an_answer_in_the_4xx_range_is_not_retried(core: FakeCore) -> None:
    """A missing state is an answer (404), asked once; Core counts as up."""
    client = CoreApiClient(core.api_url, TOKEN, attempts=3, first_pause_s=0.01)
    try:
        assert not await client.has_state("binary_sensor.nothing")
        assert len(core.calls) == 1
        assert core.calls[0].authorization == f"Bearer {TOKEN}"
        assert await client.is_up()
    finally:
        await client.close()


async def test_is_up_is_false_when_nothing_listens() -> None:
    """A closed port is 'down', not an exception."""
    client = CoreApiClient("http://127.0.0.1:9/api", TOKEN, attempts=1)
    try:
        assert not await client.is_up()
    finally:
        await client.close()
