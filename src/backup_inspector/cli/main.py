"""`backup-inspector`: info, check, ls, extract, copy, serve and demo (issues 2 and 12).

Exit codes: 0 ok; 1 the backup has problems or the operation failed because of
its content; 2 usage error or an input file that cannot be opened. Whatever
the input, a message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..backup_format.tar_entry import DataSink, EntryType, TarEntry
from ..inspection.archive_walk import ArchiveNotFoundError, has_error
from ..inspection.backup_overview import BackupOverview, open_backup
from ..inspection.check_job import full_check, quick_check
from ..inspection.content_hash import HashingSink
from ..inspection.copy_job import CopyError, CopyRequest, FileEdit, make_copy
from ..inspection.extract_files import format_size
from ..inspection.extract_job import NOT_IN_ARCHIVE, NOT_REACHED, ConflictPolicy, extract
from ..inspection.extract_writer import DEFAULT_DISK_RESERVE_BYTES
from ..inspection.listing_job import list_entries
from ..inspection.progress import JobCancelledError
from ..inspection.sensitive_archives import sensitive_archives, sensitive_warning
from ..inspection.target_facts import TargetFacts, TargetFactsError, read_target_file
from . import exit_codes, output
from .history_commands import HistoryUsageError, add_history_commands, cmd_diff, cmd_find
from .password_source import PasswordSourceError, resolve_password


class UsageError(Exception):
    """Bad arguments or an input that cannot be opened (exit code 2)."""


def _add_password_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--password-file", type=Path, metavar="FILE", help="read the password from FILE"
    )
    group.add_argument(
        "--emergency-kit", type=Path, metavar="FILE", help="read the key from an emergency-kit file"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; `serve` options come from the web layer."""
    parser = argparse.ArgumentParser(
        prog="backup-inspector",
        description="Check, browse and extract Home Assistant backups (every era, SecureTar v1–v3).",
        epilog="Password: --password-file, --emergency-kit, the BACKUP_PASSWORD environment variable, "
        "or a prompt on a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="metadata and archive list (nothing decrypted)")
    info.add_argument("backup", type=Path, metavar="BACKUP")
    info.add_argument("--json", action="store_true", help="print JSON")

    check = commands.add_parser("check", help="check a backup (full check unless --quick)")
    check.add_argument("backup", type=Path, metavar="BACKUP")
    check.add_argument("--quick", action="store_true", help="metadata and password only")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument(
        "--target",
        type=Path,
        metavar="FILE",
        help="the JSON `ha info --raw-json` prints on the system to restore on: "
        "predict the restore there",
    )
    _add_password_options(check)

    ls = commands.add_parser("ls", help="list archives, or the entries of one archive")
    ls.add_argument("backup", type=Path, metavar="BACKUP")
    ls.add_argument("archive", nargs="?", metavar="ARCHIVE")
    ls.add_argument("path", nargs="?", metavar="PATH", help="only entries at or under PATH")
    ls.add_argument("--json", action="store_true", help="print JSON")
    _add_password_options(ls)

    ex = commands.add_parser("extract", help="extract files or folders of one archive")
    ex.add_argument("backup", type=Path, metavar="BACKUP")
    ex.add_argument("archive", metavar="ARCHIVE")
    ex.add_argument("paths", nargs="*", metavar="PATH", help="entries to extract (default: all)")
    ex.add_argument("--to", type=Path, required=True, metavar="DIR", help="destination folder")
    ex.add_argument("--overwrite", action="store_true", help="replace existing files")
    ex.add_argument(
        "--allow-low-space",
        action="store_true",
        help=f"go on although less than {format_size(DEFAULT_DISK_RESERVE_BYTES)} would stay free",
    )
    ex.add_argument(
        "--confirm-sensitive",
        action="store_true",
        help="extract supervisor.tar.gz even though it holds mount and registry passwords",
    )
    _add_password_options(ex)

    _add_copy_parser(commands)

    serve = commands.add_parser("serve", help="start the web UI")
    from ..web.serve_arguments import add_serve_arguments  # noqa: PLC0415

    add_serve_arguments(serve)

    add_history_commands(commands, _add_password_options)

    demo = commands.add_parser("demo", help="write demo backups to a folder and check them")
    demo.add_argument(
        "--dir", type=Path, default=Path("demo"), help="folder for the demo (default: ./demo)"
    )
    return parser


def _add_copy_parser(commands: argparse._SubParsersAction) -> None:
    """`copy`: issue 12's contract."""
    cp = commands.add_parser("copy", help="write a restorable copy (decrypt, new password, edits)")
    cp.add_argument("backup", type=Path, metavar="BACKUP")
    cp.add_argument("--to", type=Path, required=True, metavar="OUT.tar", help="the copy's file")
    _add_password_options(cp)
    new_key = cp.add_mutually_exclusive_group()
    new_key.add_argument("--decrypt", action="store_true", help="an unencrypted copy")
    new_key.add_argument(
        "--new-password-file", type=Path, metavar="F", help="encrypt with the password in F"
    )
    new_key.add_argument(
        "--new-emergency-kit", type=Path, metavar="F", help="encrypt with the key of a kit file"
    )
    cp.add_argument(
        "--drop", action="extend", nargs="+", default=[], metavar="ARCHIVE", help="leave out"
    )
    cp.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="ARCHIVE:PATH=LOCAL_FILE",
        help="replace (or add) PATH in ARCHIVE with LOCAL_FILE",
    )
    cp.add_argument(
        "--delete", action="append", default=[], metavar="ARCHIVE:PATH", help="delete a file"
    )
    cp.add_argument("--name", help='name of the copy (default: "<original> (copy)")')
    cp.add_argument("--overwrite", action="store_true", help="replace an existing OUT.tar")
    cp.add_argument("--json", action="store_true", help="print JSON")


def _open(path: Path) -> BackupOverview:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give one backup file (.tar)")
    try:
        # The backup is opened without following symlinks (the app must not
        # read through one); a symlink named on the command line is the
        # user's own choice, so the CLI resolves it once here.
        return open_backup(path.resolve() if path.is_symlink() else path)
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from err


def _password(args: argparse.Namespace, overview: BackupOverview) -> str | None:
    try:
        return resolve_password(
            args.password_file, args.emergency_kit, needed=overview.is_protected
        )
    except PasswordSourceError as err:
        raise UsageError(str(err)) from err


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_info(args: argparse.Namespace) -> int:
    """Metadata and archive list."""
    overview = _open(args.backup)
    if args.json:
        _print_json(overview.to_json())
    else:
        output.print_overview(overview, sys.stdout)
    return exit_codes.PROBLEMS if has_error(overview.findings) else exit_codes.OK


def _target(path: Path | None) -> TargetFacts | None:
    if path is None:
        return None
    try:
        return read_target_file(path)
    except TargetFactsError as err:
        raise UsageError(
            f"--target {path}: {err}. Give the JSON that `ha info --raw-json` prints."
        ) from err


def cmd_check(args: argparse.Namespace) -> int:
    """Quick or full check, with the restore predicted on `--target` if given."""
    target = _target(args.target)
    overview = _open(args.backup)
    password = _password(args, overview)
    if args.quick:
        report = quick_check(overview, password, target=target)
    else:
        progress = output.ProgressLine("Checking")
        try:
            report = full_check(overview, password, progress=progress, target=target)
        finally:
            progress.done()
    if args.json:
        _print_json(report.to_json())
    else:
        output.print_check(report, sys.stdout)
    return exit_codes.OK if report.ok else exit_codes.PROBLEMS


def cmd_ls(args: argparse.Namespace) -> int:
    """Archives, or entries of one archive."""
    overview = _open(args.backup)
    if args.archive is None:
        if args.json:
            _print_json([a.to_json() for a in overview.archives])
        else:
            output.print_overview(overview, sys.stdout)
        return exit_codes.PROBLEMS if has_error(overview.findings) else exit_codes.OK
    password = _password(args, overview)
    first = True

    def write_entry(entry: TarEntry, sha256: str | None) -> None:
        nonlocal first
        if args.json:
            shown = entry.to_json()
            if entry.type is EntryType.FILE:
                shown["sha256"] = sha256  # None: the file broke off before its end
            sys.stdout.write(
                ("[\n  " if first else ",\n  ") + json.dumps(shown, ensure_ascii=False)
            )
        else:
            sys.stdout.write(output.format_entry(entry) + "\n")
        first = False

    def print_entry(entry: TarEntry) -> DataSink | None:
        if entry.type is not EntryType.FILE:
            write_entry(entry, None)
            return None
        return HashingSink(lambda digest: write_entry(entry, digest))

    try:
        check = list_entries(overview, args.archive, password, print_entry, under=args.path)
    except ArchiveNotFoundError as err:
        raise UsageError(str(err)) from err
    if args.json:
        sys.stdout.write("[]\n" if first else "\n]\n")
    if check.problems:
        output.print_findings(check.problems, sys.stderr, output.Style(sys.stderr))
    return exit_codes.OK if check.ok else exit_codes.PROBLEMS


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract chosen entries of one archive into --to DIR."""
    overview = _open(args.backup)
    archive = overview.find_archive(args.archive)
    sensitive = sensitive_archives([archive] if archive is not None else [])
    if sensitive and not args.confirm_sensitive:
        raise UsageError(
            sensitive_warning(sensitive, f"In {args.to}, anyone who can read it can read them.")
            + " Add --confirm-sensitive to extract it anyway."
        )
    password = _password(args, overview)
    try:
        args.to.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {args.to}: {err.strerror or err}") from err
    conflict = ConflictPolicy.OVERWRITE if args.overwrite else ConflictPolicy.SKIP
    free_bytes = shutil.disk_usage(args.to).free
    if free_bytes < DEFAULT_DISK_RESERVE_BYTES and not args.allow_low_space:
        sys.stderr.write(output.low_space_refusal(free_bytes, DEFAULT_DISK_RESERVE_BYTES))
        return exit_codes.PROBLEMS
    progress = output.ProgressLine("Extracting")
    # SIGTERM ends the run like Ctrl-C: the file being written is removed.
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = extract(
            overview,
            [(args.archive, list(args.paths))],
            password,
            args.to,
            conflict,
            progress=progress,
            allow_low_space=args.allow_low_space,
        )
    except ArchiveNotFoundError as err:
        raise UsageError(str(err)) from err
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        progress.done()
    output.print_extract_report(report, sys.stdout)
    failed = (
        has_error(report.problems)
        or bool(report.refused)
        or bool(report.stopped_reason)
        or any(reason in (NOT_IN_ARCHIVE, NOT_REACHED) for _, reason in report.skipped)
    )
    return exit_codes.PROBLEMS if failed else exit_codes.OK


def _interrupt(_signal_number: int, _frame: object) -> None:
    """SIGTERM handler: unwind like Ctrl-C, so cleanup code runs."""
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    """The web UI."""
    from ..web.server import run_serve  # noqa: PLC0415

    return run_serve(args)


def cmd_demo(args: argparse.Namespace) -> int:
    """Write demo backups and run a full check on each, with the demo password."""
    from ..demo.demo_backups import DEMO_PASSWORD, create_demo_folder  # noqa: PLC0415

    backups = create_demo_folder(args.dir / "backups")
    sys.stdout.write(f"Demo backups in {args.dir / 'backups'} (password: {DEMO_PASSWORD})\n\n")
    worst = exit_codes.OK
    for path in backups:
        overview = open_backup(path)
        report = full_check(overview, DEMO_PASSWORD if overview.is_protected else None)
        output.print_check(report, sys.stdout)
        sys.stdout.write("\n")
        worst = worst if report.ok else exit_codes.PROBLEMS
    return worst


def _archive_path(spec: str, option: str) -> tuple[str, str]:
    """ "share:notes.txt" -> ("share", "notes.txt")."""
    archive, sep, path = spec.partition(":")
    if not sep or not archive or not path:
        raise UsageError(f"{option} {spec!r}: expected ARCHIVE:PATH")
    return archive, path


def _file_edits(args: argparse.Namespace) -> tuple[FileEdit, ...]:
    """--replace and --delete as FileEdits; local files must exist."""
    edits: list[FileEdit] = []
    for spec in args.replace:
        target, sep, local = spec.rpartition("=")
        if not sep or not local:
            raise UsageError(f"--replace {spec!r}: expected ARCHIVE:PATH=LOCAL_FILE")
        archive, path = _archive_path(target, "--replace")
        if not Path(local).is_file():
            raise UsageError(f"--replace: {local} is not a file")
        edits.append(FileEdit(archive, path, Path(local)))
    for spec in args.delete:
        archive, path = _archive_path(spec, "--delete")
        edits.append(FileEdit(archive, path, None))
    return tuple(edits)


def _new_password(args: argparse.Namespace) -> str | None:
    """The password for the copy, from --new-password-file or --new-emergency-kit."""
    if args.new_password_file is None and args.new_emergency_kit is None:
        return None
    try:
        return resolve_password(args.new_password_file, args.new_emergency_kit, needed=False)
    except PasswordSourceError as err:
        raise UsageError(str(err)) from err


def cmd_copy(args: argparse.Namespace) -> int:
    """Write a copy, check it, and say what it holds."""
    overview = _open(args.backup)
    if args.to.exists() and not args.overwrite:
        raise UsageError(f"{args.to} exists; add --overwrite to replace it")
    if args.to.resolve() == args.backup.resolve():
        raise UsageError("the copy cannot replace the backup it is made from")
    if not args.to.parent.is_dir():
        raise UsageError(f"{args.to.parent} is not a folder")
    request = CopyRequest(
        destination=args.to,
        name=args.name,
        decrypt=args.decrypt,
        new_password=_new_password(args),
        drop=tuple(args.drop),
        edits=_file_edits(args),
        overwrite=args.overwrite,
    )
    password = _password(args, overview)
    progress = output.ProgressLine("Copying")
    try:
        report = make_copy(overview, password, request, progress=progress)
    except (ArchiveNotFoundError, ValueError, FileExistsError) as err:
        raise UsageError(str(err)) from err
    except CopyError as err:
        progress.done()
        if args.json:
            check = err.check.to_json() if err.check is not None else None
            _print_json({"error": err.message, "check": check})
        sys.stderr.write(f"backup-inspector: no copy made: {err.message}\n")
        return exit_codes.PROBLEMS
    finally:
        progress.done()
    if args.json:
        _print_json(report.to_json())
    else:
        output.print_copy_report(report, sys.stdout)
    return exit_codes.OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "copy": cmd_copy,
    "info": cmd_info,
    "check": cmd_check,
    "ls": cmd_ls,
    "extract": cmd_extract,
    "serve": cmd_serve,
    "demo": cmd_demo,
    "find": cmd_find,
    "diff": lambda args: cmd_diff(args, _open),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code. Never lets a traceback reach the user."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, HistoryUsageError) as err:
        sys.stderr.write(f"backup-inspector: {output.terminal_text(str(err))}\n")
        return exit_codes.USAGE
    except (KeyboardInterrupt, JobCancelledError):
        sys.stderr.write("\nbackup-inspector: interrupted\n")
        return exit_codes.INTERRUPTED
    except BrokenPipeError:
        return exit_codes.OK  # e.g. `backup-inspector ls … | head`
    except OSError as err:
        what = f"{err.strerror or err} ({err.filename or 'I/O error'})"
        sys.stderr.write(f"backup-inspector: {output.terminal_text(what)}\n")
        return exit_codes.PROBLEMS
    except Exception as err:
        what = f"unexpected error: {type(err).__name__}: {err}"
        sys.stderr.write(f"backup-inspector: {output.terminal_text(what)}\n")
        return exit_codes.PROBLEMS
