"""Finds and validates a backup's metadata file (backup.json / snapshot.json).

The metadata is what the Supervisor uses to list and restore a backup, so a
backup whose metadata breaks the Supervisor's rules is as good as lost to a
user who relies on Home Assistant's own restore. We therefore check it against
the *current* Supervisor schema (format-spec §3.3), normalise the legacy values
the Supervisor still accepts (digit-string `protected`, `homeassistant` in
`folders`, `crypto`), and report anything else as a Finding in plain words.
The rules themselves are the voluptuous schemas in metadata_schema.

Legacy metadata (2018-02 … 2025-02) carries encrypted secrets
(`homeassistant.password`, `homeassistant.refresh_token`,
`docker.registries.*.password`). They are never copied into BackupMetadata, so
nothing derived from it can leak them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import voluptuous as vol

from backup_inspector.backup_format.findings import Finding, FindingCode
from backup_inspector.backup_format.metadata_schema import (
    HOMEASSISTANT_FOLDER,
    MAX_ADDONS,
    MAX_FOLDERS,
    MAX_REPOSITORIES,
    SCHEMA_BACKUP_METADATA,
    format_version,
    protected,
    require_dict,
    require_list,
    require_text,
    version_text,
)

# Supervisor's exact lookup order (format-spec §3.2): old backups keep
# snapshot.json "forever", everything since 2021.08.0 writes ./backup.json.
METADATA_NAMES: tuple[str, ...] = ("./snapshot.json", "./backup.json")

# Top-level names that mean the same file once "./" and "/" prefixes are
# removed, in the same preference order. Only used when no exact name exists.
_LENIENT_METADATA_BASE_NAMES: tuple[str, ...] = ("snapshot.json", "backup.json")

HOMEASSISTANT_ARCHIVE = "homeassistant"  # inner archive base name (format-spec §3.4)

# Real backup.json files are a few KB; one that lists a thousand add-ons with
# long names is still under 1 MiB. A larger one is not read at all: it can
# only be a mistake or an attack, and every byte read costs memory.
MAX_METADATA_BYTES = 1024 * 1024

# Real backup.json files nest four levels deep. Deeper JSON is refused: Python
# decodes far deeper documents than it can encode again, and Python 3.14 (the
# aarch64/amd64 images) bounds the decoder by the C stack only, so an `extra`
# nested 30,000 deep was read, then crashed json.dumps in the CLI and the page.
# The Supervisor's orjson refuses anything past 1,024 levels.
MAX_JSON_DEPTH = 256

# How many broken fields one METADATA_INVALID finding names; the rest are counted.
_MAX_REASONS_NAMED = 5

# The Supervisor assumes this version when `supervisor_version` is missing
# (format-spec §3.3). BackupMetadata keeps None instead so that the UI can say
# "unknown"; restore-compatibility checks should use this value.
SUPERVISOR_VERSION_ASSUMED_WHEN_MISSING = "2022.08.3"

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# --- metadata member name ---------------------------------------------------


def _strip_root_prefixes(member_name: str) -> str:
    """Remove any mix of leading "./" and "/" so re-packed names compare equal."""
    name = member_name
    while True:
        if name.startswith("./"):
            name = name[2:]
        elif name.startswith("/"):
            name = name[1:]
        else:
            return name


def choose_metadata_member(member_names: list[str]) -> tuple[str | None, list[Finding]]:
    """Pick the outer-tar member that holds the metadata, as the Supervisor would.

    Exact names come first, in METADATA_NAMES order, because that is the only
    lookup the Supervisor does. If neither exists but a top-level name that
    differs only by its "./" or "/" prefix does (e.g. a backup re-packed by
    hand as `backup.json`, supervisor#3707), that name is returned so the
    backup can still be inspected, together with a METADATA_NAME_NONSTANDARD
    warning. Returns (None, []) when there is no metadata at all; reporting
    METADATA_MISSING is the caller's job, because only it knows whether the
    outer tar was read to its end.

    When a name occurs several times the caller should read the last
    occurrence, which is what tarfile (and so the Supervisor) does.
    """
    present = set(member_names)
    for exact_name in METADATA_NAMES:
        if exact_name in present:
            return exact_name, []
    for base_name in _LENIENT_METADATA_BASE_NAMES:
        for member_name in member_names:
            if _strip_root_prefixes(member_name) == base_name:
                return member_name, [_nonstandard_name_finding(member_name)]
    return None, []


def _nonstandard_name_finding(member_name: str) -> Finding:
    """Warn that the Supervisor will not find metadata stored under this name."""
    return Finding(
        FindingCode.METADATA_NAME_NONSTANDARD,
        f"The backup's description file is stored as '{member_name}'. Home Assistant's "
        "Supervisor looks for './backup.json' exactly (or './snapshot.json' in old "
        "backups), so it would not list or restore this backup as it is. Backup "
        "Inspector read the file anyway.",
    )


# --- values ---------------------------------------------------------------


@dataclass(frozen=True)
class AddonInfo:
    """One add-on (app) listed in the metadata; its archive is `<slug>.tar[.gz]`."""

    slug: str
    name: str
    version: str

    def to_json(self) -> dict[str, str]:
        """Plain JSON shape for the CLI and the web page."""
        return {"slug": self.slug, "name": self.name, "version": self.version}


@dataclass(frozen=True)
class BackupMetadata:
    """The normalised metadata of one backup, with no secrets in it.

    `type` is "full" or "partial" when `is_valid`; for invalid metadata it is
    whatever text was stored (or ""), so the UI can still show it. `date` is the
    text as stored, because the slug is computed from exactly that text.
    `supervisor_version` is None when the metadata does not say (the
    Supervisor then assumes SUPERVISOR_VERSION_ASSUMED_WHEN_MISSING).
    `has_homeassistant_folder_archive` records that `folders` listed
    "homeassistant" (format 1 and Core ≤ 2024.12): the Home Assistant archive
    exists even when the `homeassistant` object is missing or empty.
    """

    slug: str
    name: str
    date: str
    type: str
    format_version: int
    supervisor_version: str | None
    homeassistant_version: str | None
    exclude_database: bool
    compressed: bool
    protected: bool
    folders: tuple[str, ...]
    has_homeassistant_folder_archive: bool
    addons: tuple[AddonInfo, ...]
    extra: dict[str, Any] = field(hash=False)
    member_name: str
    is_valid: bool
    repositories: tuple[str, ...] = ()

    @property
    def includes_homeassistant(self) -> bool:
        """Whether the backup holds a Home Assistant archive, in either format."""
        return self.homeassistant_version is not None or self.has_homeassistant_folder_archive

    def expected_archive_names(self) -> list[str]:
        """Inner archive base names (no extension) the metadata promises.

        Order follows what the Supervisor writes: Home Assistant, add-ons,
        folders. `supervisor` is never listed in the metadata (format-spec
        §3.4), so it is not expected here either.
        """
        names: list[str] = []
        if self.includes_homeassistant:
            names.append(HOMEASSISTANT_ARCHIVE)
        names.extend(addon.slug for addon in self.addons)
        names.extend(folder_archive_name(folder) for folder in self.folders)
        return names

    def describe(self) -> str:
        """One plain sentence about the backup, e.g. for a list entry.

        The time is shown as written in the backup (its own UTC offset), so
        the sentence does not depend on where the reader runs.
        """
        kind = {"full": "Full backup", "partial": "Partial backup"}.get(self.type, "Backup")
        sentence = kind
        if self.homeassistant_version:
            sentence += f" made by Home Assistant {self.homeassistant_version}"
        elif self.supervisor_version:
            sentence += f" made by Supervisor {self.supervisor_version}"
        when = describe_backup_date(self.date)
        if when:
            sentence += f" on {when}"
        if self.type != "full":
            sentence += f": {self._describe_contents()}"
        return sentence

    def _describe_contents(self) -> str:
        """What a partial backup holds, in words."""
        parts: list[str] = []
        if self.includes_homeassistant:
            parts.append(
                "Home Assistant without its database" if self.exclude_database else "Home Assistant"
            )
        if self.addons:
            noun = "the add-on" if len(self.addons) == 1 else "the add-ons"
            parts.append(f"{noun} {_join_words([addon.name for addon in self.addons])}")
        if self.folders:
            noun = "the folder" if len(self.folders) == 1 else "the folders"
            parts.append(f"{noun} {_join_words(list(self.folders))}")
        if not parts:
            return "it holds nothing"
        return f"it holds {_join_words(parts)}"

    def to_json(self) -> dict[str, Any]:
        """The normalised fields only; never the raw metadata.

        The raw dict of legacy backups carries encrypted passwords and tokens,
        and unknown future keys might too, so only fields named here go out.
        """
        return {
            "slug": self.slug,
            "name": self.name,
            "date": self.date,
            "type": self.type,
            "format_version": self.format_version,
            "supervisor_version": self.supervisor_version,
            "homeassistant_version": self.homeassistant_version,
            "exclude_database": self.exclude_database,
            "compressed": self.compressed,
            "protected": self.protected,
            "folders": list(self.folders),
            "has_homeassistant_folder_archive": self.has_homeassistant_folder_archive,
            "addons": [addon.to_json() for addon in self.addons],
            "repositories": list(self.repositories),
            "extra": dict(self.extra),
            "member_name": self.member_name,
            "is_valid": self.is_valid,
            "expected_archives": self.expected_archive_names(),
            "description": self.describe(),
        }


def folder_archive_name(folder: str) -> str:
    """Inner archive base name of a folder: "/" becomes "_" (format-spec §3.4)."""
    return folder.replace("/", "_")


def describe_backup_date(date_text: str) -> str:
    """ "20 November 2026 at 03:00 UTC" for an ISO date; the raw text if it is not one.

    The time is the one written in the backup, so its zone is named: a page
    or terminal elsewhere shows local times next to it, and an unlabelled
    time would seem to contradict them.
    """
    try:
        moment = datetime.fromisoformat(date_text)
    except ValueError:
        return date_text
    month = _MONTH_NAMES[moment.month - 1]
    return f"{moment.day} {month} {moment.year} at {moment:%H:%M}{_zone_label(moment)}"


def _zone_label(moment: datetime) -> str:
    """ " UTC", " (UTC+01:00)", or "" for a time without a zone."""
    offset = moment.utcoffset()
    if offset is None:
        return ""
    if not offset:
        return " UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f" (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def _join_words(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def compute_slug(date: str, name: str) -> str:
    """The Supervisor's backup slug: SHA-1 of lowercase "{date} - {name}", 8 hex chars.

    `date` must be the exact stored text (format-spec §3.6). SHA-1 is the
    Supervisor's choice for a short identifier, not a security measure.
    """
    key = f"{date} - {name}".lower().encode("utf-8")
    return hashlib.sha1(key, usedforsecurity=False).hexdigest()[:8]


# --- parsing ----------------------------------------------------------------


def parse_backup_metadata(
    raw: bytes, member_name: str
) -> tuple[BackupMetadata | None, list[Finding]]:
    """Decode and validate metadata bytes against the current Supervisor rules.

    Returns (metadata, findings):

    * valid: a BackupMetadata with `is_valid=True` and no findings;
    * not UTF-8, not JSON, or not a JSON object: (None, [METADATA_INVALID]);
    * a JSON object that breaks a rule: a best-effort BackupMetadata with
      `is_valid=False` (every field taken leniently, defaults where a value is
      unusable) plus one METADATA_INVALID finding that names every broken
      field. The object is always returned in that case, so the UI can still
      show the name and date of a backup the Supervisor would ignore.

    Work is linear in the size of `raw`, and bounded: more than
    MAX_METADATA_BYTES, or lists longer than metadata_schema's MAX_ADDONS,
    MAX_FOLDERS and MAX_REPOSITORIES, are METADATA_INVALID, and the lenient
    result keeps only that many items of each list.
    """
    if len(raw) > MAX_METADATA_BYTES:
        return None, [metadata_too_large_finding(member_name, len(raw))]
    data, decode_problem = _decode_json_object(raw)
    if data is None:
        return None, [_invalid_finding(member_name, decode_problem)]
    try:
        validated = SCHEMA_BACKUP_METADATA(data)
    except vol.MultipleInvalid as error:
        reasons = _describe_problems(error.errors)
        return _lenient_metadata(data, member_name), [_invalid_finding(member_name, reasons)]
    return _metadata_from_validated(validated, data, member_name), []


def metadata_too_large_finding(member_name: str, size_bytes: int) -> Finding:
    """METADATA_INVALID for a metadata member too large to be real; it is not read."""
    return _invalid_finding(
        member_name,
        f"it is {size_bytes:,} bytes, while a real one is a few KB and Backup Inspector reads "
        f"at most {MAX_METADATA_BYTES // (1024 * 1024)} MiB",
    )


def _describe_problems(problems: list[vol.Invalid]) -> str:
    """The first few broken fields in words, and how many more there are."""
    named = "; ".join(_humanise(problem) for problem in problems[:_MAX_REASONS_NAMED])
    more = len(problems) - _MAX_REASONS_NAMED
    if more > 0:
        named += f"; and {more:,} more problem{'s' if more > 1 else ''}"
    return named


def _decode_json_object(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """Strict UTF-8 JSON object, like the Supervisor's loader; else (None, reason)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"
    if text.startswith("\ufeff"):
        return None, "it starts with a byte-order mark, which JSON does not allow"
    try:
        data = json.loads(text, parse_constant=_reject_json_constant)
    except (ValueError, RecursionError) as error:
        where = (
            f" (line {error.lineno}, column {error.colno})"
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        return None, f"it is not valid JSON{where}"
    if not isinstance(data, dict):
        return None, f"it holds a JSON {_json_kind(data)} instead of an object"
    if _nested_deeper_than(data, MAX_JSON_DEPTH):
        return None, f"it is nested more than {MAX_JSON_DEPTH} levels deep (a real one has four)"
    return data, ""


def _nested_deeper_than(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels; a loop, so no recursion limit.

    Only lists and objects are queued: a list of 60,000 strings costs one
    isinstance() each, not a queue entry each.
    """
    pending: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _reject_json_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; the Supervisor's parser (orjson) refuses them."""
    raise ValueError(f"{name} is not valid JSON")


def _json_kind(value: Any) -> str:
    """Plain name of a decoded JSON value's type."""
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "true/false value"
    if value is None:
        return "null"
    return "number"


def _invalid_finding(member_name: str, reason: str) -> Finding:
    """METADATA_INVALID with what it means: the Supervisor would skip this backup."""
    return Finding(
        FindingCode.METADATA_INVALID,
        f"The backup's description file '{member_name}' cannot be used: {reason}. "
        "Home Assistant would not list or restore this backup as it is.",
    )


def _humanise(problem: vol.Invalid) -> str:
    """ "'addons[0].slug' is missing" from a voluptuous error path and message."""
    path = ""
    for step in problem.path:
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else str(step))
    message = problem.msg
    if not path:
        return message
    return f"'{path}' {message}"


def _metadata_from_validated(
    validated: dict[str, Any], raw: dict[str, Any], member_name: str
) -> BackupMetadata:
    """Build BackupMetadata from a schema-validated dict."""
    homeassistant = validated["homeassistant"]
    supervisor_version = validated.get("supervisor_version")
    return BackupMetadata(
        slug=validated["slug"],
        name=validated["name"],
        date=validated["date"],
        type=validated["type"],
        format_version=validated["version"],
        supervisor_version=supervisor_version,
        homeassistant_version=homeassistant["version"] if homeassistant else None,
        exclude_database=bool(homeassistant["exclude_database"]) if homeassistant else False,
        compressed=validated["compressed"],
        protected=validated["protected"],
        folders=tuple(validated["folders"]),
        has_homeassistant_folder_archive=_lists_homeassistant_folder(raw),
        addons=tuple(
            AddonInfo(addon["slug"], addon["name"], addon["version"])
            for addon in validated["addons"]
        ),
        extra=dict(validated["extra"]),
        member_name=member_name,
        is_valid=True,
        repositories=tuple(validated["repositories"]),
    )


def _lists_homeassistant_folder(raw: dict[str, Any]) -> bool:
    """Format 1 (and Core ≤ 2024.12) list the Home Assistant archive as a folder."""
    folders = raw.get("folders")
    return isinstance(folders, list) and HOMEASSISTANT_FOLDER in folders


def _validated_or(validator: Callable[[Any], Any], value: Any, fallback: Any) -> Any:
    """The strictly validated value, or `fallback` when it breaks the rule."""
    try:
        return validator(value)
    except (vol.Invalid, TypeError, ValueError, OverflowError):
        return fallback


def _lenient_metadata(raw: dict[str, Any], member_name: str) -> BackupMetadata:
    """Best effort from a JSON object that failed validation: usable values, defaults elsewhere."""
    homeassistant_version, exclude_database = _lenient_homeassistant(raw.get("homeassistant"))
    stored_type = raw.get("type")
    return BackupMetadata(
        slug=_validated_or(require_text, raw.get("slug"), ""),
        name=_validated_or(require_text, raw.get("name"), ""),
        date=_validated_or(require_text, raw.get("date"), ""),
        type=stored_type if isinstance(stored_type, str) else "",
        format_version=_validated_or(format_version, raw.get("version", 1), 1),
        supervisor_version=_validated_or(version_text, raw.get("supervisor_version"), None),
        homeassistant_version=homeassistant_version,
        exclude_database=exclude_database,
        compressed=_validated_or(vol.Boolean(), raw.get("compressed", True), True),
        protected=protected(raw.get("protected", False)),
        folders=tuple(_lenient_folders(raw.get("folders"))),
        has_homeassistant_folder_archive=_lists_homeassistant_folder(raw),
        addons=tuple(_lenient_addons(raw.get("addons"))),
        extra=dict(_validated_or(require_dict, raw.get("extra"), {})),
        member_name=member_name,
        is_valid=False,
        repositories=tuple(
            item
            for item in _first_items(raw.get("repositories"), MAX_REPOSITORIES)
            if isinstance(item, str)
        ),
    )


def _lenient_homeassistant(value: Any) -> tuple[str | None, bool]:
    """(version, exclude_database) from whatever `homeassistant` holds."""
    if not isinstance(value, dict):
        return None, False
    version = _validated_or(version_text, value.get("version"), None)
    exclude_database = _validated_or(vol.Boolean(), value.get("exclude_database", False), False)
    return version, bool(exclude_database)


def _first_items(value: Any, limit: int) -> list[Any]:
    """The first `limit` items of a list; [] for anything else.

    A lenient result never holds more than a real backup could, however
    long the stored list is (the finding says that it was too long).
    """
    return _validated_or(require_list, value, [])[:limit]


def _lenient_folders(value: Any) -> list[str]:
    """Text entries once each, without "homeassistant", from the first MAX_FOLDERS.

    Unknown folder names are kept, so the UI shows what the metadata claims.
    """
    folders: dict[str, None] = {}  # insertion-ordered set: one lookup per item, not a scan
    for item in _first_items(value, MAX_FOLDERS):
        if isinstance(item, str) and item != HOMEASSISTANT_FOLDER:
            folders[item] = None
    return list(folders)


def _lenient_addons(value: Any) -> list[AddonInfo]:
    """Add-ons with a text slug, first occurrence of each, from the first MAX_ADDONS items.

    A missing name becomes the slug.
    """
    addons: list[AddonInfo] = []
    seen_slugs: set[str] = set()
    for item in _first_items(value, MAX_ADDONS):
        if not isinstance(item, dict) or not isinstance(item.get("slug"), str):
            continue
        slug = item["slug"]
        if slug in seen_slugs:
            continue
        seen_slugs.add(slug)
        name = item.get("name")
        addons.append(
            AddonInfo(
                slug=slug,
                name=name if isinstance(name, str) else slug,
                version=_validated_or(version_text, item.get("version"), ""),
            )
        )
    return addons
