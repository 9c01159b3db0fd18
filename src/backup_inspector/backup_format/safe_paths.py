"""Pure rules that decide whether, and under which name, a tar member may be extracted.

This is Backup Inspector's equivalent of Python's `tar`/`data` extraction filters
(format-spec §5), kept free of file-system access so that every rule can be tested
with plain strings. The rules that need the real disk (symlinks already on disk,
free space, conflicts) live in `inspection/extract_writer.py`.

We are stricter than the `tar` filter Home Assistant uses: symbolic links with
absolute targets are refused, because on the user's desktop `/config` or `/backup`
is not the add-on's folder, and following such a link later could touch
unrelated files (user-needs §3.6).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry, normalise_member_path


class NamePolicy(StrEnum):
    """Which file-name rules extracted names must satisfy."""

    POSIX = "posix"  # only "/" and NUL are impossible, and both are handled as path rules
    WINDOWS = "windows"  # NTFS/Explorer rules: no <>:"|?*\, no control chars, no CON…


class Verdict(StrEnum):
    """What the extractor should do with one entry."""

    EXTRACT = "extract"
    REFUSE = "refuse"  # unsafe: reported as a problem (FindingCode.UNSAFE_ENTRY)
    SKIP = "skip"  # harmless but not extractable (devices, FIFOs)


@dataclass(frozen=True, slots=True)
class PathCheck:
    """Result of checking one name: its components inside the destination, or why not.

    `parts` are the components relative to the destination folder after "." and
    non-escaping ".." were resolved lexically; () means the destination itself.
    """

    parts: tuple[str, ...] = ()
    refusal: str | None = None

    @property
    def is_safe(self) -> bool:
        """Whether the name stays inside the destination."""
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class EntryDecision:
    """The verdict for one tar entry, with where it would go.

    `link_parts` is, for a symbolic link, its target resolved lexically from the
    destination root; for a hard link, the target member's components.
    """

    verdict: Verdict
    reason: str = ""
    parts: tuple[str, ...] = ()
    link_parts: tuple[str, ...] = ()


# Windows refuses these characters in file names; "\" would also act as a separator.
WINDOWS_FORBIDDEN_CHARACTERS = frozenset('<>:"|?*\\') | frozenset(chr(code) for code in range(32))
# Device names Windows reserves with any extension ("CON.txt"); the same list as
# CPython's ntpath.isreserved (3.13), which includes superscript digits and CONIN$/CONOUT$.
WINDOWS_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{digit}" for digit in "123456789\u00b9\u00b2\u00b3"}
    | {f"LPT{digit}" for digit in "123456789\u00b9\u00b2\u00b3"}
)
PORTABLE_REPLACEMENT_CHARACTER = "_"

# Linux's PATH_MAX, and far deeper than any real backup: beyond either, a name
# cannot be extracted anywhere, and walking its levels one by one is how a
# 10 KB archive made listing take gigabytes (issue 9, finding 3).
MAX_PATH_BYTES = 4096
MAX_PATH_DEPTH = 1024

# "C:", "C:\x" or "\\server\share": absolute on Windows even though POSIX reads them as names.
_WINDOWS_ABSOLUTE_PATTERN = re.compile(r"^(?:[A-Za-z]:|\\)")


def default_name_policy() -> NamePolicy:
    """The name policy of the system we run on: Windows rules on Windows, else POSIX."""
    return NamePolicy.WINDOWS if os.name == "nt" else NamePolicy.POSIX


def portable_name(component: str, policy: NamePolicy | str | None = None) -> str:
    """Return `component` changed only as far as `policy` requires, predictably.

    On "windows", forbidden characters and control characters become "_",
    trailing dots and spaces are dropped (Windows silently drops them, so two
    names would otherwise meet), and reserved device names get "_" appended to
    the part before the first dot ("CON.txt" → "CON_.txt"), because Windows
    reserves "CON" with any extension. The caller must report every change and
    resolve collisions; this function only maps one name.
    """
    resolved_policy = NamePolicy(policy) if policy is not None else default_name_policy()
    if resolved_policy is NamePolicy.POSIX:
        return component
    replaced = "".join(
        PORTABLE_REPLACEMENT_CHARACTER if character in WINDOWS_FORBIDDEN_CHARACTERS else character
        for character in component
    )
    stripped = replaced.rstrip(". ")
    if not stripped:
        return PORTABLE_REPLACEMENT_CHARACTER
    base, dot, extension = stripped.partition(".")
    if base.rstrip(" ").upper() in WINDOWS_RESERVED_NAMES:
        return f"{base}{PORTABLE_REPLACEMENT_CHARACTER}{dot}{extension}"
    return stripped


def resolve_dot_components(
    components: Iterable[str], base: tuple[str, ...] = ()
) -> tuple[str, ...] | None:
    """Apply "." and ".." lexically, starting in `base`; None if the path climbs above the root.

    Lexical resolution is only the first line of defence: symlinks already on disk
    can change what ".." means, which the extractor checks with real paths.
    """
    stack = list(base)
    for component in components:
        if component in ("", "."):
            continue
        if component == "..":
            if not stack:
                return None
            stack.pop()
        else:
            stack.append(component)
    return tuple(stack)


def _length_refusal(name: str, what: str) -> str | None:
    """Why `name` is too long, or None (UTF-8 bytes; undecodable bytes count as one)."""
    if len(name) > MAX_PATH_BYTES or len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        return f"{what} longer than {MAX_PATH_BYTES:,} bytes"
    return None


def _depth_refusal(name: str, what: str) -> str | None:
    """Why `name` has too many "/"-separated levels, or None."""
    if name.count("/") >= MAX_PATH_DEPTH:
        return f"{what} deeper than {MAX_PATH_DEPTH:,} levels"
    return None


def path_limit_refusal(name: str, what: str = "path") -> str | None:
    """Why `name` is too long or too deep to extract, or None; cost linear in its length."""
    return _length_refusal(name, what) or _depth_refusal(name, what)


def exceeds_path_limits(path: str) -> bool:
    """Whether a (normalised) path is beyond MAX_PATH_BYTES or MAX_PATH_DEPTH."""
    return path_limit_refusal(path) is not None


def check_member_path(raw_name: str, path: str | None = None) -> PathCheck:
    """Check a member's stored name; `path` is its normalised form (computed if None).

    The stored name is needed because normalisation strips a leading "/", which
    is exactly what marks an absolute member.
    """
    if raw_name == "":
        return PathCheck(refusal="empty member name")
    if "\0" in raw_name or (path is not None and "\0" in path):
        return PathCheck(refusal="member name contains a NUL byte")
    normalised = normalise_member_path(raw_name) if path is None else path
    # The stored name's length (what messages quote), the normalised name's depth.
    too_long = _length_refusal(raw_name, "path") or _depth_refusal(normalised, "path")
    if too_long is not None:
        return PathCheck(refusal=too_long)
    if raw_name.startswith("/"):
        return PathCheck(refusal=f"absolute path ({raw_name})")
    parts = resolve_dot_components(normalised.split("/"))
    if parts is None:
        return PathCheck(refusal=f"'..' leads outside the destination ({raw_name})")
    return PathCheck(parts=parts)


def check_symlink_target(link_parts: tuple[str, ...], target: str) -> PathCheck:
    """Check a symlink at `link_parts` pointing to `target`; parts = target from the root.

    Only relative targets that stay inside the destination are allowed. Absolute
    targets occur in real add-on data (links to /config, /backup) and are refused.
    """
    if target == "":
        return PathCheck(refusal="symbolic link with an empty target")
    if "\0" in target:
        return PathCheck(refusal="symbolic link target contains a NUL byte")
    too_long = path_limit_refusal(target, "symbolic link target")
    if too_long is not None:
        return PathCheck(refusal=too_long)
    if target.startswith("/") or _WINDOWS_ABSOLUTE_PATTERN.match(target):
        return PathCheck(refusal=f"symbolic link to an absolute path ({target})")
    parts = resolve_dot_components(target.split("/"), base=link_parts[:-1])
    if parts is None:
        return PathCheck(refusal=f"symbolic link target leads outside the destination ({target})")
    return PathCheck(parts=parts)


def check_hardlink_target(target: str) -> PathCheck:
    """Check a hard link's (normalised) target member name.

    The target must also be a file extracted earlier in the same run; that part
    needs state and is checked by the extractor.
    """
    if target in {"", "."}:
        return PathCheck(refusal="hard link with an empty target")
    if "\0" in target:
        return PathCheck(refusal="hard link target contains a NUL byte")
    too_long = path_limit_refusal(target, "hard link target")
    if too_long is not None:
        return PathCheck(refusal=too_long)
    if target.startswith("/"):
        return PathCheck(refusal=f"hard link to an absolute path ({target})")
    parts = resolve_dot_components(target.split("/"))
    if parts is None:
        return PathCheck(refusal=f"hard link target leads outside the destination ({target})")
    return PathCheck(parts=parts)


def judge_entry(entry: TarEntry) -> EntryDecision:
    """Decide, from names alone, whether `entry` may be extracted and where.

    Devices and FIFOs are skipped rather than refused: they are legitimate in a
    backup but cannot be recreated without privileges, and are not dangerous.
    """
    if entry.type is EntryType.OTHER:
        return EntryDecision(Verdict.SKIP, "special file (device or FIFO); not extracted")
    name_check = check_member_path(entry.raw_name, entry.path)
    if not name_check.is_safe:
        return EntryDecision(Verdict.REFUSE, name_check.refusal or "")
    if entry.type is EntryType.SYMLINK:
        if not name_check.parts:
            return EntryDecision(Verdict.REFUSE, "symbolic link in place of the destination folder")
        link_check = check_symlink_target(name_check.parts, entry.link)
        if not link_check.is_safe:
            return EntryDecision(Verdict.REFUSE, link_check.refusal or "", name_check.parts)
        return EntryDecision(Verdict.EXTRACT, "", name_check.parts, link_check.parts)
    if entry.type is EntryType.HARDLINK:
        if not name_check.parts:
            return EntryDecision(Verdict.REFUSE, "hard link in place of the destination folder")
        link_check = check_hardlink_target(entry.link)
        if not link_check.is_safe:
            return EntryDecision(Verdict.REFUSE, link_check.refusal or "", name_check.parts)
        return EntryDecision(Verdict.EXTRACT, "", name_check.parts, link_check.parts)
    if entry.type is EntryType.FILE and not name_check.parts:
        return EntryDecision(Verdict.REFUSE, "regular file in place of the destination folder")
    return EntryDecision(Verdict.EXTRACT, "", name_check.parts)


def safe_file_mode(mode: int) -> int:
    """Permission bits for an extracted file, like Python's `data` filter.

    setuid/setgid/sticky and group/other write are dropped; the owner can always
    read and write (else the user could not delete what we wrote); group/other
    execute is kept only when the owner may execute.
    """
    permissions = (stat.S_IMODE(mode) & 0o755) | 0o600
    if not permissions & stat.S_IXUSR:
        permissions &= ~(stat.S_IXGRP | stat.S_IXOTH)
    return permissions


def safe_directory_mode(mode: int) -> int:
    """Permission bits for an extracted directory: no special bits, owner rwx.

    The owner needs rwx so that the following members can be written into it.
    """
    return (stat.S_IMODE(mode) & 0o755) | 0o700
