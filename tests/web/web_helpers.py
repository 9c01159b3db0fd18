"""Shared helpers for the web tests: find backups, wait for jobs, collect response bodies."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient

JOB_TIMEOUT_S = 60.0
FINISHED_STATES = ("succeeded", "failed", "cancelled")


class ResponseRecorder:
    """Keeps every response body a test saw, so it can search them for a secret."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def record(self, body: bytes) -> None:
        """Remember one body."""
        self.bodies.append(body)

    def contains(self, needle: str) -> bool:
        """Whether any recorded body contains `needle` (as UTF-8 or JSON-escaped)."""
        encoded = needle.encode()
        return any(encoded in body for body in self.bodies)


async def get_json(
    client: TestClient, path: str, *, status: int = 200, recorder: ResponseRecorder | None = None
) -> Any:
    """GET `path` and return its JSON, asserting the status."""
    response = await client.get(path)
    body = await response.read()
    if recorder is not None:
        recorder.record(body)
    assert response.status == status, body
    return await response.json()


async def post_json(
    client: TestClient,
    path: str,
    payload: dict[str, Any] | None = None,
    *,
    status: int = 200,
    recorder: ResponseRecorder | None = None,
) -> Any:
    """POST JSON to `path` and return its JSON, asserting the status."""
    response = await client.post(path, json=payload if payload is not None else {})
    body = await response.read()
    if recorder is not None:
        recorder.record(body)
    assert response.status == status, body
    return await response.json()


async def backup_id_named(client: TestClient, name_part: str) -> str:
    """The id of the backup whose name contains `name_part`."""
    listing = await get_json(client, "/api/backups")
    matches = [backup["id"] for backup in listing["backups"] if name_part in backup["name"]]
    assert len(matches) == 1, [backup["name"] for backup in listing["backups"]]
    return matches[0]


async def wait_for_job(
    client: TestClient, job_id: str, *, recorder: ResponseRecorder | None = None
) -> dict[str, Any]:
    """Poll a job until it finishes; returns its final snapshot."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        answer = await get_json(client, f"/api/jobs/{job_id}", recorder=recorder)
        job = answer["job"]
        if job["state"] in FINISHED_STATES:
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {job}"
        await asyncio.sleep(0.05)


async def list_archive(
    client: TestClient, backup_id: str, archive: str, *, recorder: ResponseRecorder | None = None
) -> dict[str, Any]:
    """Start the listing of an archive and wait until it is complete."""
    answer = await post_json(
        client, f"/api/backups/{backup_id}/listing", {"archive": archive}, recorder=recorder
    )
    if answer["job"] is not None:
        job = await wait_for_job(client, answer["job"]["id"], recorder=recorder)
        assert job["state"] == "succeeded", job
    return answer
