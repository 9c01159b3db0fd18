"""Benchmark: the web server under the issue-9 attacks (slowloris, huge results, many checks).

Prints figures; asserts nothing (the regression tests in tests/web assert the
bounds). Everything runs in-process against the real service code:

* 1 100 half-sent requests from an untrusted peer (loopback left out of the
  trusted set), then from a trusted one: how long until the server has
  closed them all;
* a job result with 50 000 refused entries: bytes before and after capping,
  and the time the cap takes;
* 300 quick-check jobs submitted at once: peak job threads.

    .venv/bin/python bench/bench_web_hardening.py
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import threading
import time
from pathlib import Path

from aiohttp import web

from backup_inspector.inspection.job_runner import JobRunner
from backup_inspector.inspection.result_caps import cap_result, json_size
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.connection_guard import GuardedTCPSite
from backup_inspector.web.middlewares import parse_trusted_proxies
from backup_inspector.web.web_settings import WebSettings

CONNECTIONS = 1100
HALF_REQUEST = b"GET /api/backups HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


async def _hold_half_requests(port: int) -> tuple[float, int]:
    """Open CONNECTIONS half-sent requests; (seconds until all closed, how many got bytes)."""
    connections = []
    for _ in range(CONNECTIONS):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HALF_REQUEST)
        connections.append((reader, writer))
    began = time.monotonic()

    async def until_closed(reader: asyncio.StreamReader) -> int:
        received = 0
        try:
            while chunk := await asyncio.wait_for(reader.read(65536), 60):
                received += len(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
        return received

    sizes = await asyncio.gather(*(until_closed(reader) for reader, _ in connections))
    elapsed = time.monotonic() - began
    for _, writer in connections:
        writer.close()
    return elapsed, sum(1 for size in sizes if size)


async def _slowloris(folder: Path, *, loopback_trusted: bool) -> tuple[float, int]:
    """Run the app behind the connection guard and hold half-sent requests against it."""
    settings = WebSettings(backup_dir=folder, share_dir=folder)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    trusted = parse_trusted_proxies([], include_loopback=loopback_trusted)
    site = GuardedTCPSite(runner, "127.0.0.1", 0, trusted, settings.header_timeout_s)
    await site.start()
    try:
        return await _hold_half_requests(site.port)
    finally:
        await runner.cleanup()


def _result_cap() -> None:
    """Bytes of a 50 000-refusal result before and after the cap."""
    refused = [
        {"path": f"../../escape/{'deep/' * 30}file-{n}.txt", "reason": "outside the destination"}
        for n in range(50_000)
    ]
    result = {"report": {"refused": refused, "problems": list(refused)}}
    began = time.perf_counter()
    capped = cap_result(result)
    elapsed = time.perf_counter() - began
    print(
        f"result cap: {json_size(result) / 1e6:.1f} MB -> {json_size(capped) / 1e3:.0f} KB "
        f"in {elapsed * 1000:.0f} ms; refused_omitted={capped['report']['refused_omitted']}"
    )


def _quick_checks() -> None:
    """Peak job threads with 300 light jobs submitted at once."""
    runner = JobRunner()
    release = threading.Event()
    before = threading.active_count()
    refused = 0
    for n in range(300):
        try:
            runner.submit("quick-check", f"q{n}", lambda _c: release.wait(10), is_heavy=False)
        except Exception:
            refused += 1
    peak = threading.active_count() - before
    release.set()
    runner.shutdown()
    print(f"300 quick checks: {peak} job threads, {refused} refused as busy")


def main() -> None:
    """Print every figure."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    with tempfile.TemporaryDirectory() as folder:
        for trusted in (False, True):
            elapsed, answered = asyncio.run(_slowloris(Path(folder), loopback_trusted=trusted))
            who = "trusted" if trusted else "untrusted"
            print(
                f"slowloris, {who} peer: {CONNECTIONS} half-sent requests all closed "
                f"after {elapsed:.2f} s ({answered} got a 403)"
            )
    _result_cap()
    _quick_checks()


if __name__ == "__main__":
    main()
