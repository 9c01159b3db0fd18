"""What the web app needs to know about its host: folders, proxies, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from backup_inspector.inspection.extract_writer import DEFAULT_DISK_RESERVE_BYTES

SUPERVISOR_INGRESS_PROXY = "172.30.32.2"  # addon-platform.md §8.1
DEFAULT_SHARE_FOLDER_NAME = "backup_inspector"
DEFAULT_PASSWORD_IDLE_MINUTES = 15
SUPERVISOR_CORE_API = "http://supervisor/core/api"  # with homeassistant_api: true


@dataclass(frozen=True)
class WebSettings:
    """Settings of one running web app.

    `trusted_proxies` are the socket peers (addresses or networks) allowed to
    talk to the app; loopback is always allowed on top (the container's health
    check and local use). `share_folder_name` is the add-on option: the folder
    under `share_dir` where extractions go by default.
    """

    backup_dir: Path
    share_dir: Path
    data_dir: Path | None = None
    share_folder_name: str = DEFAULT_SHARE_FOLDER_NAME
    password_idle_s: float = DEFAULT_PASSWORD_IDLE_MINUTES * 60.0
    trusted_proxies: tuple[str, ...] = (SUPERVISOR_INGRESS_PROXY,)
    max_heavy_jobs: int = 1
    max_light_jobs: int = 4
    folder_poll_interval_s: float = 3.0
    websocket_keepalive_s: float = 20.0
    header_timeout_s: float = 5.0  # a connection's first request headers, then it is dropped
    remember_index: bool = False
    # Today's Home Assistant config, mapped read-only (homeassistant_config): compared, never written.
    config_dir: Path = Path("/homeassistant")
    # Free space extraction keeps on the share folder's disk unless the user confirms.
    disk_reserve_bytes: int = DEFAULT_DISK_RESERVE_BYTES

    # The background watch (issue 11): off unless the option or --verify-new turns it on.
    verify_new_backups: bool = False
    backup_password: str | None = field(default=None, repr=False)
    watch_stable_s: float = 30.0
    # Home Assistant's Core API: where, with which token, and the link notifications carry.
    core_api_url: str | None = None
    core_api_token: str | None = field(default=None, repr=False)
    core_poll_s: float = 60.0
    page_link: str = "/"

    @property
    def database_check_dir(self) -> Path | None:
        """Where a full check decrypts the recorder database for SQLite (None: system temp).

        In the add-on that is under /data, private to the add-on; the check
        removes its folder when it ends (inspection/database_check.py).
        """
        return self.data_dir / "database-check" if self.data_dir is not None else None
