"""Facts about the system a restore would run on, from the Supervisor's `/info` object.

The same value comes from two places: `ha info --raw-json` saved on a Home
Assistant host and handed to the CLI (`check --target FILE`), and the
Supervisor API read by the app (`supervisor_client`). Both print the
`/info` object (restore-rules.md §5), either bare or in the Supervisor's
`{"result": "ok", "data": {...}}` envelope. `disk_free` (GB) comes from
`/host/info`; `ha info` does not print it.

A key that is missing stays None: the rule that needs it is then reported
as not judged, never guessed (issue 10).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_TARGET_FILE_BYTES = 1024 * 1024  # `ha info --raw-json` prints about 1 KB


class TargetFactsError(ValueError):
    """The target description is not a Supervisor `/info` object; the message says why."""


@dataclass(frozen=True)
class TargetFacts:
    """What the restore rules need to know about the target system; None = not known.

    `supervisor` and `homeassistant` are version texts as the Supervisor
    prints them; `homeassistant` is None when Core is not installed (or the
    key is missing). `supported_arch` is the host's list of supported CPU
    architectures, `machine` the machine type (e.g. "raspberrypi4-64"),
    `disk_free_gb` the free space of the data disk in GB.
    """

    supervisor: str | None = None
    homeassistant: str | None = None
    arch: str | None = None
    supported_arch: tuple[str, ...] | None = None
    machine: str | None = None
    disk_free_gb: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The facts used, in the Supervisor's own key names (None = not known)."""
        return {
            "supervisor": self.supervisor,
            "homeassistant": self.homeassistant,
            "arch": self.arch,
            "supported_arch": list(self.supported_arch)
            if self.supported_arch is not None
            else None,
            "machine": self.machine,
            "disk_free": self.disk_free_gb,
        }


def unwrap_supervisor_response(document: Any) -> dict[str, Any]:
    """The `data` object of a `{"result", "data"}` envelope, or the bare object itself."""
    if not isinstance(document, dict):
        raise TargetFactsError("it is not a JSON object")
    if "result" in document and "data" in document:
        if document["result"] != "ok":
            message = document.get("message") or document["result"]
            raise TargetFactsError(f"the Supervisor answered with an error: {message}")
        document = document["data"]
        if not isinstance(document, dict):
            raise TargetFactsError("its 'data' is not a JSON object")
    return document


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TargetFactsError(f"'{key}' must be text, not {type(value).__name__}")
    text = str(value).strip()
    return text or None


def target_facts_from_info(info: Any, host_info: Any = None) -> TargetFacts:
    """Build TargetFacts from a `/info` object (bare or enveloped) and, optionally, `/host/info`.

    `disk_free` is taken from `/host/info` when given, else from `/info`
    (where a user may have added it by hand). Raises TargetFactsError when
    the object is not what the Supervisor prints, or holds none of the keys.
    """
    data = unwrap_supervisor_response(info)
    host = unwrap_supervisor_response(host_info) if host_info is not None else {}
    supported = data.get("supported_arch")
    if supported is not None and (
        not isinstance(supported, list) or not all(isinstance(a, str) for a in supported)
    ):
        raise TargetFactsError("'supported_arch' must be a list of architecture names")
    disk_free = host.get("disk_free", data.get("disk_free"))
    if disk_free is not None and (
        isinstance(disk_free, bool) or not isinstance(disk_free, int | float) or disk_free < 0
    ):
        raise TargetFactsError("'disk_free' must be a number of GB")
    facts = TargetFacts(
        supervisor=_optional_text(data, "supervisor"),
        homeassistant=_optional_text(data, "homeassistant"),
        arch=_optional_text(data, "arch"),
        supported_arch=tuple(supported) if supported is not None else None,
        machine=_optional_text(data, "machine"),
        disk_free_gb=float(disk_free) if disk_free is not None else None,
    )
    if facts == TargetFacts():
        raise TargetFactsError(
            "it has none of the keys supervisor, homeassistant, arch, supported_arch, machine"
        )
    return facts


def read_target_file(path: Path) -> TargetFacts:
    """Read the JSON `ha info --raw-json` printed; TargetFactsError if it is not that."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_TARGET_FILE_BYTES + 1)
    except OSError as err:
        raise TargetFactsError(f"cannot read it: {err.strerror or err}") from err
    if len(raw) > MAX_TARGET_FILE_BYTES:
        raise TargetFactsError("it is far larger than what `ha info --raw-json` prints")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise TargetFactsError(f"it is not JSON ({err})") from err
    return target_facts_from_info(document)
