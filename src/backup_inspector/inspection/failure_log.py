"""Logs an unexpected failure by its type and where it happened, never by its text.

An exception's text can quote what it was given: a UnicodeEncodeError names
the position of the bad character in a password (so its length), a
JSONDecodeError quotes the request body. The add-on log is shown in Home
Assistant and pasted into bug reports, so unexpected failures are logged with
their type and stack (file, line, function), which is what a developer needs
to find the bug, and without their message.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any


def describe_failure(error: BaseException) -> str:
    """`TypeName` plus the stack of `error` (and of its causes), without any message."""
    parts: list[str] = []
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        parts.append(f"{type(current).__qualname__} (message not logged)\n{frames}")
        current = current.__cause__ or current.__context__
    return "\nwhile handling or caused by\n".join(parts)


def log_failure(logger: logging.Logger, message: str, *args: Any, error: BaseException) -> None:
    """Log `message % args` at ERROR with the failure's type and stack, not its text."""
    logger.error(message + ": %s", *args, describe_failure(error))
