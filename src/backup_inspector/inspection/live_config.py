"""Today's Home Assistant configuration, read-only, for comparing a backed-up file with it.

The add-on maps the config folder read-only (`homeassistant_config:ro`,
mounted at /homeassistant). A file of the backup's homeassistant archive is
`data/<path>` in current backups and `<path>` in old ones; both name the same
live file. Only regular files inside the folder are read (after symlinks are
resolved), never more than the compare limit, and nothing is ever written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from .file_compare import MAX_COMPARE_BYTES, too_large
from .name_pattern import HOMEASSISTANT_ARCHIVE, logical_path

DEFAULT_CONFIG_DIR = Path("/homeassistant")


class LiveFileError(ValueError):
    """The live file cannot be compared (not there, outside the folder, not a regular file)."""


def live_path(config_dir: Path, archive: str, path: str) -> Path:
    """Where the config folder keeps the file at `path` of the homeassistant archive.

    Raises LiveFileError for another archive, or a path that leaves the folder.
    """
    if archive != HOMEASSISTANT_ARCHIVE:
        raise LiveFileError("only files of the homeassistant archive live in the config folder")
    relative = PurePosixPath(logical_path(archive, path))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise LiveFileError(f"{path!r} is not a path inside the config folder")
    root = config_dir.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise LiveFileError(f"{path!r} leads outside the config folder")
    return candidate


def read_live_file(
    config_dir: Path, archive: str, path: str, *, limit: int = MAX_COMPARE_BYTES
) -> tuple[Path, bytes]:
    """The live file's location and bytes (read-only; LiveFileError or TooLargeToCompareError)."""
    location = live_path(config_dir, archive, path)
    try:
        descriptor = os.open(location, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError as error:
        raise LiveFileError(
            f"today's config has no file {logical_path(archive, path)!r}"
        ) from error
    except OSError as error:
        raise LiveFileError(
            f"today's {logical_path(archive, path)!r} cannot be read: {error.strerror}"
        ) from error
    with os.fdopen(descriptor, "rb") as live:
        info = os.fstat(live.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise LiveFileError(f"today's {logical_path(archive, path)!r} is not a regular file")
        if info.st_size > limit:
            raise too_large(f"today's {logical_path(archive, path)}", info.st_size, limit)
        data = live.read(limit + 1)
    if len(data) > limit:
        raise too_large(f"today's {logical_path(archive, path)}", len(data), limit)
    return location, data
