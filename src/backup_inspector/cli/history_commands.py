"""`find` and `diff`: a file's history across backups, and what changed between two (issue 13).

Contracts: `find --json` prints a list of versions oldest first; `diff` with
a PATH prints a unified diff and exits 0 when equal, 1 when different, 2 on
usage or unreadable input, as diff(1) does; without a PATH it prints the
added, removed and changed files per archive. Saved file lists are kept in
the user's cache folder (only for unencrypted backups), so the second search
of a folder reads no archive.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..inspection.archive_walk import EntryNotFoundError
from ..inspection.backup_diff import ArchiveDiff, ArchiveLockedError, diff_archive, diff_backups
from ..inspection.backup_overview import BackupOverview
from ..inspection.content_hash import NOT_HASHED
from ..inspection.extract_job import ReadEntryError
from ..inspection.file_compare import FileSide, TooLargeToCompareError, compare_sides, read_version
from ..inspection.file_history import FindResult, find_across_backups
from ..inspection.index_store import IndexStore
from . import exit_codes, output
from .password_source import PasswordSourceError, resolve_password

OpenBackup = Callable[[Path], BackupOverview]


class HistoryUsageError(Exception):
    """Bad arguments or unreadable input: exit code 2 (main turns it into its UsageError)."""


def default_index_dir() -> Path:
    """$XDG_CACHE_HOME/backup-inspector/index (~/.cache when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "backup-inspector" / "index"


def add_history_commands(
    commands: Any, add_password_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """The `find` and `diff` sub-commands."""
    find = commands.add_parser("find", help="find a file in every backup of a folder")
    find.add_argument("backup_dir", type=Path, metavar="BACKUP_DIR")
    find.add_argument("pattern", metavar="PATTERN", help="a file name or glob; with a /, a path")
    find.add_argument("--json", action="store_true", help="print JSON")
    _add_index_dir(find)
    add_password_options(find)

    diff = commands.add_parser("diff", help="compare two backups, one archive, or one file")
    diff.add_argument("old", type=Path, metavar="OLD.tar")
    diff.add_argument("new", type=Path, metavar="NEW.tar")
    diff.add_argument("archive", nargs="?", metavar="ARCHIVE")
    diff.add_argument("path", nargs="?", metavar="PATH", help="one file: print a unified diff")
    diff.add_argument("--json", action="store_true", help="print JSON")
    _add_index_dir(diff)
    add_password_options(diff)


def _add_index_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-dir",
        type=Path,
        metavar="DIR",
        help="where file lists are saved for faster searches (default: "
        "$XDG_CACHE_HOME/backup-inspector/index)",
    )


def _store(args: argparse.Namespace) -> IndexStore:
    """Saved file lists of unencrypted backups only: nothing of an encrypted one is written."""
    return IndexStore(args.index_dir or default_index_dir(), remember_protected=False)


def _password(args: argparse.Namespace, *, needed: bool) -> str | None:
    """The one password tried on every encrypted backup."""
    try:
        return resolve_password(args.password_file, args.emergency_kit, needed=needed)
    except PasswordSourceError as err:
        raise HistoryUsageError(str(err)) from err


def cmd_find(args: argparse.Namespace) -> int:
    """Every version of the files matching PATTERN; 0 found, 1 none found, 2 usage."""
    if not args.backup_dir.is_dir():
        raise HistoryUsageError(f"{args.backup_dir}: not a folder")
    try:
        result = find_across_backups(
            args.backup_dir,
            args.pattern,
            store=_store(args),
            password=_password(args, needed=False),
        )
    except ValueError as err:
        raise HistoryUsageError(str(err)) from err
    if args.json:
        _print_json([version.to_json() for version in result.versions])
    else:
        _print_histories(result)
    for locked in result.locked:
        sys.stderr.write(
            output.terminal_text(
                f"not searched: {locked.backup} ({locked.reason}): {', '.join(locked.archives)}"
            )
            + "\n"
        )
    return exit_codes.OK if result.versions else exit_codes.PROBLEMS


def _print_histories(result: FindResult) -> None:
    """One block per file: its contents newest first, each with where it first appeared."""
    out = sys.stdout
    if not result.versions:
        out.write(f"No file matches {result.pattern!r} in {result.backups_searched} backups.\n")
    for history in result.histories():
        count = sum(len(group.versions) for group in history.groups)
        out.write(
            output.terminal_text(f"{history.archive}/{history.path}: {count} versions, ")
            + f"{len(history.groups)} different contents\n"
        )
        for group in reversed(history.groups):
            first = group.first
            later = len(group.versions) - 1
            digest = group.sha256[:12] if group.sha256 else NOT_HASHED
            backups = "backup" if later == 1 else "backups"
            note = f", unchanged in the {later} {backups} after it" if later else ""
            line = (
                f"  {first.date[:10]}  {first.name} ({first.backup})  "
                f"{output.human_size(first.size)}  {digest}{note}"
            )
            out.write(output.terminal_text(line) + "\n")


def cmd_diff(args: argparse.Namespace, open_backup: OpenBackup) -> int:
    """diff(1)-like: 0 equal, 1 different, 2 usage or unreadable input."""
    old, new = open_backup(args.old), open_backup(args.new)
    password = _password(args, needed=old.is_protected or new.is_protected)
    store = _store(args)
    try:
        if args.path is not None:
            return _diff_file(args, old, new, password)
        if args.archive is not None:
            archive_diff = diff_archive(old, new, args.archive, store=store, password=password)
            if args.json:
                _print_json(archive_diff.to_json())
            else:
                _print_archive_diff(archive_diff)
            return exit_codes.PROBLEMS if archive_diff.has_differences else exit_codes.OK
    except (ArchiveLockedError, LookupError, ReadEntryError, TooLargeToCompareError) as err:
        raise HistoryUsageError(str(err)) from err
    backup_diff = diff_backups(old, new, store=store, password=password)
    if args.json:
        _print_json(backup_diff.to_json())
    else:
        for change in backup_diff.metadata:
            line = f"metadata {change['field']}: {change['old']} → {change['new']}"
            sys.stdout.write(output.terminal_text(line) + "\n")
        for name in backup_diff.archives_added:
            sys.stdout.write(output.terminal_text(f"archive added: {name}") + "\n")
        for name in backup_diff.archives_removed:
            sys.stdout.write(output.terminal_text(f"archive removed: {name}") + "\n")
        for archive_diff in backup_diff.archives.values():
            _print_archive_diff(archive_diff)
    for name, why in backup_diff.locked.items():
        sys.stderr.write(output.terminal_text(f"not compared: {name}: {why}") + "\n")
    if backup_diff.locked:
        return exit_codes.USAGE
    return exit_codes.PROBLEMS if backup_diff.has_differences else exit_codes.OK


def _diff_file(
    args: argparse.Namespace, old: BackupOverview, new: BackupOverview, password: str | None
) -> int:
    """One file in two backups (its path may carry data/ in one era and not the other)."""
    try:
        old_path, old_data = read_version(old, args.archive, args.path, password)
        new_path, new_data = read_version(new, args.archive, args.path, password)
    except EntryNotFoundError as err:
        raise HistoryUsageError(str(err)) from err
    comparison = compare_sides(
        FileSide(f"{old.path.name}:{args.archive}/{old_path}", old_data),
        FileSide(f"{new.path.name}:{args.archive}/{new_path}", new_data),
    )
    if args.json:
        _print_json({"archive": args.archive, "path": args.path, **comparison.to_json()})
    else:
        sys.stdout.write(_shown_diff(comparison.unified_text()))
    return exit_codes.OK if comparison.equal else exit_codes.PROBLEMS


def _shown_diff(text: str) -> str:
    """A diff safe for a terminal: control characters escaped, tabs kept (patch needs them)."""
    return "".join(
        "\t".join(output.terminal_text(part) for part in line.split("\t")) + "\n"
        for line in text.splitlines()
    )


def _print_archive_diff(diff: ArchiveDiff) -> None:
    """+ added, - removed, ~ changed, with sizes."""
    out = sys.stdout
    if not diff.has_differences:
        out.write(output.terminal_text(f"{diff.archive}: no differences") + "\n")
        return
    out.write(output.terminal_text(f"{diff.archive}:") + "\n")
    for item in diff.added:
        out.write(
            output.terminal_text(f"  + {item['path']} ({output.human_size(item['size'])})") + "\n"
        )
    for item in diff.removed:
        out.write(
            output.terminal_text(f"  - {item['path']} ({output.human_size(item['size'])})") + "\n"
        )
    for item in diff.changed:
        sizes = f"{output.human_size(item['old_size'])} → {output.human_size(item['new_size'])}"
        out.write(output.terminal_text(f"  ~ {item['path']} ({sizes})") + "\n")


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
