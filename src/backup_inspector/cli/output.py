"""Text the CLI prints for people: aligned, coloured only on a terminal, progress on stderr.

Names and messages come from the backup, so every human printer passes them
through `terminal_text` first: a member named "ESC ]0;pwned BEL" must not
retitle the window, clear the screen or, with U+202E, print its name
backwards. JSON output is exact and never escaped this way.
"""

from __future__ import annotations

import os
import stat
import sys
import time
import unicodedata
from datetime import UTC, datetime
from typing import TextIO

from ..backup_format.findings import Finding, Severity
from ..backup_format.tar_entry import EntryType, TarEntry
from ..inspection.archive_walk import shortened_name
from ..inspection.backup_overview import BackupOverview
from ..inspection.check_job import CheckReport
from ..inspection.copy_job import CopyReport
from ..inspection.extract_job import ExtractReport
from ..inspection.progress import Progress
from ..inspection.restore_rehearsal import RestorePrediction
from ..inspection.target_facts import TargetFacts

# Unicode categories a terminal acts on instead of showing: controls (C0, DEL,
# C1), format characters (bidi overrides and isolates, zero-width joiners),
# line and paragraph separators, and surrogates (undecodable name bytes).
_UNSHOWN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}
_SURROGATE_ESCAPE_FIRST = 0xDC80  # surrogateescape maps byte 0x80 to U+DC80 (PEP 383)
_SURROGATE_ESCAPE_LAST = 0xDCFF


def terminal_text(text: str) -> str:
    """`text` with every character a terminal would act on shown as an escape, like `ls -b`.

    ESC is "\\e", tab/newline/CR "\\t" "\\n" "\\r", other controls "\\xNN",
    format characters such as U+202E (right-to-left override) "\\u202e", and
    an undecodable name byte (kept as a surrogate by the tar readers) the
    byte itself, "\\xNN". Backslashes stay as they are: the escapes are for
    the terminal's safety; `--json` gives the exact names.
    """
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(_terminal_char(char) for char in text)


def _terminal_char(char: str) -> str:
    """One character, escaped if a terminal would act on it."""
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if unicodedata.category(char) not in _UNSHOWN_CATEGORIES:
        return char
    code = ord(char)
    if _SURROGATE_ESCAPE_FIRST <= code <= _SURROGATE_ESCAPE_LAST:
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


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
        out.write(f"  {mark} [{finding.code.value}] {terminal_text(finding.message)}\n")


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
    out.write(f"  {terminal_text(', '.join([*details, str(facts['message'])]))}\n")


def print_overview(overview: BackupOverview, out: TextIO) -> None:
    """`info`: what the backup is and which archives it holds."""
    style = Style(out)
    out.write(style.bold(terminal_text(overview.display_name)) + "\n")
    if overview.metadata is not None:
        out.write(f"  {terminal_text(overview.metadata.describe())}\n")
    out.write(f"  File: {terminal_text(str(overview.path))} ({human_size(overview.file_size)})\n")
    out.write(f"  Protected: {'yes' if overview.is_protected else 'no'}\n")
    if overview.archives:
        rows = [["ARCHIVE", "CONTENT", "ENCRYPTION", "COMPRESSED", "SIZE", "NOTE"]]
        for archive in overview.archives:
            compressed = {True: "yes", False: "no", None: "?"}[archive.compressed]
            note = "" if archive.is_listed else "not in metadata"
            note = "incomplete" if not archive.is_complete else note
            rows.append(
                [
                    terminal_text(archive.file_name),
                    terminal_text(archive.label),
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
    name = terminal_text(report.overview.display_name)
    out.write(style.bold(name) + f"  ({terminal_text(str(report.overview.path))})\n\n")
    if report.archives:
        rows = [["", "ARCHIVE", "ENCRYPTION", "ENTRIES", "CONTENT"]]
        for check in report.archives:
            mark = style.good("ok") if check.ok else style.bad("FAIL")
            entries = "-" if check.entries is None else f"{check.entries:,}"
            rows.append(
                [
                    mark,
                    terminal_text(check.archive.file_name),
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
    if report.restore is not None:
        print_restore_prediction(report.restore, out, style)


_VERDICT_WORDS = {
    "restores": "yes",
    "restores-with-warnings": "yes, with warnings",
    "fails": "no",
    "unknown": "cannot tell yet",
}


def _describe_target(target: TargetFacts | None) -> str:
    if target is None:
        return "no target system given (check --target FILE, from `ha info --raw-json`)"
    known = [
        f"Supervisor {target.supervisor}" if target.supervisor else None,
        f"Core {target.homeassistant}" if target.homeassistant else None,
        target.machine,
        "/".join(target.supported_arch) if target.supported_arch else target.arch,
        f"{target.disk_free_gb:.1f} GB free" if target.disk_free_gb is not None else None,
    ]
    return terminal_text("target: " + ", ".join(fact for fact in known if fact))


def print_restore_prediction(prediction: RestorePrediction, out: TextIO, style: Style) -> None:
    """The closing lines of `check`: the restore rehearsal's verdict, one line per part."""
    words = _VERDICT_WORDS[prediction.verdict]
    colour = {"yes": style.good, "no": style.bad}.get(words, style.warn)
    out.write(f"\nWill it restore here? {colour(words)}  ({_describe_target(prediction.target)})\n")
    for part in prediction.parts:
        codes = f"  ({', '.join(part.codes)})" if part.codes else ""
        out.write(f"  {part.outcome:<9} {terminal_text(part.part)}{codes}\n")
    if prediction.not_judged:
        not_judged = terminal_text("; ".join(prediction.not_judged))
        out.write(style.dim(f"  Not judged: {not_judged}.") + "\n")


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
    return f"{mode_string(entry)} {entry.size:>12,} {when} {terminal_text(entry.path + link)}"


def print_extract_report(report: ExtractReport, out: TextIO) -> None:
    """`extract`: what was written, skipped and refused, and why."""
    style = Style(out)
    out.write(f"Written: {len(report.written)} file(s), {human_size(report.bytes_written)}\n")
    for path, reason in report.skipped:
        shown = shortened_name(path)
        out.write(f"  {style.warn('skipped')} {terminal_text(f'{shown}: {reason}')}\n")
    for path, reason in report.refused:
        shown = shortened_name(path)
        out.write(f"  {style.bad('refused')} {terminal_text(f'{shown}: {reason}')}\n")
    for old, new in report.renamed:
        out.write(f"  {style.dim('renamed')} {terminal_text(f'{old} -> {new}')}\n")
    if report.problems:
        out.write("Problems:\n")
        print_findings(report.problems, out, style)
    if report.stopped_reason:
        out.write(style.bad(f"Stopped: {terminal_text(report.stopped_reason)}") + "\n")
        if "kept free" in report.stopped_reason:
            out.write("To go below the space kept free, run again with --allow-low-space.\n")


def low_space_refusal(free_bytes: int, reserve_bytes: int) -> str:
    """`extract`: why nothing was written on a disk already below the reserve."""
    return (
        f"backup-inspector: only {human_size(free_bytes)} free at the destination, less than the "
        f"{human_size(reserve_bytes)} kept free (Home Assistant needs it for backups and "
        "updates); nothing was written. Use --allow-low-space to extract anyway.\n"
    )


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
            f"\r{self._label} {terminal_text(progress.archive or '')}: {fraction:6.1%} "
            f"({human_size(progress.done_bytes)} of {human_size(progress.total_bytes)}{left})\033[K"
        )
        self._stream.flush()

    def done(self) -> None:
        """Clear the line."""
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()
