"""`backup-inspector serve`: arguments, settings and the server's life until SIGTERM.

In the add-on the defaults fit the container: backups in /backup, the share
folder /share, options in /data/options.json, all interfaces on port 8099
(only the ingress proxy and loopback are answered). `--demo DIR` is for
trying it on a desktop: it fills DIR/backups with generated backups on first
start and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path

from aiohttp import web

from backup_inspector.addon_options import AddonOptions, load_addon_options
from backup_inspector.inspection.passwords import password_from_text, read_password_file
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.connection_guard import GuardedTCPSite
from backup_inspector.web.middlewares import parse_trusted_proxies
from backup_inspector.web.serve_arguments import (  # noqa: F401 - re-exported
    DEFAULT_PORT,
    add_serve_arguments,
)
from backup_inspector.web.web_settings import (
    SUPERVISOR_CORE_API,
    SUPERVISOR_INGRESS_PROXY,
    WebSettings,
)

_LOGGER: logging.Logger = logging.getLogger(__name__)

ADDON_BACKUP_DIR = Path("/backup")
ADDON_SHARE_DIR = Path("/share")
ADDON_DATA_DIR = Path("/data")
ADDON_OPTIONS_FILE = ADDON_DATA_DIR / "options.json"
ADDON_HOST = "0.0.0.0"  # noqa: S104 - the ingress proxy reaches the container over the hassio network
LOCAL_HOST = "127.0.0.1"
TOKEN_ENV = "SUPERVISOR_TOKEN"  # noqa: S105 - the variable's name, not a token
PASSWORD_ENV = "BACKUP_PASSWORD"  # noqa: S105 - the variable's name, not a password


def watch_password(args: argparse.Namespace, options: AddonOptions) -> str | None:
    """The background checks' key: --password-file, the option, or BACKUP_PASSWORD."""
    if args.password_file is not None:
        return password_from_text(read_password_file(args.password_file))
    if options.watch_password is not None:
        return options.watch_password
    from_environment = os.environ.get(PASSWORD_ENV)
    return password_from_text(from_environment) if from_environment else None


def core_api_settings(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """(Core API URL, token, link to the page for notifications).

    In the add-on the Supervisor sets SUPERVISOR_TOKEN and proxies the Core
    API; the page is the app's ingress panel, /hassio/ingress/<slug> (the
    container's host name is the slug with "-" for "_"). On a desktop only
    `--core-api` turns reporting on.
    """
    token = os.environ.get(TOKEN_ENV)
    if args.core_api:
        return args.core_api, token, f"http://{args.host or LOCAL_HOST}:{args.port}/"
    if token and args.demo is None:
        slug = os.environ.get("HOSTNAME", "backup-inspector").replace("-", "_")
        return SUPERVISOR_CORE_API, token, f"/hassio/ingress/{slug}"
    return None, None, "/"


def prepare_demo_folder(demo_dir: Path) -> tuple[Path, Path, Path]:
    """(backups, share, data) under `demo_dir`; demo backups are written on first start."""
    from backup_inspector.demo.demo_backups import create_demo_folder  # noqa: PLC0415

    backup_dir = demo_dir / "backups"
    share_dir = demo_dir / "share"
    data_dir = demo_dir / "data"
    for folder in (backup_dir, share_dir, data_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if not any(backup_dir.glob("*.tar")):
        written = create_demo_folder(backup_dir)
        _LOGGER.info("Wrote %d demo backups to %s", len(written), backup_dir)
    return backup_dir, share_dir, data_dir


def settings_from_arguments(args: argparse.Namespace) -> tuple[WebSettings, str, int]:
    """(settings, host, Python log level) from the command line and the options file."""
    backup_dir, share_dir, data_dir = ADDON_BACKUP_DIR, ADDON_SHARE_DIR, ADDON_DATA_DIR
    host = ADDON_HOST
    options_file = args.options
    if args.demo is not None:
        backup_dir, share_dir, data_dir = prepare_demo_folder(args.demo)
        host = LOCAL_HOST
    elif options_file is None and ADDON_OPTIONS_FILE.exists():
        options_file = ADDON_OPTIONS_FILE
    options = load_addon_options(options_file)
    core_api_url, core_api_token, page_link = core_api_settings(args)
    settings = WebSettings(
        backup_dir=args.backup_dir or backup_dir,
        share_dir=args.share_dir or share_dir,
        data_dir=args.data_dir or (data_dir if data_dir.is_dir() else None),
        share_folder_name=options.share_folder,
        password_idle_s=options.password_idle_s,
        trusted_proxies=tuple(args.trusted_proxy or (SUPERVISOR_INGRESS_PROXY,)),
        remember_index=options.remember_index,
        verify_new_backups=args.verify_new
        or (options_file is not None and options.verify_new_backups),
        backup_password=watch_password(args, options),
        core_api_url=core_api_url,
        core_api_token=core_api_token,
        page_link=page_link,
    )
    return settings, args.host or host, options.python_log_level


async def serve_until_stopped(settings: WebSettings, host: str, port: int) -> None:
    """Run the app until SIGTERM or SIGINT, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        site = GuardedTCPSite(
            runner,
            host,
            port,
            parse_trusted_proxies(settings.trusted_proxies),
            settings.header_timeout_s,
        )
        await site.start()
        _LOGGER.info(
            "Backup Inspector listens on http://%s:%d/ (backups: %s, share: %s)",
            host,
            port,
            settings.backup_dir,
            settings.share_dir,
        )
        await stop.wait()
        _LOGGER.info("Stopping")
    finally:
        await runner.cleanup()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signal_number)


def run_serve(args: argparse.Namespace) -> int:
    """`backup-inspector serve`: 0 after a clean stop, 2 when it cannot start."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings, host, log_level = settings_from_arguments(args)
    except Exception as error:  # a bad options file or folder: say so, no traceback
        _LOGGER.error("Cannot start: %s", error)
        return 2
    logging.getLogger().setLevel(log_level)
    try:
        asyncio.run(serve_until_stopped(settings, host, args.port))
    except OSError as error:
        _LOGGER.error("Cannot listen on %s:%d: %s", host, args.port, error.strerror or error)
        return 2
    return 0
