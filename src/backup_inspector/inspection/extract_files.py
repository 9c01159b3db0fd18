"""File-system primitives for safe extraction, used by `extract_writer.SafeExtractor`.

Each one does a single careful thing on the real disk and never replaces or
follows what it did not create:

* new files are created with O_EXCL|O_NOFOLLOW under a hidden partial name
  (".<name>.bi-partial-<random>"), so a half-written file never has its final name;
* moves never replace: a partial file gets its final name with os.link (or a
  rename after a fresh existence check), failing with FileExistsError if it is taken;
* copies go through a partial file too;
* creating a symbolic link where links are not supported here becomes a skip
  (EntrySkippedError) instead of an error that would stop the extraction;
* a partial file is locked (flock) while it is written, so the cleanup of
  partial files a killed run left behind never removes one still in use.

The helpers raise EntryRefusedError (unsafe) and EntrySkippedError (harmless)
for the extractor to report; other OSErrors propagate (see `is_disk_full`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a partial file is then never held open
    fcntl = None  # type: ignore[assignment]

PARTIAL_FILE_MARKER = ".bi-partial-"
# Keep partial names within NAME_MAX (255 bytes) even for long UTF-8 names.
_PARTIAL_NAME_PREFIX_CHARACTERS = 40

_DISK_FULL_ERRNOS = frozenset(
    {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())
)
# O_EXCL makes creation fail on any existing name, including a (dangling) symlink;
# O_NOFOLLOW is a second guard where the platform has it.
NEW_FILE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_COPY_CHUNK_BYTES = 1024 * 1024
# What partial_name() produces: "." + up to 40 characters + marker + 8 hex digits.
_PARTIAL_NAME_PATTERN = re.compile(r"\..*\.bi-partial-[0-9a-f]{8}", re.DOTALL)
# Whether a partial file stays open (and locked) until it has its final name.
HOLDS_PARTIAL_LOCKS = fcntl is not None


class EntryRefusedError(Exception):
    """Internal: the entry is unsafe to write; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EntrySkippedError(Exception):
    """Internal: the entry is not written for a harmless reason (exists, unsupported)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_size(size_bytes: int) -> str:
    """A byte count for people: "512 B", "3.0 MiB", "1.5 GiB"."""
    if size_bytes < 1024:
        return f"{size_bytes} B"
    value = float(size_bytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def is_disk_full(error: OSError) -> bool:
    return error.errno in _DISK_FULL_ERRNOS


def is_within(path: str | Path, root: Path) -> bool:
    """Whether the absolute `path` is `root` or lies below it."""
    try:
        return os.path.commonpath([str(path), str(root)]) == str(root)
    except ValueError:  # different drives on Windows
        return False


def lstat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def require_real_directory_status(level: os.stat_result, actual_parts: tuple[str, ...]) -> None:
    """Refuse a symlink and skip a non-folder where a folder level must be (given its lstat)."""
    if stat.S_ISLNK(level.st_mode):
        raise EntryRefusedError(
            f"'{'/'.join(actual_parts)}' is a symbolic link; nothing is written through links"
        )
    if not stat.S_ISDIR(level.st_mode):
        raise EntrySkippedError(f"'{'/'.join(actual_parts)}' exists and is not a folder")


def partial_name(final_name: str) -> str:
    """A hidden, unique name next to the final one, recognisable as ours if left over."""
    prefix = final_name[:_PARTIAL_NAME_PREFIX_CHARACTERS]
    return f".{prefix}{PARTIAL_FILE_MARKER}{secrets.token_hex(4)}"


def lock_partial(fd: int) -> None:
    """Mark an open partial file as in use, for as long as `fd` stays open.

    The lock goes away with the process, even after SIGKILL, which is what
    tells a stale partial file from one another extraction is writing.
    """
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_stale_partials(root: Path) -> int:
    """Remove the partial files that killed extractions left below `root`; return how many.

    Only names partial_name() makes are touched, only regular files nobody
    holds locked (and leftover partial links), and links to folders are not
    followed.
    """
    removed = 0
    for folder, dirs, names in os.walk(root):
        for name in (*dirs, *names):
            if PARTIAL_FILE_MARKER in name and _PARTIAL_NAME_PATTERN.fullmatch(name):
                removed += _remove_if_unused(Path(folder) / name)
    return removed


def _remove_if_unused(path: Path) -> int:
    """Unlink one partial file unless a running extraction holds it; 1 if removed."""
    try:
        status = os.lstat(path)
        if stat.S_ISLNK(status.st_mode):
            os.unlink(path)
            return 1
        if not stat.S_ISREG(status.st_mode):
            return 0
        fd = os.open(path, _READ_FLAGS | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return 0
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.unlink(path)
        return 1
    except OSError:
        return 0  # locked: an extraction is writing it right now
    finally:
        os.close(fd)


def numbered_file_name(name: str, number: int) -> str:
    """Number a file name before its extension: ("a.txt", 2) → "a (2).txt"; 0 keeps it."""
    if number == 0:
        return name
    stem, extension = os.path.splitext(name)
    return f"{stem} ({number}){extension}"


def numbered_directory_name(name: str, number: int) -> str:
    """Folders have no extension: "data.d" → "data.d (1)"."""
    return name if number == 0 else f"{name} ({number})"


def write_all(fd: int, data: bytes | memoryview) -> int:
    """Write every byte (os.write may write less than asked); return the count."""
    view = memoryview(data).cast("B")
    total = view.nbytes
    while view.nbytes:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
    return total


def move_without_replacing(partial_path: Path, final: Path) -> None:
    """Give `partial_path` the name `final`, failing with FileExistsError if it is taken.

    os.link is atomic and never replaces; where hard links are not supported
    (FAT, some network shares) a rename after a fresh existence check is used.
    """
    try:
        os.link(partial_path, final)
    except FileExistsError:
        raise
    except (OSError, NotImplementedError) as error:
        if isinstance(error, OSError) and is_disk_full(error):
            raise
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(final)) from None
        os.rename(partial_path, final)  # on Windows, rename itself refuses to replace
        return
    os.unlink(partial_path)


def replace_or_remove(partial_path: Path, final: Path) -> None:
    """os.replace, removing the partial object if that fails."""
    try:
        os.replace(partial_path, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial_path)
        raise


def copy_without_replacing(source_path: Path, final: Path) -> int:
    """Copy a regular file to `final` via a partial file; return the bytes copied."""
    partial_path = final.parent / partial_name(final.name)
    source_stat = os.lstat(source_path)
    copied = 0
    source_fd = os.open(source_path, _READ_FLAGS)
    try:
        partial_fd = os.open(partial_path, NEW_FILE_FLAGS, 0o600)
        try:
            lock_partial(partial_fd)
            while chunk := os.read(source_fd, _COPY_CHUNK_BYTES):
                copied += write_all(partial_fd, chunk)
            os.chmod(partial_path, stat.S_IMODE(source_stat.st_mode))
            os.utime(partial_path, ns=(source_stat.st_atime_ns, source_stat.st_mtime_ns))
            if HOLDS_PARTIAL_LOCKS:
                move_without_replacing(partial_path, final)  # still locked while it moves
        finally:
            os.close(partial_fd)
        if not HOLDS_PARTIAL_LOCKS:
            move_without_replacing(partial_path, final)
    finally:
        os.close(source_fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial_path)
    return copied


def create_symlink(target: str, path: Path, is_directory_link: bool) -> None:
    """os.symlink, turning "links are not possible here" into a skip.

    Windows without developer mode and FAT/exFAT file systems cannot hold
    symlinks; the rest of the archive must still be extracted (librun#3).
    """
    try:
        os.symlink(target, path, target_is_directory=is_directory_link)
    except FileExistsError:
        raise
    except NotImplementedError as error:
        raise EntrySkippedError("symbolic links are not supported on this system") from error
    except OSError as error:
        if is_disk_full(error):
            raise
        raise EntrySkippedError(
            f"symbolic links cannot be created here ({error.strerror or error})"
        ) from error


def set_mtime_quietly(path: Path | int, mtime: float, *, follow_symlinks: bool) -> None:
    """Restore a modification time; a time the system cannot store is not worth a failure."""
    with contextlib.suppress(OSError, OverflowError, ValueError):
        os.utime(path, (mtime, mtime), follow_symlinks=follow_symlinks)
