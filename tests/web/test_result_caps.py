"""Job results are capped so every WebSocket message stays small, and say what was left out."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from backup_inspector.inspection.result_caps import MAX_RESULT_BYTES, cap_result, json_size
from backup_inspector.web.app_services import SERVICES
from backup_inspector.web.job_routes import MAX_WEBSOCKET_MESSAGE_BYTES, _bounded_message

REFUSED_COUNT = 50_000
ONE_MIB = 1024 * 1024


def refused_report(count: int) -> dict[str, Any]:
    """An extraction-like result with `count` refused entries and as many problems (~25 MB)."""
    refused = [
        {"path": f"../../escape/{'deep/' * 30}file-{n}.txt", "reason": "outside the destination"}
        for n in range(count)
    ]
    problems = [
        {"code": "unsafe-entry", "severity": "error", "message": f"refused {item['path']}"}
        for item in refused
    ]
    return {"destination": "restore", "report": {"refused": refused, "problems": problems}}


async def _job_message(client: TestClient, job_id: str, timeout_s: float = 20) -> str:
    """The raw text of the WebSocket message that brings the finished job."""
    deadline = time.monotonic() + timeout_s
    async with client.ws_connect("/ws") as websocket:
        while True:
            message = await websocket.receive(timeout=max(0.1, deadline - time.monotonic()))
            assert message.type is WSMsgType.TEXT
            event = json.loads(message.data)
            job = event.get("job") or {}
            if event["type"] == "job" and job["id"] == job_id and job["state"] == "succeeded":
                return message.data


async def test_fifty_thousand_refused_entries_fit_one_small_message(client: TestClient) -> None:
    """A job refusing 50 000 entries: its WebSocket message is under 1 MiB and states the omissions."""
    report = refused_report(REFUSED_COUNT)
    assert json_size(report) > 10 * ONE_MIB  # what used to be sent in one message
    jobs = client.app[SERVICES].jobs
    job = jobs.submit("extract", "Extract", lambda _context: report, is_heavy=True)
    text = await _job_message(client, job.job_id)
    assert len(text.encode()) < ONE_MIB
    capped = json.loads(text)["job"]["result"]["report"]
    kept = len(capped["refused"])
    assert 0 < kept < REFUSED_COUNT
    assert capped["refused_omitted"] == REFUSED_COUNT - kept
    assert capped["problems_omitted"] == REFUSED_COUNT - len(capped["problems"])
    assert capped["refused"][0]["path"].endswith("file-0.txt")  # the first ones are kept
    polled = await client.get(f"/api/jobs/{job.job_id}")
    assert len(await polled.read()) < ONE_MIB


def test_small_results_are_unchanged_and_counts_add_up() -> None:
    """A small result passes as is; an earlier `_omitted` count is added to, not replaced."""
    small = {"problems": [{"code": "x"}], "note": "fine"}
    assert cap_result(small) is small
    big = {"written": ["f" * 100] * 20_000, "written_omitted": 5, "written_count": 20_005}
    capped = cap_result(big)
    assert capped["written_omitted"] == 5 + 20_000 - len(capped["written"])
    assert capped["written_count"] == 20_005
    assert json_size(capped) <= MAX_RESULT_BYTES


def test_long_texts_unnamed_lists_and_hopeless_results_are_bounded() -> None:
    """Huge strings are cut, lists inside lists count as omitted_elsewhere, many keys give up."""
    nested = {"rows": [[n] * 5_000 for n in range(100)], "text": "t" * 2 * ONE_MIB}
    capped = cap_result(nested)
    assert json_size(capped) <= MAX_RESULT_BYTES
    assert capped["omitted_elsewhere"] > 0
    assert capped["text"].endswith("…")
    many_keys = {f"key-{n}": "v" * 300 for n in range(5_000)}
    assert cap_result(many_keys)["result_omitted"] is True


def test_an_oversized_event_is_cut_not_sent() -> None:
    """The WebSocket's last guard: a job event over the bound loses its result only."""
    event = {"type": "job", "job": {"id": "1", "state": "succeeded", "result": "r" * 2 * ONE_MIB}}
    text = _bounded_message(event)
    assert len(text.encode()) <= MAX_WEBSOCKET_MESSAGE_BYTES
    job = json.loads(text)["job"]
    assert job["result"] is None and job["result_omitted"] is True and job["id"] == "1"
