"""Parses a request body as JSON once, for every route, and refuses hostile shapes.

Every mutating request carries a small, flat JSON object. Parsing is kept in
this one place so that two hostile shapes are refused before any handler
sees them, with a message that repeats nothing of the body:

* deep nesting (`[[[[…`), which makes the parser raise RecursionError: that
  used to become a 500 with a traceback in the log;
* text with a lone surrogate (`"\\ud800"` is valid JSON but not Unicode),
  which fails later when a password is encoded as UTF-8, with an error text
  giving the character's position, and so the password's length.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 16  # the deepest body the page sends is an object holding a list of paths

_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestJsonError(ValueError):
    """The body is not an acceptable JSON object; the message is safe to show and log."""


def _refuse_constant(_name: str) -> Any:
    """NaN and Infinity are not JSON; Python's parser accepts them unless told not to."""
    raise RequestJsonError("The request body is not valid JSON.")


def _check_shape(value: Any) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and text that is not valid Unicode.

    Iterative, so a body just under the parser's own recursion limit cannot
    exhaust the stack here either.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise RequestJsonError(
                    "The request contains text that is not valid Unicode (a lone surrogate)."
                )
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise RequestJsonError("The request body is nested too deeply.")
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        else:
            pending.extend((child, depth + 1) for child in item)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or RequestJsonError with a message that quotes nothing of it."""
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise RequestJsonError("The request body is nested too deeply.") from None
    except RequestJsonError:
        raise
    except ValueError:  # JSONDecodeError and UnicodeDecodeError; their text quotes the body
        raise RequestJsonError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise RequestJsonError("The request body must be a JSON object.")
    _check_shape(body)
    return body
