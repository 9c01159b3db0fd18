"""The command line of `backup-inspector serve`, without importing the web server.

Kept apart from server.py so that the CLI's other commands do not import
aiohttp just to build their argument parser (it halves their start-up time).
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

DEFAULT_PORT = 8099  # the add-on's ingress port (config.yaml leaves the default)
_HIGHEST_PORT = 65535  # TCP port numbers are 16 bits


def port_number(text: str) -> int:
    """A TCP port 1–65535, checked while parsing so a bad one is a usage error (exit 2).

    Left to the socket layer, 99999 surfaced as an OverflowError long after
    parsing, which the CLI could only call an "unexpected error" (exit 1).
    """
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= _HIGHEST_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-{_HIGHEST_PORT})")
    return port


def proxy_address(text: str) -> str:
    """An IP address or network (10.0.0.1, 172.30.32.0/23, ::1), kept as written.

    The web app parses the same text again when it builds its allow-list;
    checking it here turns a typo into a usage message instead of a crash
    at start-up.
    """
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IP address or network (e.g. 172.30.32.2 or 172.30.32.0/23)"
        ) from None
    return text


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `backup-inspector serve`."""
    parser.add_argument("--backup-dir", type=Path, help="folder with the backups (default /backup)")
    parser.add_argument("--share-dir", type=Path, help="where extracted files go (default /share)")
    parser.add_argument("--data-dir", type=Path, help="the add-on's data folder (default /data)")
    parser.add_argument(
        "--options", type=Path, help="add-on options file (default /data/options.json if present)"
    )
    parser.add_argument(
        "--host", help="address to listen on (default 0.0.0.0; 127.0.0.1 with --demo)"
    )
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port (default 8099)"
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        type=proxy_address,
        metavar="IP",
        help="a proxy address or network allowed to connect (repeatable; default 172.30.32.2). "
        "Loopback is always allowed.",
    )
    parser.add_argument(
        "--verify-new",
        action="store_true",
        help="check every new or changed backup by itself, and each existing one once "
        "(the add-on's verify_new_backups option)",
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="the key the background checks use for encrypted backups "
        "(default: the BACKUP_PASSWORD environment variable)",
    )
    parser.add_argument(
        "--core-api",
        metavar="URL",
        help="report verdicts to Home Assistant's Core API at URL (e.g. http://homeassistant.local:8123/api); "
        "the token comes from SUPERVISOR_TOKEN",
    )
    parser.add_argument(
        "--demo",
        type=Path,
        metavar="DIR",
        help="try it out: generated demo backups in DIR/backups, extracted files in DIR/share",
    )
