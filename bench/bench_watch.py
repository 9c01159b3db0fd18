"""Benchmark: how quick the page's API stays while the background watch checks a large backup.

Measured from outside, as a user would see it: a real `backup-inspector serve
--verify-new` process on loopback, a fake Home Assistant Core API on loopback
(it records the calls the watch makes), and a large backup copied into the
backup folder. API latency (GET /api/backups, /api/health and one backup) is
sampled before the copy (idle) and while the watch check runs; the goal is
under 200 ms per request. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_watch.py                  # ~800 MB of content
    .venv/bin/python bench/bench_watch.py --content-mb 300 --encryption v3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import PASSWORD, backup_path, build_backup

SAMPLE_PATHS = ("api/backups", "api/health")
TOKEN = "bench-token"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeCore:
    """A Core API on loopback in its own thread, recording what the watch posts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[float, str]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls.append((time.monotonic(), f"{request.method} {request.path}"))
        if request.method == "GET" and request.path.startswith("/api/states/"):
            return web.json_response({"state": "on"})
        return web.json_response({"message": "ok"})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


def get_json(url: str) -> tuple[float, Any]:
    """(milliseconds, parsed JSON) of one GET."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        data = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, data


def sample(base: str, seconds: float) -> list[float]:
    """Latencies of the page's GETs, one after another with a short pause, for `seconds`."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in SAMPLE_PATHS:
            latencies.append(get_json(base + path)[0])
        time.sleep(0.05)
    return latencies


def sample_during_check(base: str) -> tuple[list[float], float, dict[str, Any]]:
    """Poll the page's GETs until the backup has a verdict; latencies while a check ran.

    Every round asks /api/health (which says whether the watch is checking)
    and the list and detail; a round counts as "during the check" when the
    health answer said so.
    """
    during: list[float] = []
    first_seen = last_seen = None
    while True:
        elapsed, health = get_json(base + "api/health")
        backups = health["backups"]
        is_checking = health["watch"]["checking"] is not None
        round_latencies = [elapsed, get_json(base + "api/backups")[0]]
        if backups:
            round_latencies.append(get_json(base + f"api/backups/{backups[0]['id']}")[0])
        if is_checking:
            now = time.monotonic()
            first_seen = first_seen or now
            last_seen = now
            during.extend(round_latencies)
        if backups and backups[0]["verdict"] != "unchecked" and not is_checking:
            span = (last_seen - first_seen) if first_seen and last_seen else 0.0
            return during, span, health
        time.sleep(0.05)


def describe(latencies: list[float]) -> str:
    if not latencies:
        return "no samples"
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{len(ordered)} requests: median {statistics.median(ordered):.1f} ms, "
        f"p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"
    )


def wait_for(condition, timeout_s: float, step_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content-mb", type=int, default=800)
    parser.add_argument("--encryption", choices=("none", "v2", "v3"), default="none")
    args = parser.parse_args()

    source = backup_path(args.encryption, args.content_mb)
    if not source.exists():
        print(f"Generating {source.name} ...", flush=True)
        source.parent.mkdir(parents=True, exist_ok=True)
        build_backup(source, args.encryption, args.content_mb)
    core = FakeCore()
    core.start()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as temporary:
        root = Path(temporary)
        backup_dir, share_dir, data_dir = root / "backup", root / "share", root / "data"
        for folder in (backup_dir, share_dir, data_dir):
            folder.mkdir()
        port = free_port()
        environment = {**os.environ, "SUPERVISOR_TOKEN": TOKEN, "BACKUP_PASSWORD": PASSWORD}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backup_inspector",
                "serve",
                "--backup-dir",
                str(backup_dir),
                "--share-dir",
                str(share_dir),
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--verify-new",
                "--core-api",
                core.url,
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/"
        try:
            assert wait_for(lambda: _answers(base), 30), "the server did not start"
            idle = sample(base, 5.0)
            print(f"Idle, empty folder:      {describe(idle)}")

            # Copied in as `cp -p` would: an mtime older than the 30 s stable time.
            target = backup_dir / "large.tar"
            copied_at = time.monotonic()
            shutil.copyfile(source, target)
            past = time.time() - 3600
            os.utime(target, (past, past))
            print(
                f"Copied {source.stat().st_size / 1e6:.0f} MB in {time.monotonic() - copied_at:.1f} s"
            )

            busy, check_s, health = sample_during_check(base)
            print(f"While the watch checks:  {describe(busy)}")
            print(
                f"Copy to verdict: {time.monotonic() - copied_at:.1f} s; check seen running {check_s:.1f} s"
            )
            print(f"Verdict: {health['backups'][0]['verdict']}; counts {health['counts']}")
            states = [call for _at, call in core.calls if "/states/" in call]
            print(f"Core API: {len(core.calls)} calls, {len(states)} of them states")
        finally:
            server.terminate()
            server.wait(30)


def _answers(base: str) -> bool:
    try:
        get_json(base + "healthz")
    except OSError:
        return False
    return True


if __name__ == "__main__":
    main()
