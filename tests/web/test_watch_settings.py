"""`serve` settings for the watch: --verify-new, the key's sources, and the Core API."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from backup_inspector.web.server import add_serve_arguments, settings_from_arguments
from backup_inspector.web.web_settings import SUPERVISOR_CORE_API

SECRET = "watch-key-123"


def parse(tmp_path: Path, *arguments: str) -> argparse.Namespace:
    """serve arguments with test folders."""
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    folders = ["--backup-dir", str(tmp_path), "--share-dir", str(tmp_path)]
    return parser.parse_args([*folders, *arguments])


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No token or password leaks in from the machine running the tests."""
    for name in ("SUPERVISOR_TOKEN", "BACKUP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def test_the_desktop_watches_only_with_verify_new(tmp_path: Path) -> None:
    """Without an options file the watch is off unless asked for."""
    assert not settings_from_arguments(parse(tmp_path))[0].verify_new_backups
    assert settings_from_arguments(parse(tmp_path, "--verify-new"))[0].verify_new_backups


def test_the_add_on_option_turns_the_watch_on_by_default(tmp_path: Path) -> None:
    """An options file without the key gets verify_new_backups' default: on."""
    options = tmp_path / "options.json"
    options.write_text(json.dumps({}))
    settings = settings_from_arguments(parse(tmp_path, "--options", str(options)))[0]
    assert settings.verify_new_backups
    options.write_text(json.dumps({"verify_new_backups": False}))
    settings = settings_from_arguments(parse(tmp_path, "--options", str(options)))[0]
    assert not settings.verify_new_backups


def test_the_key_comes_from_the_file_then_the_option_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each source works, in that order, and the key never shows in the settings' repr."""
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"backup_password": "from-option"}))
    key_file = tmp_path / "key.txt"
    key_file.write_text(SECRET + "\n")
    monkeypatch.setenv("BACKUP_PASSWORD", "from-environment")
    with_file = parse(tmp_path, "--options", str(options), "--password-file", str(key_file))
    assert settings_from_arguments(with_file)[0].backup_password == SECRET
    assert SECRET not in repr(settings_from_arguments(with_file)[0])
    with_option = parse(tmp_path, "--options", str(options))
    assert settings_from_arguments(with_option)[0].backup_password == "from-option"
    assert settings_from_arguments(parse(tmp_path))[0].backup_password == "from-environment"


def test_the_core_api_is_the_supervisor_proxy_in_the_add_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SUPERVISOR_TOKEN set the add-on reports through the Supervisor; the token is hidden."""
    monkeypatch.setenv("SUPERVISOR_TOKEN", "tok-abc")
    monkeypatch.setenv("HOSTNAME", "local-backup-inspector")
    settings = settings_from_arguments(parse(tmp_path))[0]
    assert settings.core_api_url == SUPERVISOR_CORE_API
    assert settings.core_api_token == "tok-abc"
    assert settings.page_link == "/hassio/ingress/local_backup_inspector"
    assert "tok-abc" not in repr(settings)


def test_the_desktop_reports_only_with_core_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--core-api URL with the token from SUPERVISOR_TOKEN; --demo alone never reports."""
    assert settings_from_arguments(parse(tmp_path))[0].core_api_url is None
    monkeypatch.setenv("SUPERVISOR_TOKEN", "tok-abc")
    demo = parse(tmp_path, "--demo", str(tmp_path / "demo"))
    assert settings_from_arguments(demo)[0].core_api_url is None
    url = "http://127.0.0.1:8123/api"
    settings = settings_from_arguments(parse(tmp_path, "--core-api", url, "--port", "9000"))[0]
    assert settings.core_api_url == url
    assert settings.page_link == "http://127.0.0.1:9000/"
