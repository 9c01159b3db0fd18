"""`backup-inspector serve`: options, demo folder, health check and a clean SIGTERM stop."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from pathlib import Path

from backup_inspector.web.server import add_serve_arguments, settings_from_arguments

from .serve_process import free_port, get_json_url, start_serve, wait_until_healthy


def parse(*arguments: str) -> argparse.Namespace:
    """Parse serve arguments."""
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(list(arguments))


def test_options_file_sets_share_folder_and_idle_time(tmp_path: Path) -> None:
    """--options feeds the add-on options into the settings."""
    options = tmp_path / "options.json"
    options.write_text(
        json.dumps(
            {
                "share_folder": "restored",
                "password_idle_minutes": 5,
                "log_level": "debug",
                "remember_index": False,
            }
        )
    )
    settings, host, log_level = settings_from_arguments(
        parse(
            "--backup-dir",
            str(tmp_path),
            "--share-dir",
            str(tmp_path),
            "--options",
            str(options),
            "--trusted-proxy",
            "10.0.0.1",
        )
    )
    assert settings.share_folder_name == "restored"
    assert settings.password_idle_s == 300
    assert settings.trusted_proxies == ("10.0.0.1",)
    assert host == "0.0.0.0"  # noqa: S104 - the add-on default
    assert log_level == logging.DEBUG


def test_demo_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """--demo fills the folder, listens on loopback, answers /healthz and exits 0 on SIGTERM."""
    port = free_port()
    demo = tmp_path / "demo"
    process = start_serve("--demo", str(demo), "--port", str(port))
    try:
        wait_until_healthy(process, port)
        listing = get_json_url(f"http://127.0.0.1:{port}/api/backups")
        assert isinstance(listing, dict) and len(listing["backups"]) >= 3
        assert sorted(path.name for path in demo.iterdir()) == ["backups", "data", "share"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
