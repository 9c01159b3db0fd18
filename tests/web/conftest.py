"""Fixtures for the web tests: real demo backups, a fresh share folder, the app's test client."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.demo.demo_backups import create_demo_folder
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.web_settings import WebSettings

ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture(scope="session")
def demo_backup_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The demo backups, written once per test session."""
    return create_demo_folder(tmp_path_factory.mktemp("demo-backups"))


@pytest.fixture
def backup_dir(tmp_path: Path, demo_backup_files: list[Path]) -> Path:
    """A backup folder of this test's own, holding copies of the demo backups."""
    folder = tmp_path / "backup"
    folder.mkdir()
    for source in demo_backup_files:
        shutil.copy2(source, folder / source.name)
    return folder


@pytest.fixture
def share_dir(tmp_path: Path) -> Path:
    """An empty share folder."""
    folder = tmp_path / "share"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(backup_dir: Path, share_dir: Path, tmp_path: Path) -> WebSettings:
    """Settings as in the add-on, with test folders and a fast folder watch."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return WebSettings(
        backup_dir=backup_dir,
        share_dir=share_dir,
        data_dir=data_dir,
        folder_poll_interval_s=0.2,
    )


@pytest.fixture
async def make_client(aiohttp_client: Callable[..., Awaitable[TestClient]]) -> ClientFactory:
    """Start the app for given settings and return its test client."""

    async def start(app_settings: WebSettings) -> TestClient:
        return await aiohttp_client(create_app(app_settings))

    return start


@pytest.fixture
async def client(make_client: ClientFactory, settings: WebSettings) -> TestClient:
    """The app's test client (connects from 127.0.0.1, a trusted peer)."""
    return await make_client(settings)
