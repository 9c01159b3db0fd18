"""Where the CLI gets a password: a file, an emergency kit, the environment, or a prompt.

The password is never echoed, logged or written anywhere.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from ..inspection.passwords import read_emergency_kit, read_password_file

PASSWORD_ENV = "BACKUP_PASSWORD"  # noqa: S105 - the variable's name, not a password


class PasswordSourceError(Exception):
    """A password source was named but cannot be used; the message says why."""


def resolve_password(
    password_file: Path | None, emergency_kit: Path | None, *, needed: bool
) -> str | None:
    """The password from the first source given; prompt only if needed and on a terminal."""
    if password_file is not None:
        try:
            return read_password_file(password_file)
        except OSError as err:
            raise PasswordSourceError(
                f"cannot read the password file {password_file}: {err.strerror}"
            ) from err
        except ValueError as err:  # not UTF-8 text, or far too large to be a password file
            raise PasswordSourceError(f"{password_file}: {err}") from err
    if emergency_kit is not None:
        try:
            return read_emergency_kit(emergency_kit)
        except OSError as err:
            raise PasswordSourceError(
                f"cannot read the emergency kit {emergency_kit}: {err.strerror}"
            ) from err
        except ValueError as err:  # no key, several keys, or far too large to be a kit
            raise PasswordSourceError(f"{emergency_kit}: {err}") from err
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV]
    if needed and sys.stdin.isatty() and sys.stderr.isatty():
        try:
            return getpass.getpass("Backup password or emergency-kit key: ")
        except (EOFError, KeyboardInterrupt):
            return None
    return None
