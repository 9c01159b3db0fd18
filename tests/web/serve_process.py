"""A real `backup-inspector serve` process for tests: a free port, start, wait, JSON GETs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

CLI_MAIN = "import sys; from backup_inspector.cli.main import main; sys.exit(main())"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serve(*arguments: str) -> subprocess.Popen[bytes]:
    """`serve` with `arguments`, its output captured (read it when it dies early)."""
    return subprocess.Popen(
        [sys.executable, "-c", CLI_MAIN, "serve", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def get_json_url(url: str) -> object:
    """GET a URL of the running server and parse its JSON."""
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - http://127.0.0.1 only
        return json.load(answer)


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, timeout_s: float = 60) -> None:
    """Poll /healthz until it answers ok; fail with the output if the process died, or on time."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            assert get_json_url(f"http://127.0.0.1:{port}/healthz") == {"status": "ok"}
            return
        except OSError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "serve never started listening"
            time.sleep(0.2)
