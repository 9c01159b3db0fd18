"""Small JSON files in the data folder: read leniently, write atomically.

The check and verdict histories are conveniences: a missing or damaged file
must never stop the app (it starts empty, with a warning), and a crash while
writing must never leave half a file (a temporary file is renamed over it).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

_LOGGER: logging.Logger = logging.getLogger(__name__)


def read_json_object(path: Path | None) -> dict[str, Any]:
    """The JSON object in `path`; {} when there is no path, no file, or no readable object."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        _LOGGER.warning("Ignoring unreadable %s: %s", path, error)
        return {}
    return data if isinstance(data, dict) else {}


def write_json_atomically(path: Path | None, data: Any) -> None:
    """Replace `path` with `data` as JSON (temporary file, then rename); a failure is only logged."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
        ) as handle:
            json.dump(data, handle)
            temporary = Path(handle.name)
        os.replace(temporary, path)
    except OSError as error:
        _LOGGER.warning("Cannot save %s: %s", path.name, error)
