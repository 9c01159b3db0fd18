"""The Supervisor's rules for backup.json / snapshot.json, as voluptuous schemas.

SCHEMA_BACKUP_METADATA is the *current* Supervisor schema (backups/validate.py,
format-spec §3.3). It normalises the legacy values the Supervisor still accepts
(digit-string `protected`, `homeassistant` in `folders`, `crypto`) and rejects
everything else. Each validator raises vol.Invalid with a plain-language
message, which backup_metadata reports as a METADATA_INVALID finding. The
validators that its lenient parsing reuses field by field are public.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable
from typing import Any

import voluptuous as vol

BACKUP_TYPES: tuple[str, ...] = ("full", "partial")  # format-spec §3.3 `type`
FORMAT_VERSIONS: tuple[int, ...] = (1, 2)  # format-spec §3.3 `version`
KNOWN_FOLDERS: tuple[str, ...] = ("share", "addons/local", "ssl", "media")  # format-spec §3.3
HOMEASSISTANT_FOLDER = "homeassistant"  # listed in `folders` by format 1 (format-spec §3.5)
ACCEPTED_CRYPTO_VALUES: tuple[str | None, ...] = (None, "aes128")  # format-spec §3.3 `crypto`

# Built-in add-on repositories the Supervisor accepts without a URL check.
BUILTIN_REPOSITORIES = frozenset(
    {
        "core",
        "local",
        "https://github.com/hassio-addons/repository",
        "https://github.com/esphome/home-assistant-addon",
        "https://github.com/music-assistant/home-assistant-addon",
    }
)
# What is believable in one backup. Home Assistant backups list tens of
# add-ons, at most the four folders and a handful of repositories; a list
# longer than this is not a real backup.json, and checking it item by item
# would only cost time and memory. Not Supervisor rules: our own bounds.
MAX_ADDONS = 1000
MAX_FOLDERS = 1000
MAX_REPOSITORIES = 1000

# `<url>[#branch]`, the Supervisor's repository syntax.
_REPOSITORY_PATTERN = re.compile(r"^(?P<url>[^#]+)(?:#(?P<branch>[\w\-]+))?$")


# --- validators (each raises vol.Invalid with a plain-language message) ------


def require_text(value: Any) -> str:
    """Require a JSON string."""
    if not isinstance(value, str):
        raise vol.Invalid("must be text")
    return value


def version_text(value: Any) -> str:
    """Accept a version as text or a bare number, as the Supervisor's `version_tag` does."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise vol.Invalid("must be a version number such as 2025.1.0")
    text = str(value)
    if not text.strip():
        raise vol.Invalid("must not be empty")
    return text


def _optional_version_text(value: Any) -> str | None:
    """A version, or null (treated like a missing key)."""
    return None if value is None else version_text(value)


def _backup_type(value: Any) -> str:
    """Require "full" or "partial"."""
    if value not in BACKUP_TYPES:
        raise vol.Invalid(f"must be 'full' or 'partial', not {_short_repr(value)}")
    return str(value)


def format_version(value: Any) -> int:
    """Coerce to int like the Supervisor (vol.Coerce(int)), then require 1 or 2."""
    try:
        version = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 decodes to infinity
        raise vol.Invalid(f"must be 1 or 2, not {_short_repr(value)}") from None
    if version not in FORMAT_VERSIONS:
        raise vol.Invalid(f"must be 1 or 2, not {_short_repr(value)}")
    return version


def protected(value: Any) -> bool:
    """Legacy backups stored a digit string (or an int) when protected; any non-bool is True."""
    if isinstance(value, bool):
        return value
    return True


def _crypto(value: Any) -> None:
    """Only null and "aes128" were ever written; the value itself is dropped on load."""
    if value not in ACCEPTED_CRYPTO_VALUES:
        raise vol.Invalid(f'must be "aes128" or null, not {_short_repr(value)}')


def _homeassistant_or_none(value: Any) -> dict[str, Any] | None:
    """Null, empty, or without `version` means "Home Assistant not included" (format 1)."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise vol.Invalid("must be an object with the Home Assistant version")
    if value.get("version") is None:
        return None
    return value


def require_list(value: Any) -> list[Any]:
    """Require a JSON list."""
    if not isinstance(value, list):
        raise vol.Invalid("must be a list")
    return value


def list_at_most(limit: int, what: str) -> Callable[[list[Any]], list[Any]]:
    """A validator that refuses a list of more than `limit` items, before any item is checked."""

    def check_length(items: list[Any]) -> list[Any]:
        if len(items) > limit:
            raise vol.Invalid(
                f"lists {len(items):,} {what}, far more than a real backup holds; "
                f"Backup Inspector reads at most {limit:,}"
            )
        return items

    return check_length


def require_dict(value: Any) -> dict[str, Any]:
    """Require a JSON object."""
    if not isinstance(value, dict):
        raise vol.Invalid("must be an object")
    return value


def _without_homeassistant_folder(folders: list[Any]) -> list[Any]:
    """Drop format 1's "homeassistant" entry (once, like the Supervisor) on a copy."""
    remaining = list(folders)
    if HOMEASSISTANT_FOLDER in remaining:
        remaining.remove(HOMEASSISTANT_FOLDER)
    return remaining


def _known_folder(value: Any) -> str:
    """Require one of the folders the Supervisor can restore."""
    if value not in KNOWN_FOLDERS:
        allowed = ", ".join(KNOWN_FOLDERS)
        raise vol.Invalid(f"must be one of the folders {allowed}, not {_short_repr(value)}")
    return str(value)


def _unique_folders(folders: list[str]) -> list[str]:
    """Each folder at most once."""
    _raise_on_duplicates(folders, "the folder")
    return folders


def _unique_addon_slugs(addons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each add-on slug at most once (the Supervisor: "Invalid app list in backup!")."""
    _raise_on_duplicates([addon["slug"] for addon in addons], "the add-on slug")
    return addons


def _unique_repositories(repositories: list[str]) -> list[str]:
    """Each repository at most once."""
    _raise_on_duplicates(repositories, "the repository")
    return repositories


def _raise_on_duplicates(values: list[str], what: str) -> None:
    """Raise vol.Invalid naming the first value that occurs twice."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise vol.Invalid(f"lists {what} {_short_repr(value)} more than once")
        seen.add(value)


def _repository(value: Any) -> str:
    """A built-in repository name or `<url>[#branch]` with a valid URL."""
    text = require_text(value)
    if text in BUILTIN_REPOSITORIES:
        return text
    match = _REPOSITORY_PATTERN.match(text)
    try:
        if match is None:
            raise vol.Invalid("bad syntax")
        vol.Url()(match.group("url"))
    except vol.Invalid:
        raise vol.Invalid(
            "must be 'core', 'local' or a repository URL (optionally with #branch), "
            f"not {_short_repr(value)}"
        ) from None
    return text


def _size_number(value: Any) -> float:
    """Coerce to float like the Supervisor's vol.Coerce(float), refusing what overflows.

    vol.Coerce lets OverflowError through, and JSON allows integers of
    hundreds of digits (float(10**400) overflows).
    """
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise vol.Invalid("must be a number") from None


def _short_repr(value: Any) -> str:
    """Quote a value for a message, cut short so odd metadata cannot flood the UI.

    reprlib looks at only the first items and levels of a list or object, so
    a huge or deeply nested value costs no more than a small one.
    """
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bounded_repr() -> reprlib.Repr:
    """A reprlib.Repr that shows two levels and 60 characters of text."""
    bounded = reprlib.Repr()
    bounded.maxlevel = 2
    bounded.maxstring = 60
    bounded.maxlong = 40
    bounded.maxother = 60
    return bounded


_SHORT_REPR = _bounded_repr()


SCHEMA_HOMEASSISTANT = vol.Schema(
    {
        vol.Required("version", msg="is missing"): version_text,
        vol.Optional("size", default=0): _size_number,
        vol.Optional("exclude_database", default=False): vol.Boolean(msg="must be true or false"),
    },
    extra=vol.REMOVE_EXTRA,  # image, boot, password, refresh_token, ... of format 1
)


def _validated_homeassistant(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Apply SCHEMA_HOMEASSISTANT unless the value already means "not included"."""
    return None if value is None else SCHEMA_HOMEASSISTANT(value)


SCHEMA_ADDON = vol.Schema(
    {
        vol.Required("slug", msg="is missing"): require_text,
        vol.Required("name", msg="is missing"): require_text,
        vol.Required("version", msg="is missing"): version_text,
        vol.Optional("size", default=0): _size_number,
    },
    extra=vol.REMOVE_EXTRA,
)

# The current Supervisor schema (backups/validate.py, format-spec §3.3).
SCHEMA_BACKUP_METADATA = vol.Schema(
    {
        vol.Optional("version", default=1): format_version,
        vol.Optional("supervisor_version"): _optional_version_text,
        vol.Required("slug", msg="is missing"): require_text,
        vol.Required("type", msg="is missing"): _backup_type,
        vol.Required("name", msg="is missing"): require_text,
        vol.Required("date", msg="is missing"): require_text,
        vol.Optional("compressed", default=True): vol.Boolean(msg="must be true or false"),
        vol.Optional("protected", default=False): protected,
        vol.Optional("crypto"): _crypto,
        vol.Optional("homeassistant", default=None): vol.All(
            _homeassistant_or_none, _validated_homeassistant
        ),
        vol.Optional("folders", default=list): vol.All(
            require_list,
            list_at_most(MAX_FOLDERS, "folders"),
            _without_homeassistant_folder,
            [_known_folder],
            _unique_folders,
        ),
        vol.Optional("addons", default=list): vol.All(
            require_list,
            list_at_most(MAX_ADDONS, "add-ons"),
            [vol.All(require_dict, SCHEMA_ADDON)],
            _unique_addon_slugs,
        ),
        vol.Optional("repositories", default=list): vol.All(
            require_list,
            list_at_most(MAX_REPOSITORIES, "repositories"),
            [_repository],
            _unique_repositories,
        ),
        vol.Optional("extra", default=dict): require_dict,
    },
    extra=vol.ALLOW_EXTRA,  # `docker` and future keys are allowed and ignored
)
