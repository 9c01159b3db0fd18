"""Taking files out: under the share folder only, space checked, conflicts, disk-full cleanup."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.backup_format.findings import Finding, FindingCode
from backup_inspector.demo.demo_backups import DEMO_PASSWORD
from backup_inspector.inspection import extract_files
from backup_inspector.inspection.extract_writer import ExtractReport
from backup_inspector.web import extract_destination
from backup_inspector.web.extract_routes import shortened_report

from .web_helpers import backup_id_named, list_archive, post_json, wait_for_job

PLAIN_NAME = "Full backup 2026-11-20"
CONFIG_PATH = "data/configuration.yaml"


async def extract(
    client: TestClient, backup_id: str, payload: dict[str, Any], *, status: int = 202
) -> dict[str, Any]:
    """POST an extraction; for 202 wait for the job and return it, else return the error."""
    answer = await post_json(client, f"/api/backups/{backup_id}/extract", payload, status=status)
    if status != 202:
        return answer
    return await wait_for_job(client, answer["job"]["id"])


def selection(paths: list[str], archive: str = "homeassistant") -> list[dict[str, Any]]:
    """The selections body for paths of one archive."""
    return [{"archive": archive, "paths": paths}]


@pytest.mark.parametrize(
    "destination",
    [
        "../outside",
        "backup_inspector/../../outside",
        "/etc",
        "/share/backup_inspector",
        "C:/Windows",
        "..",
        "a/\x01b",
    ],
)
async def test_destination_outside_share_is_refused(
    client: TestClient, share_dir: Path, destination: str
) -> None:
    """Destinations that leave the share folder are refused and nothing is written."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    for endpoint in ("extract/plan", "extract"):
        answer = await post_json(
            client,
            f"/api/backups/{backup_id}/{endpoint}",
            {"selections": selection([CONFIG_PATH]), "destination": destination},
            status=400,
        )
        assert answer["error"]["code"] == "destination-outside-share"
    assert list(share_dir.iterdir()) == []
    assert not (share_dir.parent / "outside").exists()


async def test_symlink_out_of_share_is_refused(
    client: TestClient, share_dir: Path, tmp_path: Path
) -> None:
    """A folder under share that is a symlink to elsewhere cannot be a destination."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (share_dir / "escape").symlink_to(elsewhere)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/extract",
        {"selections": selection([CONFIG_PATH]), "destination": "escape/sub"},
        status=400,
    )
    assert "symbolic link" in answer["error"]["message"]
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("path", ["../etc/passwd", "data/../../x", "/etc/passwd"])
async def test_entry_paths_with_dot_dot_are_refused(client: TestClient, path: str) -> None:
    """Selected paths with '..' or a leading '/' are bad input."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/extract",
        {"selections": selection([path])},
        status=400,
    )
    assert answer["error"]["code"] == "bad-path"


async def test_default_destination_and_plan(client: TestClient, share_dir: Path) -> None:
    """By default files go to share/backup_inspector/<backup name>; the plan shows space."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    detail = await client.get(f"/api/backups/{backup_id}")
    assert (await detail.json())["default_destination"] == f"backup_inspector/{PLAIN_NAME}"
    plan = await post_json(
        client,
        f"/api/backups/{backup_id}/extract/plan",
        {"selections": selection(["data"])},
    )
    assert plan["plan"]["needed_bytes"] is None  # not listed yet: unknown
    assert plan["plan"]["free_bytes"] > 0
    await list_archive(client, backup_id, "homeassistant")
    plan = await post_json(
        client,
        f"/api/backups/{backup_id}/extract/plan",
        {"selections": selection(["data"]), "destination": "restore/here"},
    )
    assert plan["plan"]["destination"] == "restore/here"
    assert plan["plan"]["needed_bytes"] > 0
    assert plan["plan"]["has_enough_space"] is True
    assert not (share_dir / "restore").exists()  # planning writes nothing


async def test_whole_archive_and_several_archives(client: TestClient, share_dir: Path) -> None:
    """Selections may span archives; an empty path list takes the whole archive."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    job = await extract(
        client,
        backup_id,
        {
            "selections": [
                {"archive": "ssl", "paths": []},
                {"archive": "homeassistant", "paths": [CONFIG_PATH]},
            ],
            "destination": "picked",
        },
    )
    assert job["state"] == "succeeded", job
    written = job["result"]["report"]["written"]
    assert CONFIG_PATH in written
    assert (share_dir / "picked" / CONFIG_PATH).is_file()
    assert len(written) > 1


@pytest.mark.parametrize(
    ("conflict", "expected_content", "extra_file"),
    [
        ("skip", b"mine", None),
        ("overwrite", None, None),
        ("keep-both", b"mine", "configuration (1).yaml"),
    ],
)
async def test_conflict_policies(
    client: TestClient,
    share_dir: Path,
    conflict: str,
    expected_content: bytes | None,
    extra_file: str | None,
) -> None:
    """An existing file is skipped, overwritten or kept beside the new one, as chosen."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    target = share_dir / "dest" / CONFIG_PATH
    target.parent.mkdir(parents=True)
    target.write_bytes(b"mine")
    job = await extract(
        client,
        backup_id,
        {"selections": selection([CONFIG_PATH]), "destination": "dest", "conflict": conflict},
    )
    assert job["state"] == "succeeded", job
    report = job["result"]["report"]
    if expected_content is not None:
        assert target.read_bytes() == expected_content
    else:
        assert target.read_bytes() != b"mine"
    if conflict == "skip":
        assert [item["path"] for item in report["skipped"]] == [CONFIG_PATH]
    if extra_file is not None:
        assert (target.parent / extra_file).is_file()


async def test_unknown_conflict_policy_is_400(client: TestClient) -> None:
    """Only skip, overwrite and keep-both exist."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/extract",
        {"selections": selection([CONFIG_PATH]), "conflict": "merge"},
        status=400,
    )
    assert "keep-both" in answer["error"]["message"]


async def test_not_enough_space_is_refused_up_front(
    client: TestClient, share_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the listing shows the files will not fit, nothing starts (507)."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    await list_archive(client, backup_id, "homeassistant")
    monkeypatch.setattr(extract_destination, "free_space_bytes", lambda _folder: 10)
    monkeypatch.setattr("backup_inspector.web.extract_routes.free_space_bytes", lambda _f: 10)
    answer = await post_json(
        client,
        f"/api/backups/{backup_id}/extract",
        {"selections": selection(["data"])},
        status=507,
    )
    assert answer["error"]["code"] == "not-enough-space"
    assert list(share_dir.iterdir()) == []


async def test_disk_full_midway_removes_the_partial_file(
    client: TestClient, share_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing stops the extraction, removes the half-written file and says why."""
    real_write_all = extract_files.write_all
    written_bytes = 0

    def fill_up_after_a_little(fd: int, data: bytes | memoryview) -> int:
        nonlocal written_bytes
        if written_bytes + memoryview(data).nbytes > 50_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written_bytes += memoryview(data).nbytes
        return real_write_all(fd, data)

    monkeypatch.setattr(extract_files, "write_all", fill_up_after_a_little)
    backup_id = await backup_id_named(client, PLAIN_NAME)
    job = await extract(
        client, backup_id, {"selections": selection(["data"]), "destination": "full-disk"}
    )
    assert job["state"] == "succeeded", job
    report = job["result"]["report"]
    assert "full" in (report["stopped_reason"] or "")
    refused = [item for item in report["refused"] if "space" in item["reason"]]
    assert len(refused) == 1
    destination = share_dir / "full-disk"
    leftovers = [path for path in destination.rglob("*") if ".bi-partial-" in path.name]
    assert leftovers == []
    assert not (destination / refused[0]["path"]).exists()
    for path in report["written"]:
        assert (destination / path).exists()


def test_long_reports_are_shortened_with_counts() -> None:
    """Huge lists, problems included, are cut (WebSocket messages stay small) but keep their full count."""
    refused = [(f"../f{n}", "outside") for n in range(50_000)]
    problems = [
        Finding(FindingCode.UNSAFE_ENTRY, f"Not extracted: '{path}'") for path, _ in refused
    ]
    report = ExtractReport(
        written=[f"f{n}" for n in range(1500)], refused=refused, problems=problems, bytes_written=9
    )
    shortened = shortened_report(report)
    assert len(shortened["written"]) == 1000
    assert shortened["written_count"] == 1500
    assert shortened["skipped_count"] == 0
    assert shortened["bytes_written"] == 9
    assert len(shortened["refused"]) == len(shortened["problems"]) == 1000
    assert shortened["refused_count"] == shortened["problems_count"] == 50_000
    assert shortened["refused"][-1] == {"path": "../f999", "reason": "outside"}


@pytest.fixture
async def reserve_client(make_client: Any, settings: Any) -> TestClient:
    """The app with a reserve (1 PB) larger than any test disk, so every plan cuts into it."""
    return await make_client(dataclasses.replace(settings, disk_reserve_bytes=10**15))


async def test_cutting_into_the_reserve_needs_confirmation(
    reserve_client: TestClient, share_dir: Path
) -> None:
    """The plan warns, a plain start is a 409 with the numbers, and a confirmed start extracts."""
    backup_id = await backup_id_named(reserve_client, PLAIN_NAME)
    await list_archive(reserve_client, backup_id, "homeassistant")
    body = {"selections": selection([CONFIG_PATH]), "destination": "low"}
    plan = (await post_json(reserve_client, f"/api/backups/{backup_id}/extract/plan", body))["plan"]
    assert plan["reserve_bytes"] == 10**15
    assert plan["needs_confirmation"] is True and plan["has_enough_space"] is True
    refused = await extract(reserve_client, backup_id, body, status=409)
    assert refused["error"]["code"] == "low-space-confirmation"
    assert "909.5 TiB Home Assistant needs free" in refused["error"]["message"]
    assert "are free" in refused["error"]["message"]
    assert not (share_dir / "low").exists()
    job = await extract(reserve_client, backup_id, {**body, "allow_low_space": True})
    assert job["state"] == "succeeded", job
    assert job["result"]["report"]["written"] == [CONFIG_PATH]
    assert (share_dir / "low" / CONFIG_PATH).is_file()


async def test_plan_within_the_reserve_needs_no_confirmation(
    client: TestClient,
) -> None:
    """With the default 2 GiB reserve and a roomy test disk, nothing asks."""
    backup_id = await backup_id_named(client, PLAIN_NAME)
    await list_archive(client, backup_id, "homeassistant")
    plan = await post_json(
        client,
        f"/api/backups/{backup_id}/extract/plan",
        {"selections": selection([CONFIG_PATH])},
    )
    assert plan["plan"]["reserve_bytes"] == 2 * 1024**3
    assert plan["plan"]["needs_confirmation"] is (
        plan["plan"]["free_bytes"] < plan["plan"]["needed_bytes"] + 2 * 1024**3
    )


async def test_app_start_removes_stale_partial_files(
    make_client: Any, settings: Any, share_dir: Path
) -> None:
    """Partial files a killed extraction left in the extraction folder are gone after a start."""
    folder = share_dir / settings.share_folder_name / "some backup" / "data"
    folder.mkdir(parents=True)
    stale = folder / f".config.yaml{extract_files.PARTIAL_FILE_MARKER}0123abcd"
    stale.write_bytes(b"half a file")
    lookalike = folder / "notes.bi-partial-draft.txt"  # the user's file: not our pattern
    lookalike.write_bytes(b"keep me")
    await make_client(settings)
    assert not stale.exists()
    assert lookalike.read_bytes() == b"keep me"


async def test_supervisor_archive_needs_an_explicit_confirmation(
    client: TestClient, share_dir: Path
) -> None:
    """supervisor.tar.gz into the share folder: 409 with the reason, then written once confirmed."""
    backup_id = await backup_id_named(client, "Automatic backup")
    await post_json(client, f"/api/backups/{backup_id}/password", {"password": DEMO_PASSWORD})
    payload = {"selections": selection([], archive="supervisor"), "destination": "settings"}
    refused = await extract(client, backup_id, payload, status=409)
    assert refused["error"]["code"] == "sensitive-archive-needs-confirmation"
    assert "registry logins" in refused["error"]["message"]
    assert not (share_dir / "settings").exists()

    not_true = await extract(client, backup_id, {**payload, "confirm_sensitive": "yes"}, status=409)
    assert not_true["error"]["code"] == "sensitive-archive-needs-confirmation"

    job = await extract(client, backup_id, {**payload, "confirm_sensitive": True})
    assert job["state"] == "succeeded", job
    assert job["result"]["report"]["written"]
    assert any((share_dir / "settings").rglob("*.json"))
