"""Start the service the way the s6 `run` script does, use it, stop it with SIGTERM.

The command line is read from the run script itself, so a change there is
tested here. Only the container paths (/backup, /share, /data) are pointed at
temporary folders and the port at a free one; the interpreter is the one
running the tests (.venv/bin/python) instead of the image's python3.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import REPOSITORY_ROOT, load_yaml, run_script_exec_argv

CONTAINER_FOLDERS = ("/backup", "/share", "/data")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def localised_command(tmp_path: Path, port: int) -> list[str]:
    """The run script's exec line with container folders moved under tmp_path."""
    argv = run_script_exec_argv()
    assert argv[0] == "python3", "run starts the app with the image's python3"
    localised = [sys.executable]
    for argument in argv[1:]:
        in_container_folder = any(
            argument == folder or argument.startswith(folder + "/") for folder in CONTAINER_FOLDERS
        )
        localised.append(str(tmp_path / argument.lstrip("/")) if in_container_folder else argument)
    localised[localised.index("--port") + 1] = str(port)
    return localised


def service_environment() -> dict[str, str]:
    """The environment with src/ first on PYTHONPATH, like /opt/backup_inspector in the image."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY_ROOT / "src"), environment.get("PYTHONPATH")])
    )
    return environment


def prepare_folders(tmp_path: Path, options: dict[str, object]) -> None:
    """The container folders under tmp_path, with /data/options.json holding `options`."""
    for folder in CONTAINER_FOLDERS:
        (tmp_path / folder.lstrip("/")).mkdir()
    (tmp_path / "data" / "options.json").write_text(json.dumps(options), encoding="utf-8")


def get(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET from loopback."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.status, response.headers.get("Content-Type", ""), response.read()


def wait_for_health(process: subprocess.Popen[bytes], url: str) -> tuple[int, str, bytes]:
    """Poll the health endpoint until it answers, the process dies, or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode} before it was healthy")
        try:
            return get(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within {START_TIMEOUT_S} s")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """The service running against temporary folders; its log is printed on failure."""
    options = {
        **load_yaml("config.yaml")["options"],
        "share_folder": "extracted",
        "password_idle_minutes": 5,
        "log_level": "debug",
    }
    prepare_folders(tmp_path, options)
    port = free_port()
    log_path = tmp_path / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            localised_command(tmp_path, port),
            cwd=REPOSITORY_ROOT,
            env=service_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process, port, tmp_path
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
            print(log_path.read_text(encoding="utf-8", errors="replace"))


def test_run_script_paths_are_the_mapped_folders() -> None:
    """The command line uses exactly the folders config.yaml maps, plus /data.

    The read-only config folder is the exception: the app reads it at its
    fixed mount point (live_config.DEFAULT_CONFIG_DIR) only to compare files.
    """
    argv = run_script_exec_argv()
    used = {argument.split("/")[1] for argument in argv if argument.startswith("/")}
    mapped = {entry["type"] for entry in load_yaml("config.yaml")["map"]}
    assert used == mapped - {"homeassistant_config"} | {"data"}


def test_service_starts_serves_and_stops_cleanly(
    service: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    """Health endpoint, then the page, then SIGTERM ends it with exit code 0 within seconds."""
    process, port, _ = service
    status, content_type, body = wait_for_health(process, f"http://127.0.0.1:{port}/healthz")
    assert status == 200
    assert content_type.startswith("application/json")
    assert json.loads(body) == {"status": "ok"}

    status, content_type, body = get(f"http://127.0.0.1:{port}/")
    assert status == 200
    assert content_type.startswith("text/html")
    assert b"<html" in body.lower()

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT_S) == 0


def test_service_refuses_invalid_options_with_a_clear_message(tmp_path: Path) -> None:
    """A bad option stops the start with a non-zero exit and names the option.

    The finish script then halts the container, and the Supervisor's log shows
    the reason, instead of a web UI running with settings nobody chose.
    """
    prepare_folders(tmp_path, {"share_folder": "../outside"})
    result = subprocess.run(
        localised_command(tmp_path, free_port()),
        cwd=REPOSITORY_ROOT,
        env=service_environment(),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    assert result.returncode != 0
    assert "share_folder" in result.stdout + result.stderr
