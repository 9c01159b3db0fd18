"""A file name or glob typed to find a file in every backup, matched the same way everywhere.

Without a "/", the pattern is matched against the file's name (any case);
with one, against its whole path inside the archive. Both may use glob
wildcards (`*`, `?`, `[...]`). Name patterns also become an SQLite GLOB, so
a saved index answers them without decoding a row per file.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from .archive_index import name_of

HOMEASSISTANT_ARCHIVE = "homeassistant"
# Current Core archives keep the config folder under data/; old ones at the root.
CONFIG_PREFIX = "data/"


def logical_path(archive: str, path: str) -> str:
    """The path that stays the same across eras: the homeassistant archive's `data/` dropped."""
    if archive == HOMEASSISTANT_ARCHIVE and path.startswith(CONFIG_PREFIX):
        return path[len(CONFIG_PREFIX) :]
    return path


@dataclass(frozen=True)
class NamePattern:
    """One search pattern, casefolded and compiled once."""

    text: str
    folded: str = field(init=False)
    is_path: bool = field(init=False)
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        folded = self.text.strip().strip("/").casefold()
        if folded.startswith("./"):
            folded = folded[2:]
        if not folded:
            raise ValueError("the pattern is empty")
        object.__setattr__(self, "folded", folded)
        object.__setattr__(self, "is_path", "/" in folded)
        object.__setattr__(self, "_regex", re.compile(fnmatch.translate(folded), re.DOTALL))

    @property
    def sql_name_glob(self) -> str | None:
        """The same name pattern as an SQLite GLOB (None for path patterns)."""
        if self.is_path:
            return None
        return self.folded.replace("[!", "[^")

    def matches(self, archive: str, path: str) -> bool:
        """Whether a file at `path` in `archive` is what the pattern asks for."""
        if not self.is_path:
            return self._regex.match(name_of(path).casefold()) is not None
        folded = path.casefold()
        return (
            self._regex.match(folded) is not None
            or self._regex.match(logical_path(archive, folded)) is not None
        )
