"""Text the CLI prints for people: aligned, coloured only on a terminal, progress on stderr."""

from __future__ import annotations

import os
import stat
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from ..backup_format.findings import Finding, Severity
from ..backup_format.tar_entry import EntryType, TarEntry
from ..inspection.backup_overview import BackupOverview
from ..inspection.check_job import CheckReport
from ..inspection.copy_job import CopyReport
from ..inspection.extract_job import ExtractReport
from ..inspection.progress import Progress


class Style:
    """ANSI colours, or nothing when the stream is not a terminal (or NO_COLOR is set)."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and "NO_COLOR" not in os.environ

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def good(self, text: str) -> str:
        """Green."""
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        """Red."""
        return self._wrap("31", text)

    def warn(self, text: str) -> str:
        """Yellow."""
        return self._wrap("33", text)

    def dim(self, text: str) -> str:
        """Grey."""
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        """Bold."""
        return self._wrap("1", text)


def human_size(size: int | None) -> str:
    """1536 → "1.5 KiB"."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")


def print_findings(findings: list[Finding], out: TextIO, style: Style) -> None:
    """One line per finding: severity, code, message."""
    marks = {Severity.ERROR: style.bad("error"), Severity.INFO: style.dim("note")}
    for finding in findings:
        mark = marks.get(finding.severity, style.warn("warning"))
        out.write(f"  {mark} [{finding.code.value}] {finding.message}\n")


def _short_time(iso_time: object) -> str:
    """ "2026-11-01T00:00:00Z" → "2026-11-01 00:00 UTC"."""
    return f"{str(iso_time)[:16].replace('T', ' ')} UTC" if iso_time else "?"


def print_database(report: CheckReport, out: TextIO, style: Style) -> None:
    """The recorder database in a line or two: verdict, size, schema, time span."""
    if report.database is None:
        return
    facts = report.database.to_json()
    mark = {True: style.good("ok"), False: style.bad("FAIL"), None: style.warn("not checked")}[
        report.database.ok
    ]
    wal = f" + {human_size(report.database.wal_size)} WAL" if report.database.wal_size else ""
    out.write(
        f"\nDatabase: {mark}  {facts['archive']}: {facts['path']} "
        f"({human_size(report.database.size)}{wal})\n"
    )
    details = []
    if facts["schema_version"] is not None:
        details.append(f"schema {facts['schema_version']}")
    if facts["first_time"] or facts["last_time"]:
        details.append(
            f"history {_short_time(facts['first_time'])} to {_short_time(facts['last_time'])}"
        )
    out.write(f"  {', '.join([*details, str(facts['message'])])}\n")


def print_overview(overview: BackupOverview, out: TextIO) -> None:
    """`info`: what the backup is and which archives it holds."""
    style = Style(out)
    out.write(style.bold(overview.display_name) + "\n")
    if overview.metadata is not None:
        out.write(f"  {overview.metadata.describe()}\n")
    out.write(f"  File: {overview.path} ({human_size(overview.file_size)})\n")
    out.write(f"  Protected: {'yes' if overview.is_protected else 'no'}\n")
    if overview.archives:
        rows = [["ARCHIVE", "CONTENT", "ENCRYPTION", "COMPRESSED", "SIZE", "NOTE"]]
        for archive in overview.archives:
            compressed = {True: "yes", False: "no", None: "?"}[archive.compressed]
            note = "" if archive.is_listed else "not in metadata"
            note = "incomplete" if not archive.is_complete else note
            rows.append(
                [
                    archive.file_name,
                    archive.label,
                    archive.encryption.value,
                    compressed,
                    human_size(archive.size),
                    note,
                ]
            )
        out.write("\n")
        _table(rows, out)
    if overview.findings:
        out.write("\nProblems:\n")
        print_findings(overview.findings, out, style)


def print_check(report: CheckReport, out: TextIO) -> None:
    """`check`: the verdict per archive, then every problem, then the summary."""
    style = Style(out)
    out.write(style.bold(report.overview.display_name) + f"  ({report.overview.path})\n\n")
    if report.archives:
        rows = [["", "ARCHIVE", "ENCRYPTION", "ENTRIES", "CONTENT"]]
        for check in report.archives:
            mark = style.good("ok") if check.ok else style.bad("FAIL")
            entries = "-" if check.entries is None else f"{check.entries:,}"
            rows.append(
                [
                    mark,
                    check.archive.file_name,
                    check.archive.encryption.value,
                    entries,
                    human_size(check.bytes),
                ]
            )
        _table(rows, out)
    print_database(report, out, style)
    problems = [p for p in report.problems if p.severity != Severity.INFO]
    notes = [p for p in report.problems if p.severity == Severity.INFO]
    if problems:
        out.write("\nProblems:\n")
        print_findings(problems, out, style)
    if notes:
        out.write("\nNotes:\n")
        print_findings(notes, out, style)
    out.write("\n")
    if report.ok and report.level == "full":
        out.write(style.good("OK: every archive was read to its last byte and verified.") + "\n")
    elif report.ok:
        out.write(
            style.good("Quick check passed")
            + ": metadata and password are fine. The contents were not read; run a full check to verify them.\n"
        )
    else:
        out.write(style.bad("This backup has problems") + " (see above).\n")


def mode_string(entry: TarEntry) -> str:
    """ "-rw-r--r--"-style mode, with the type letter."""
    type_bits = {
        EntryType.DIR: stat.S_IFDIR,
        EntryType.SYMLINK: stat.S_IFLNK,
        EntryType.FILE: stat.S_IFREG,
        EntryType.HARDLINK: stat.S_IFREG,
    }.get(entry.type, stat.S_IFIFO)
    return stat.filemode(type_bits | (entry.mode & 0o7777))


def format_entry(entry: TarEntry) -> str:
    """One `ls` line: mode, size, date, path (→ link)."""
    when = datetime.fromtimestamp(entry.mtime, UTC).strftime("%Y-%m-%d %H:%M")
    link = ""
    if entry.type == EntryType.SYMLINK:
        link = f" -> {entry.link}"
    elif entry.type == EntryType.HARDLINK:
        link = f" => {entry.link}"
    return f"{mode_string(entry)} {entry.size:>12,} {when} {entry.path}{link}"


def print_extract_report(report: ExtractReport, out: TextIO) -> None:
    """`extract`: what was written, skipped and refused, and why."""
    style = Style(out)
    out.write(f"Written: {len(report.written)} file(s), {human_size(report.bytes_written)}\n")
    for path, reason in report.skipped:
        out.write(f"  {style.warn('skipped')} {path}: {reason}\n")
    for path, reason in report.refused:
        out.write(f"  {style.bad('refused')} {path}: {reason}\n")
    for old, new in report.renamed:
        out.write(f"  {style.dim('renamed')} {old} -> {new}\n")
    if report.problems:
        out.write("Problems:\n")
        print_findings(report.problems, out, style)
    if report.stopped_reason:
        out.write(style.bad(f"Stopped: {report.stopped_reason}") + "\n")


def print_copy_report(report: CopyReport, out: TextIO) -> None:
    """`copy`: where the copy is, what it holds, what it no longer holds, and its check."""
    style = Style(out)
    protection = "encrypted" if report.protected else "not encrypted"
    out.write(f"{style.good('Copy written')}: {report.path}\n")
    out.write(f"  name {report.name!r}, slug {report.slug}, {protection}\n")
    out.write(f"  archives: {', '.join(report.archives)}\n")
    for dropped in report.dropped:
        out.write(f"  {style.warn('left out')} {dropped['archive']}: {dropped['label']}\n")
    for change in report.changed:
        where = f"{change['archive']}:{change['path']}" if change["path"] else change["archive"]
        out.write(f"  {style.dim(change['action'])} {where}\n")
    out.write("The copy passed its full check:\n")
    print_check(report.check, out)


class ProgressLine:
    """A single self-overwriting progress line on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._label = label
        self._started = time.monotonic()
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        """Show the progress, at most ten times a second."""
        now = time.monotonic()
        if not self._enabled or now - self._last < 0.1:
            return
        self._last = now
        fraction = progress.done_bytes / progress.total_bytes if progress.total_bytes else 0
        elapsed = now - self._started
        left = f", {elapsed / fraction - elapsed:.0f} s left" if fraction > 0.02 else ""
        self._stream.write(
            f"\r{self._label} {progress.archive or ''}: {fraction:6.1%} "
            f"({human_size(progress.done_bytes)} of {human_size(progress.total_bytes)}{left})\033[K"
        )
        self._stream.flush()

    def done(self) -> None:
        """Clear the line."""
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()
