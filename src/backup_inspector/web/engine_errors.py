"""Turns file-system failures during engine work into messages a person can act on.

The engine reports damaged content as Findings; what is left are operating
system errors: the backup file vanished while being read, the share folder
is full, a permission is missing.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backup_inspector.inspection.job_runner import JobFailedError
from backup_inspector.web.api_errors import ApiError

_LOGGER: logging.Logger = logging.getLogger(__name__)

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def job_failure_for(error: OSError, backup_path: Path) -> JobFailedError:
    """The JobFailedError that explains `error` in plain words."""
    if error.errno in DISK_FULL_ERRNOS:
        return JobFailedError(
            "disk-full",
            "The share folder ran out of space. The file being written was removed; "
            "free some space or choose fewer files.",
        )
    if not backup_path.exists():
        return JobFailedError(
            "backup-gone",
            f"The backup file {backup_path.name} was deleted or moved while it was being read.",
        )
    if error.errno in (errno.EACCES, errno.EPERM):
        return JobFailedError(
            "permission-denied", f"Permission denied: {error.filename or backup_path.name}."
        )
    _LOGGER.warning("File error during a job on %s: %s", backup_path.name, error)
    return JobFailedError(
        "io-error", f"Reading or writing a file failed: {error.strerror or error}."
    )


@contextmanager
def explained_os_errors(backup_path: Path) -> Iterator[None]:
    """Re-raise OSError from engine work as an explained JobFailedError."""
    try:
        yield
    except OSError as error:
        raise job_failure_for(error, backup_path) from error


def api_error_for(failure: JobFailedError) -> ApiError:
    """The HTTP form of a job failure, for work done inside a request."""
    status = {
        "backup-gone": 404,
        "disk-full": 507,
        "permission-denied": 403,
        "entry-not-found": 404,
        "busy": 503,
    }.get(failure.code, 500 if failure.code == "io-error" else 400)
    return ApiError(status, failure.code, failure.message)
