"""Where extracted files may land: a folder under the share folder, never outside it.

The page sends the destination as a path relative to the share folder. It is
refused when it is absolute, contains "..", or resolves (through symlinks that
already exist) to a place outside the share folder. It is checked again in the
worker thread right before extraction starts.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from backup_inspector.inspection.extract_files import remove_stale_partials
from backup_inspector.web.api_errors import ApiError

MAX_DESTINATION_LENGTH = 1024
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ ()+@-]+")
MAX_FOLDER_NAME_LENGTH = 100


class DestinationError(ApiError):
    """The chosen destination is not a folder under the share folder."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "destination-outside-share", message)


def sanitise_folder_name(name: str, fallback: str) -> str:
    """A backup name turned into one safe folder name ("Before update 2026.11" stays readable)."""
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", name).strip(" ._")
    cleaned = cleaned[:MAX_FOLDER_NAME_LENGTH].rstrip(" ._")
    if not cleaned:
        cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", fallback).strip(" ._") or "backup"
    return cleaned


def default_destination(share_folder_name: str, backup_name: str, fallback: str) -> str:
    """The default destination, relative to the share folder: `<option>/<backup name>`."""
    return f"{share_folder_name.strip('/')}/{sanitise_folder_name(backup_name, fallback)}"


def _split_relative_destination(relative: str) -> list[str]:
    """The components of a relative destination, or DestinationError."""
    if len(relative) > MAX_DESTINATION_LENGTH:
        raise DestinationError("The destination folder name is too long.")
    if any(ord(character) < 32 for character in relative):
        raise DestinationError("The destination contains control characters.")
    normalised = relative.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        raise DestinationError(
            "Choose a folder inside the share folder: an absolute path is not allowed."
        )
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise DestinationError("Choose a folder inside the share folder: '..' is not allowed.")
    if not parts:
        raise DestinationError(
            "Choose a folder inside the share folder, not the share folder itself."
        )
    return parts


def resolve_destination(share_dir: Path, relative: str) -> Path:
    """The absolute destination folder for `relative`, guaranteed under `share_dir`.

    Existing symlinks on the way are followed; if the real path leaves the
    share folder the destination is refused.
    """
    parts = _split_relative_destination(relative)
    share_real = Path(os.path.realpath(share_dir))
    candidate = share_real.joinpath(*parts)
    candidate_real = Path(os.path.realpath(candidate))
    if candidate_real != share_real and share_real not in candidate_real.parents:
        raise DestinationError(
            "That folder leads outside the share folder (through a symbolic link); choose another."
        )
    if candidate_real == share_real:
        raise DestinationError(
            "Choose a folder inside the share folder, not the share folder itself."
        )
    if candidate_real.exists() and not candidate_real.is_dir():
        raise DestinationError("A file with that name exists; choose a folder.")
    return candidate_real


def remove_stale_partials_in_share(share_dir: Path, share_folder_name: str) -> int:
    """At app start: remove the partial files a killed extraction left in the extraction folder.

    Only `share_folder_name` (where extractions go by default) is walked, not
    the whole share folder, which holds the user's own files. Returns how
    many were removed; a folder that cannot be read removes nothing.
    """
    try:
        folder = resolve_destination(share_dir, share_folder_name)
    except DestinationError:
        return 0
    if not folder.is_dir():
        return 0
    try:
        return remove_stale_partials(folder)
    except OSError:
        return 0


def free_space_bytes(folder: Path) -> int:
    """Free bytes on the file system that holds `folder` (or its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free
