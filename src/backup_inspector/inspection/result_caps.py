"""Caps a job's JSON result so that it always travels in one small message.

A job result goes to the page over a WebSocket, through two ingress hops of
which one refuses messages above about 4 MiB (addon-platform.md §8.9). An
extraction refusing 50 000 entries once produced a 12.5 MB result. So every
list in a result is cut to a bound, and the number of items left out is given
next to it as `<name>_omitted` (a list without a name, inside another list,
adds its count to the result's `omitted_elsewhere`). Long texts are cut too.
If the result is still too large, the bounds shrink until it fits.
"""

from __future__ import annotations

import json
from typing import Any

MAX_RESULT_BYTES = 256 * 1024  # a quarter of the 1 MiB every WebSocket message stays under
# (items per list, characters per text): tried in order until the result fits.
CAP_STEPS = ((200, 16 * 1024), (50, 2048), (10, 256))
OMITTED_SUFFIX = "_omitted"
ELLIPSIS = "…"


class _Capper:
    """One pass over a result with one pair of bounds, counting unnamed omissions."""

    def __init__(self, max_items: int, max_chars: int) -> None:
        self.max_items = max_items
        self.max_chars = max_chars
        self.omitted_elsewhere = 0

    def value(self, value: Any) -> Any:
        """A capped copy of any JSON value."""
        if isinstance(value, dict):
            return self.mapping(value)
        if isinstance(value, list):
            kept, omitted = self.sequence(value)
            self.omitted_elsewhere += omitted
            return kept
        if isinstance(value, str) and len(value) > self.max_chars:
            return value[: self.max_chars] + ELLIPSIS
        return value

    def sequence(self, items: list[Any]) -> tuple[list[Any], int]:
        """The first max_items items (capped), and how many were left out."""
        kept = [self.value(item) for item in items[: self.max_items]]
        return kept, max(0, len(items) - self.max_items)

    def mapping(self, mapping: dict[str, Any]) -> dict[str, Any]:
        """A capped copy of an object; a shortened list gets `<key>_omitted` beside it."""
        capped: dict[str, Any] = {}
        for key, item in mapping.items():
            if isinstance(item, list):
                capped[key], omitted = self.sequence(item)
                if omitted:
                    earlier = mapping.get(key + OMITTED_SUFFIX)
                    capped[key + OMITTED_SUFFIX] = omitted + (
                        earlier if isinstance(earlier, int) else 0
                    )
            elif key.endswith(OMITTED_SUFFIX) and key in capped:
                continue  # already added up with its list's own omissions
            else:
                capped[key] = self.value(item)
        return capped


def json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON (how it travels)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def cap_result(result: Any, max_bytes: int = MAX_RESULT_BYTES) -> Any:
    """`result` with every list and text bounded, and at most `max_bytes` as JSON.

    A result that small bounds cannot bring under `max_bytes` (very many keys)
    is replaced by an object saying so; the job's own outcome (succeeded) stays.
    """
    if json_size(result) <= max_bytes:
        return result
    for max_items, max_chars in CAP_STEPS:
        capper = _Capper(max_items, max_chars)
        capped = capper.value(result)
        if capper.omitted_elsewhere:
            if isinstance(capped, dict):
                capped["omitted_elsewhere"] = capper.omitted_elsewhere
            else:
                capped = {"items": capped, "omitted_elsewhere": capper.omitted_elsewhere}
        if json_size(capped) <= max_bytes:
            return capped
    return {
        "result_omitted": True,
        "message": "The result of this job is too large to show.",
    }
