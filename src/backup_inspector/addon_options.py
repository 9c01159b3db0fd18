"""The add-on's options: /data/options.json, validated as config.yaml declares them.

The Supervisor validates the options against config.yaml's `schema` before it
starts the app, so in the add-on this module mostly fills in defaults and turns
JSON into typed values. It validates again anyway: the file can be older than
the schema (an option added by an update), and `serve` can run outside Home
Assistant with a hand-written file. SCHEMA_ADDON_OPTIONS mirrors config.yaml's
`schema` key for key (tests/addon/test_addon_options.py compares the two).

One option is a secret: `backup_password` (schema type `password`), the key
the background watch uses for encrypted backups. The Supervisor stores every
option, this one included, in plain JSON in /data/options.json (inside the
app's data folder, readable by the Supervisor and by backups of the app). Here
it stays in memory: it is kept out of reprs, and error messages name the
option, never its value. Every other option may appear in logs.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import voluptuous as vol

from backup_inspector.inspection.passwords import password_from_text

_LOGGER: logging.Logger = logging.getLogger(__name__)

# config.yaml: share_folder: "match(...)". One or more path segments, each
# starting with a letter, digit or underscore: no absolute path, no "." or
# ".." segment, no hidden folder, no empty segment or trailing slash.
SHARE_FOLDER_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$"
PASSWORD_IDLE_MINUTES_MIN = 1
PASSWORD_IDLE_MINUTES_MAX = 1440  # one day
LOG_LEVELS = ("debug", "info", "warning", "error")

DEFAULT_SHARE_FOLDER = "backup_inspector"
DEFAULT_PASSWORD_IDLE_MINUTES = 15
DEFAULT_LOG_LEVEL = "info"
DEFAULT_REMEMBER_INDEX = False
DEFAULT_VERIFY_NEW_BACKUPS = True

_PYTHON_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _plain_relative_folder(value: str) -> str:
    """Accept a relative sub-folder of /share; say plainly what is wrong otherwise.

    SHARE_FOLDER_PATTERN already refuses all of these; the checks here give the
    user a reason instead of "does not match regular expression".
    """
    if not value:
        raise vol.Invalid("must not be empty")
    path = PurePosixPath(value)
    if path.is_absolute():
        raise vol.Invalid("must be a folder inside /share, not an absolute path")
    if ".." in path.parts:
        raise vol.Invalid('must not contain ".."')
    if not re.match(SHARE_FOLDER_PATTERN, value):
        raise vol.Invalid(
            "may only use letters, digits, '_', '-' and '.', separated by '/', "
            "and no part may start with '.' or '-'"
        )
    return value


# The Supervisor's option types, as supervisor/apps/options.py validates them:
# match(...) → str + regex, int(min,max) → Coerce(int) + Range,
# list(a|b) → one of the values, bool → Boolean(), password → str.
SCHEMA_ADDON_OPTIONS = vol.Schema(
    {
        vol.Optional("share_folder", default=DEFAULT_SHARE_FOLDER): vol.All(
            str, _plain_relative_folder
        ),
        vol.Optional("password_idle_minutes", default=DEFAULT_PASSWORD_IDLE_MINUTES): vol.All(
            vol.Coerce(int),
            vol.Range(min=PASSWORD_IDLE_MINUTES_MIN, max=PASSWORD_IDLE_MINUTES_MAX),
        ),
        vol.Optional("log_level", default=DEFAULT_LOG_LEVEL): vol.In(LOG_LEVELS),
        vol.Optional("remember_index", default=DEFAULT_REMEMBER_INDEX): vol.Boolean(),
        vol.Optional("verify_new_backups", default=DEFAULT_VERIFY_NEW_BACKUPS): vol.Boolean(),
        # password? → str, optional, no default: absent means "no key".
        vol.Optional("backup_password"): str,
    }
)


@dataclass(frozen=True)
class AddonOptions:
    """The add-on's options, validated, with defaults filled in."""

    share_folder: str = DEFAULT_SHARE_FOLDER
    password_idle_minutes: int = DEFAULT_PASSWORD_IDLE_MINUTES
    log_level: str = DEFAULT_LOG_LEVEL
    remember_index: bool = DEFAULT_REMEMBER_INDEX
    verify_new_backups: bool = DEFAULT_VERIFY_NEW_BACKUPS
    backup_password: str | None = field(default=None, repr=False)

    @property
    def password_idle_s(self) -> float:
        """How long an unused password is kept in memory, in seconds."""
        return self.password_idle_minutes * 60.0

    @property
    def python_log_level(self) -> int:
        """The `logging` level that `log_level` names."""
        return _PYTHON_LOG_LEVELS[self.log_level]

    @property
    def watch_password(self) -> str | None:
        """The key for the watch's checks: None when the option is unset or blank."""
        if self.backup_password is None or not self.backup_password.strip():
            return None
        return password_from_text(self.backup_password)


def load_addon_options(path: Path | None) -> AddonOptions:
    """Read and validate the options file; defaults when there is none.

    A missing file (or no path) is normal outside Home Assistant and gives the
    defaults. Keys the schema does not know are ignored with a warning, as the
    Supervisor does. Anything else that is wrong raises ValueError with a
    message that names the file and each offending option.
    """
    if path is None:
        return AddonOptions()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _LOGGER.info("No options file at %s; using the default options", path)
        return AddonOptions()
    except OSError as exc:
        raise ValueError(f"Cannot read the options file {path}: {exc.strerror}") from exc
    return _options_from_json_text(text, path)


def _options_from_json_text(text: str, path: Path) -> AddonOptions:
    """Parse and validate the options file's text."""
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"The options file {path} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(raw, dict):
        raise ValueError(f"The options file {path} must hold a JSON object")

    unknown_keys = sorted(set(raw) - {str(key.schema) for key in SCHEMA_ADDON_OPTIONS.schema})
    if unknown_keys:
        _LOGGER.warning("Ignoring unknown options in %s: %s", path, ", ".join(unknown_keys))
    known = {key: value for key, value in raw.items() if key not in unknown_keys}

    try:
        valid = SCHEMA_ADDON_OPTIONS(known)
    except vol.MultipleInvalid as exc:
        problems = "; ".join(_describe(error) for error in exc.errors)
        raise ValueError(f"Invalid options in {path}: {problems}") from exc
    return AddonOptions(**valid)


def _describe(error: vol.Invalid) -> str:
    """One readable line for one schema error: which option, what is wrong."""
    option = ".".join(str(part) for part in error.path) or "(options)"
    return f"option '{option}' {error.msg}"
