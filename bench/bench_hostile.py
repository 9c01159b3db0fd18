"""Benchmark: every worst input of issue 9, run from outside through the CLI and a real server.

Prints figures; asserts nothing (the regression tests assert the bounds).
Each input is built here in code, written once, then handed to
`backup-inspector` in a child process exactly as a user would run it: the
CLI commands (`info`, `check`, `ls`, `extract`) and, where a finding is about
the server, a real `serve` process on 127.0.0.1 that the script sends a
bounded number of requests, each with its own timeout. Every child runs
under a time limit and an address-space limit (RLIMIT_AS), so the engine
before the fixes, which loops forever or eats gigabytes on some inputs, is
stopped and reported as "killed at limit" instead of taking the machine
down. MALLOC_ARENA_MAX=2 keeps glibc's per-thread arenas from counting
against that limit in the threaded server.

The inputs are built with this checkout's `backup_inspector.demo`; the engine
under test is the one in --engine-src (default: this checkout's src), so the
same inputs measure the code before and after:

    .venv/bin/python bench/bench_hostile.py
    .venv/bin/python bench/bench_hostile.py --engine-src /path/to/old/src
    .venv/bin/python bench/bench_hostile.py --only "1M entries"

Columns: exit code (of the CLI; of `serve` after SIGTERM for server rows),
wall time, peak RSS of the child (its VmHWM, sampled every 20 ms), whether a Python
traceback appeared in its output, whether anything landed outside the
destination (extract rows), and a verdict: "ok", or what is wrong
(exit code other than the expected ones, traceback, timeout, memory over
150 MB, escape, raw terminal escapes in human output, a server that
stopped answering).

Figures of 2026-12-04 (2 shared cores, load average 10-13 from other work, so
times are inflated and only their order of magnitude counts; peak RSS is the
child's VmHWM, sampled every 20 ms).

Before: commit 4d0f351 (`--engine-src` a worktree of it). For serve rows,
"timeout" means the server did not exit within 10 s of SIGTERM and was
SIGKILLed (this run predates that label).

    case                                                              exit      time   peak RSS  tb   outside  verdict
    negative size, outer ustar text -3000: info BACKUP              killed    20.26s     155 MB  no   -        timeout (20 s); over 150 MB
    negative size, outer ustar text -3000: check BACKUP             killed    20.11s     117 MB  no   -        timeout (20 s)
    negative size, outer ustar text -3000: ls BACKUP                killed    20.37s      90 MB  no   -        timeout (20 s)
    negative size, inner ustar text -3000: check BACKUP                  1     2.29s      34 MB  no   -        ok
    negative size, inner ustar text -3000: ls BACKUP share               1     2.52s      34 MB  no   -        ok
    negative size, outer GNU base-256 -512: info BACKUP             killed    20.11s      99 MB  no   -        timeout (20 s)
    negative size, outer GNU base-256 -512: check BACKUP            killed    20.39s      98 MB  no   -        timeout (20 s)
    negative size, outer GNU base-256 -512: ls BACKUP               killed    20.11s      89 MB  no   -        timeout (20 s)
    negative size, inner GNU base-256 -512: check BACKUP                 1     2.80s      34 MB  no   -        ok
    negative size, inner GNU base-256 -512: ls BACKUP share              1     2.23s      34 MB  no   -        ok
    negative size, outer PAX size=-1536: info BACKUP                killed    20.11s      63 MB  no   -        timeout (20 s)
    negative size, outer PAX size=-1536: check BACKUP               killed    20.18s      93 MB  no   -        timeout (20 s)
    negative size, outer PAX size=-1536: ls BACKUP                  killed    20.09s      57 MB  no   -        timeout (20 s)
    negative size, inner PAX size=-1536: check BACKUP               killed    20.08s      34 MB  no   -        timeout (20 s)
    negative size, inner PAX size=-1536: ls BACKUP share            killed    20.04s      34 MB  no   -        timeout (20 s)
    path of 10000 levels: ls BACKUP share                                0     1.37s      34 MB  no   -        exit 0
    path of 10000 levels: check BACKUP                                   0     1.28s      34 MB  no   -        exit 0
    path of 200000 levels: ls BACKUP share                               0     3.22s      38 MB  no   -        exit 0
    path of 200000 levels: check BACKUP                                  0     1.95s      40 MB  no   -        exit 0
    2 000 files at depth 10000: extract BACKUP share --to           killed    60.25s     356 MB  no   no       timeout (60 s); over 150 MB
    2 000 files at depth 1000: extract BACKUP share --to            killed    60.25s     203 MB  no   no       timeout (60 s); over 150 MB
    hard-link loop after 200 MiB: check BACKUP                           0     4.39s      39 MB  no   -        exit 0
    hard-link loop after 200 MiB: ls BACKUP share                        0     6.20s      39 MB  no   -        exit 0
    hard-link loop after 200 MiB: extract BACKUP share a --to            1     4.72s      39 MB  no   no       ok
    backup.json of 40 000 add-ons: info BACKUP                      killed    60.07s      66 MB  no   -        timeout (60 s)
    backup.json of 40 000 add-ons: check --quick BACKUP             killed    60.77s      66 MB  no   -        timeout (61 s)
    backup.json of 1.2 M folders: info BACKUP                            1     2.74s      33 MB  no   -        ok
    backup.json of 1.2 M folders: check --quick BACKUP                   1     3.80s      33 MB  no   -        ok
    global PAX of 60 000 keys: ls BACKUP share                           0    25.84s      44 MB  no   -        ok
    global PAX of 60 000 keys: check BACKUP                              0    15.72s      45 MB  no   -        ok
    NaN / 2**80 mtimes: ls BACKUP share                                  1     1.20s      34 MB  no   -        'unexpected error'
    NaN / 2**80 mtimes: ls --json BACKUP share                           0     1.41s      34 MB  no   -        ok
    50 000 refused entries: extract BACKUP share --to                    1     9.55s      90 MB  no   no       ok
    1M entries: ls BACKUP share                                          0   103.85s      42 MB  no   -        ok
    1M entries: check BACKUP                                             0    97.28s      42 MB  no   -        ok
    300 v3 salts: check --quick BACKUP                                   0    60.52s      50 MB  no   -        exit 0
    extract of 10 000 named paths: extract BACKUP share f00000.txt f0000...  killed    60.05s      44 MB  no   no       timeout (60 s)
    terminal escapes: info BACKUP                                        0     1.81s      33 MB  no   -        raw '\x1b', '\x07', '\u202e' in output
    terminal escapes: check BACKUP                                       0     2.42s      34 MB  no   -        raw '\x1b', '\x07', '\u202e' in output
    terminal escapes: ls BACKUP share                                    0     1.52s      34 MB  no   -        raw '\x1b', '\x07', '\r', '\u202e' in output
    terminal escapes: extract BACKUP share --to                          0     1.36s      34 MB  no   no       ok
    serve, 6 negative-size backups in the folder                    killed    40.26s     184 MB  no   no       timeout (40 s); never listened in 30 s; over 150 MB
    serve, 4 previews of a hard-link loop                           killed   133.23s      82 MB  no   no       timeout (133 s); /api/backups stopped answering; a preview had no clean answer  [listening after 3.0 s; previews: no answer (TimeoutError), no answer (TimeoutError), no answer (TimeoutError),\u2026]
    serve, 40 000 add-ons + 1.2 M folders                           killed    40.36s      85 MB  no   no       timeout (40 s); never listened in 30 s
    serve, NaN mtimes: list and browse                                   0     5.99s      52 MB  no   no       invalid JSON from /api/backups/08c1973007dd3f73/browse: Infinity is not JSON  [listening after 4.5 s; job result 1 KB; browse 200]
    serve, extract of 50 000 refused entries                             0    17.86s     169 MB  no   no       over 150 MB  [listening after 3.7 s; job result 18390 KB]
    serve, 1M entries: list, browse, search                         killed   264.94s     517 MB  no   no       timeout (265 s); job still running after 240 s; over 150 MB  [listening after 4.5 s; listing 240 s; browse 200 in 0.0 s; search 200 in 9.7 s]
    serve, 300 v3 salts: password                                        0    80.06s      68 MB  no   no       ok  [listening after 7.5 s; password 200 in 72.1 s]
    serve, extract plan of 10 000 paths                                  0     1.44s      52 MB  no   no       ok  [listening after 0.7 s; plan 200 in 0.0 s]

After: branch h9-bench with main merged (e74ef41, h9-index included),
before the last fix of the extract job result; that row rerun after it:
serve, extract of 50 000 refused entries: 111 MB (was 185 MB).

Still open after: "2 000 files at depth 1 000" (under the 1 024-level cap,
each file under its own top folder, so 2 M folders). The extraction
writer makes each level by absolute path (lstat, mkdir, lstat, lstat: the
kernel walks every level above each time) and keys its folder caches by
tuples of the whole path, so time and memory grow with the square of the
depth: alone on the machine it wrote 99 of the 2 000 files in 307 s and
held 1.1 GB. "exit 0" rows: an unsafe-entry name or a hard-link loop is a
warning in `ls` and `check`, and warnings exit 0 by the CLI's contract.

    case                                                              exit      time   peak RSS  tb   outside  verdict
    negative size, outer ustar text -3000: info BACKUP                   1     4.44s      36 MB  no   -        ok
    negative size, outer ustar text -3000: check BACKUP                  1     4.28s      36 MB  no   -        ok
    negative size, outer ustar text -3000: ls BACKUP                     1     3.16s      36 MB  no   -        ok
    negative size, inner ustar text -3000: check BACKUP                  1     3.81s      36 MB  no   -        ok
    negative size, inner ustar text -3000: ls BACKUP share               1     3.69s      36 MB  no   -        ok
    negative size, outer GNU base-256 -512: info BACKUP                  1     2.76s      36 MB  no   -        ok
    negative size, outer GNU base-256 -512: check BACKUP                 1     3.53s      36 MB  no   -        ok
    negative size, outer GNU base-256 -512: ls BACKUP                    1     3.18s      36 MB  no   -        ok
    negative size, inner GNU base-256 -512: check BACKUP                 1     3.77s      37 MB  no   -        ok
    negative size, inner GNU base-256 -512: ls BACKUP share              1     5.04s      37 MB  no   -        ok
    negative size, outer PAX size=-1536: info BACKUP                     1     3.13s      36 MB  no   -        ok
    negative size, outer PAX size=-1536: check BACKUP                    1     7.74s      36 MB  no   -        ok
    negative size, outer PAX size=-1536: ls BACKUP                       1     6.57s      36 MB  no   -        ok
    negative size, inner PAX size=-1536: check BACKUP                    1     4.15s      37 MB  no   -        ok
    negative size, inner PAX size=-1536: ls BACKUP share                 1     2.59s      37 MB  no   -        ok
    path of 10000 levels: ls BACKUP share                                0     3.59s      37 MB  no   -        exit 0
    path of 10000 levels: check BACKUP                                   1     2.43s      37 MB  no   -        ok
    path of 200000 levels: ls BACKUP share                               0     2.57s      40 MB  no   -        exit 0
    path of 200000 levels: check BACKUP                                  1     3.11s      41 MB  no   -        ok
    2 000 files at depth 10000: extract BACKUP share --to                1    13.77s      77 MB  no   no       ok
    2 000 files at depth 1000: extract BACKUP share --to            killed    60.57s     166 MB  no   no       timeout (61 s); over 150 MB
    hard-link loop after 200 MiB: check BACKUP                           0     4.28s      42 MB  no   -        exit 0
    hard-link loop after 200 MiB: ls BACKUP share                        0     6.13s      42 MB  no   -        exit 0
    hard-link loop after 200 MiB: extract BACKUP share a --to            1     3.51s      41 MB  no   no       ok
    backup.json of 40 000 add-ons: info BACKUP                           1     1.25s      36 MB  no   -        ok
    backup.json of 40 000 add-ons: check --quick BACKUP                  1     2.32s      36 MB  no   -        ok
    backup.json of 1.2 M folders: info BACKUP                            1     3.67s      36 MB  no   -        ok
    backup.json of 1.2 M folders: check --quick BACKUP                   1     1.84s      36 MB  no   -        ok
    global PAX of 60 000 keys: ls BACKUP share                           1     2.12s      39 MB  no   -        ok
    global PAX of 60 000 keys: check BACKUP                              1     2.84s      40 MB  no   -        ok
    NaN / 2**80 mtimes: ls BACKUP share                                  0     3.36s      37 MB  no   -        ok
    NaN / 2**80 mtimes: ls --json BACKUP share                           0     2.83s      37 MB  no   -        ok
    50 000 refused entries: extract BACKUP share --to                    1    18.15s      92 MB  no   no       ok
    1M entries: ls BACKUP share                                          0   119.37s      45 MB  no   -        ok
    1M entries: check BACKUP                                             0    72.35s      45 MB  no   -        ok
    300 v3 salts: check --quick BACKUP                                   1     2.04s      52 MB  no   -        ok
    extract of 10 000 named paths: extract BACKUP share f00000.txt f0000...       0     7.69s      53 MB  no   no       ok
    terminal escapes: info BACKUP                                        0     0.66s      36 MB  no   -        ok
    terminal escapes: check BACKUP                                       0     0.93s      37 MB  no   -        ok
    terminal escapes: ls BACKUP share                                    0     0.90s      37 MB  no   -        ok
    terminal escapes: extract BACKUP share --to                          0     0.57s      37 MB  no   no       ok
    serve, 6 negative-size backups in the folder                         0     2.43s      54 MB  no   no       ok  [listening after 1.9 s; /api/backups 200, 6 KB in 0.0 s]
    serve, 4 previews of a hard-link loop                                0     2.45s      66 MB  no   no       ok  [listening after 1.0 s; previews: 422 in 0 s, 422 in 0 s, 422 in 1 s, 422 in 1 s; slowest /api/backups 0.04 s]
    serve, 40 000 add-ons + 1.2 M folders                                0     2.40s      54 MB  no   no       ok  [listening after 1.9 s; /api/backups 200, 2 KB in 0.0 s]
    serve, NaN mtimes: list and browse                                   0     2.52s      55 MB  no   no       ok  [listening after 1.9 s; job result 1 KB; browse 200]
    serve, extract of 50 000 refused entries                             0     5.25s     185 MB  no   no       over 150 MB  [listening after 1.7 s; job result 112 KB]
    serve, 1M entries: list, browse, search                              0   107.17s      69 MB  no   no       ok  [listening after 1.7 s; job result 1 KB; listing 105 s; browse 200 in 0.0 s; search 200 in 0.3 s]
    serve, 300 v3 salts: password                                        0     1.46s      70 MB  no   no       ok  [listening after 0.8 s; password 200 in 0.3 s]
    serve, extract plan of 10 000 paths                                  0     1.41s      55 MB  no   no       ok  [listening after 1.0 s; plan 200 in 0.1 s]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

from backup_inspector.demo import hostile_tar as h  # noqa: E402
from backup_inspector.demo.backup_writer import ArchiveSpec, write_backup  # noqa: E402
from backup_inspector.demo.metadata_builder import (  # noqa: E402
    make_metadata,
    serialize_metadata,
)

PASSWORD = "hostile-bench-password"
MEMORY_FLAG_MB = 150
CLEAN_EXITS = frozenset({1, 2})
ANY_EXIT = frozenset({0, 1, 2})
TERMINAL_CONTROLS = ("\x1b", "\x07", "\r", "\u202e")
CLI_STARTER = "import sys; from backup_inspector.cli.main import main; sys.exit(main())"


# ---------------------------------------------------------------- running a child


@dataclass
class ChildRun:
    """What one limited child process did."""

    returncode: int | None
    seconds: float
    peak_mb: float
    output: str
    timed_out: bool


def child_env(engine_src: Path) -> dict[str, str]:
    """The environment of every child: the engine under test first on the path."""
    return {
        **os.environ,
        "PYTHONPATH": str(engine_src),
        "PYTHONUNBUFFERED": "1",
        "MALLOC_ARENA_MAX": "2",
        "BACKUP_PASSWORD": PASSWORD,
        "NO_COLOR": "1",
    }


def start_child(
    argv: list[str], engine_src: Path, memory_mb: int, log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start `backup-inspector ARGV` under the memory limit, output into `log`."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI_STARTER, *argv],
            env=child_env(engine_src),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    # Set on the running child (no preexec_fn: the server cases use threads); it
    # is still starting Python, far below any limit.
    limit = memory_mb * 1024 * 1024
    resource.prlimit(process.pid, resource.RLIMIT_AS, (limit, limit))
    return process


def _high_water_mb(pid: int) -> float:
    """VmHWM of a running process in MB (0 once it is gone).

    Not wait4's ru_maxrss: Linux carries the parent's resident size over
    fork and exec into it, and this script holds the inputs it built.
    VmHWM belongs to the memory map exec gave the child.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reap(process: subprocess.Popen[bytes], deadline: float) -> tuple[int | None, float, bool]:
    """Wait for `process` until `deadline`, killing its group then; (code, peak MB, timed out).

    The peak is the child's VmHWM, sampled every 20 ms while it runs.
    """
    timed_out = False
    peak_mb = 0.0
    while True:
        peak_mb = max(peak_mb, _high_water_mb(process.pid))
        pid, status, _ = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            pid, status, _ = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (None if timed_out else process.returncode), peak_mb, timed_out


def run_cli(
    argv: list[str], engine_src: Path, timeout_s: float, memory_mb: int, cwd: Path
) -> ChildRun:
    """Run one CLI command to its end or its time limit."""
    log = cwd / "child-output.txt"
    began = time.monotonic()
    process = start_child(argv, engine_src, memory_mb, log, cwd)
    code, peak_mb, timed_out = reap(process, began + timeout_s)
    seconds = time.monotonic() - began
    output = log.read_bytes()
    log.unlink()
    return ChildRun(code, seconds, peak_mb, output.decode("utf-8", "replace"), timed_out)


# ---------------------------------------------------------------- the table


@dataclass
class Row:
    """One line of the table."""

    case: str
    exit_code: str
    seconds: float
    peak_mb: float
    traceback: bool
    outside: bool | None
    verdict: str
    note: str = ""


def _tail_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:70] if lines else ""


def verdict_of(
    run: ChildRun,
    memory_mb: int,
    expected: frozenset[int],
    outside: bool | None,
    extra: Iterable[str] = (),
    timeout_words: str = "timeout",
) -> tuple[str, str, bool]:
    """(exit-code cell, verdict, traceback) of one run."""
    traceback = "Traceback (most recent call last)" in run.output
    killed_at_limit = "MemoryError" in run.output or run.peak_mb > memory_mb * 0.9
    problems = list(extra)
    if run.timed_out:
        exit_cell = "killed"
        problems.insert(0, f"{timeout_words} ({run.seconds:.0f} s)")
    else:
        exit_cell = str(run.returncode)
        if run.returncode not in expected:
            problems.insert(0, f"exit {run.returncode}")
    if killed_at_limit:
        problems.insert(0, f"killed at limit ({memory_mb} MB)")
    if traceback:
        problems.append("traceback")
    if "unexpected error" in run.output:
        problems.append("'unexpected error'")
    if run.peak_mb > MEMORY_FLAG_MB:
        problems.append(f"over {MEMORY_FLAG_MB} MB")
    if outside:
        problems.append("ESCAPE")
    return exit_cell, ("ok" if not problems else "; ".join(problems)), traceback


CASE_WIDTH = 62


def print_header() -> None:
    """The column names."""
    print(
        f"{'case':{CASE_WIDTH}}  {'exit':>6}  {'time':>8}  {'peak RSS':>9}  {'tb':3}  "
        f"{'outside':7}  verdict",
        flush=True,
    )


def print_rows(rows: list[Row]) -> None:
    """One table line per case and command, printed as soon as it is measured."""
    width = CASE_WIDTH
    for row in rows:
        outside = "-" if row.outside is None else ("YES" if row.outside else "no")
        note = f"  [{row.note}]" if row.note else ""
        print(
            f"{row.case:{width}}  {row.exit_code:>6}  {row.seconds:7.2f}s  "
            f"{row.peak_mb:6.0f} MB  {'YES' if row.traceback else 'no':3}  "
            f"{outside:7}  {row.verdict}{note}",
            flush=True,
        )


# ---------------------------------------------------------------- the inputs


def _streamed_gzip_tar(members: Iterator[bytes]) -> bytes:
    """gzip (level 1) of the concatenated members and the end marker, built piece by piece."""
    squeezer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [squeezer.compress(member) for member in members]
    parts += [squeezer.compress(h.END_OF_ARCHIVE), squeezer.flush()]
    return b"".join(parts)


def _inner(path: Path, members: Iterator[bytes], name: str | None = None) -> Path:
    return h.write_backup_with_inner_archive(
        path, _streamed_gzip_tar(members), compressed=True, name=name
    )


def _deep_path(levels: int, top: str = "a") -> str:
    return f"{top}/" + "a/" * (levels - 2) + "f"


def negative_size_backups(folder: Path) -> dict[str, Path]:
    """A negative size in each header flavour, outer and inner (findings 1 and 2)."""
    ustar_negative = b"-0000003000\0"
    flavours = {
        "ustar text -3000": lambda name: h.header_block(name, size=ustar_negative),
        "GNU base-256 -512": lambda name: h.header_block(name, size=h.base256_field(-512)),
        "PAX size=-1536": lambda name: h.pax_member([("size", "-1536")]) + h.header_block(name),
    }
    built = {}
    for flavour, header in flavours.items():
        slug = flavour.split()[0].replace("-", "")
        built[f"outer {flavour}"] = h.write_backup_with_outer_tail(
            folder / f"outer-{slug}.tar", header("share.tar.gz")
        )
        inner = h.file_member("before.txt", b"ok") + header("f") + h.END_OF_ARCHIVE
        built[f"inner {flavour}"] = h.write_backup_with_inner_tar(
            folder / f"inner-{slug}.tar", inner
        )
    return built


def deep_path_backup(path: Path, levels: int) -> Path:
    """One file at a path of `levels` levels (finding 3)."""
    inner = h.pax_member([("path", _deep_path(levels))]) + h.file_member("f", b"x")
    return h.write_backup_with_inner_tar(path, inner + h.END_OF_ARCHIVE)


def many_deep_files_backup(path: Path, files: int, levels: int) -> Path:
    """`files` files, each at depth `levels` under its own top folder (finding 3, extraction)."""
    return _inner(
        path,
        (
            h.pax_member([("path", _deep_path(levels, f"top{n}"))]) + h.file_member("f", b"x")
            for n in range(files)
        ),
    )


def link_loop_backup(path: Path, zero_mib: int = 200) -> Path:
    """200 MiB of zeros, then hard links `a` -> `b` -> `a` (finding 4)."""
    zeros = bytes(1024 * 1024)

    def members() -> Iterator[bytes]:
        yield h.header_block("zeros.bin", size=zero_mib * len(zeros))
        for _ in range(zero_mib):
            yield zeros
        yield h.header_block("a", type_flag=b"1", link_name="b")
        yield h.header_block("b", type_flag=b"1", link_name="a")

    return _inner(path, members(), name="Hard-link loop")


def huge_metadata_backup(path: Path, *, addons: int = 0, folders: int = 0) -> Path:
    """A backup.json with thousands of add-ons or a million folders and nothing else (finding 5)."""
    metadata = json.loads(serialize_metadata(make_metadata([])))
    metadata["name"] = f"{addons} add-ons, {folders} folders"
    metadata["addons"] = [
        {"slug": f"addon{n}", "name": f"Add-on {n}", "version": "1.0", "size": 0.1}
        for n in range(addons)
    ]
    metadata["folders"] = [f"folder{n}" for n in range(folders)]
    h_member = h.file_member("./backup.json", json.dumps(metadata).encode())
    path.write_bytes(h_member + h.END_OF_ARCHIVE)
    return path


def global_pax_backup(path: Path, keys: int = 60_000, members: int = 10_000) -> Path:
    """A global PAX header of 60 000 keys before 10 000 files (finding 11)."""
    records = [(f"k{i}", "v") for i in range(keys)]
    return _inner(
        path,
        iter(
            [h.pax_member(records, is_global=True)]
            + [h.file_member(f"f{i}", b"") for i in range(members)]
        ),
    )


def refused_entries_backup(path: Path, count: int = 50_000) -> Path:
    """50 000 entries named `../esc/...`, every one refused (finding 9)."""
    return _inner(
        path, (h.file_member(f"../esc/{'deep/' * 10}file-{n}.txt", b"x") for n in range(count))
    )


def million_entries_backup(path: Path, count: int = 1_000_000) -> Path:
    """1 000 000 empty files in 1 000 folders (finding 10)."""
    template = bytearray(h.header_block("x", mtime=1_700_000_000))

    def member(n: int) -> bytes:
        block = bytearray(template)
        name = f"d{n // 1000:03d}/f{n:07d}.txt".encode()
        block[0:100] = name.ljust(100, b"\0")
        block[148:156] = b" " * 8
        block[148:156] = f"{sum(block):06o}".encode() + b"\0 "
        return bytes(block)

    return _inner(path, (member(n) for n in range(count)), name="One million entries")


def many_salts_backup(path: Path, scratch: Path, count: int = 300) -> Path:
    """300 v3 archives, each under its own root salt (finding 20)."""
    members = {}
    for n in range(count):
        slug = f"addon{n}"
        single = write_backup(
            scratch / f"{slug}.tar",
            [ArchiveSpec(slug, {"c.yaml": b"on\n"}, encryption="v3")],
            password=PASSWORD,
            metadata=None,
        )
        with tarfile.open(single) as outer:
            members[f"{slug}.tar.gz"] = outer.extractfile(f"{slug}.tar.gz").read()  # type: ignore[union-attr]
        single.unlink()
    metadata = json.loads(serialize_metadata(make_metadata([])))
    metadata.update(
        name="300 salts",
        protected=True,
        type="partial",
        homeassistant=None,
        folders=[],
        addons=[{"slug": f"addon{n}", "name": f"a{n}", "version": "1.0"} for n in range(count)],
    )
    members["./backup.json"] = json.dumps(metadata).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as outer:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            outer.addfile(info, io.BytesIO(data))
    return path


PLAN_PATHS = 10_000


def many_files_backup(path: Path, count: int = PLAN_PATHS) -> Path:
    """10 000 small files, for a plan or an extraction that names every one (finding 21)."""
    return _inner(path, (h.file_member(f"f{n:05d}.txt", b"x") for n in range(count)))


ESCAPE_NAMES = (
    "clear\x1b[2J\x1b[H.txt",
    "title\x1b]0;pwned\x07.txt",
    "carriage\rreturn.txt",
    "rlo\u202etxt.exe",
)


def terminal_escapes_backup(path: Path) -> Path:
    """File names and a backup name with terminal escapes (finding 13)."""
    members = b"".join(
        h.pax_member([("path", name)]) + h.file_member("f", b"x") for name in ESCAPE_NAMES
    )
    return h.write_backup_with_inner_tar(
        path, members + h.END_OF_ARCHIVE, name="Backup \x1b[2J\x1b]0;evil\x07\u202e"
    )


# ---------------------------------------------------------------- CLI cases


@dataclass
class CliCase:
    """A backup and the commands run on it."""

    name: str
    backup: Path
    commands: list[list[str]]
    expected: frozenset[int] = CLEAN_EXITS
    timeout_s: float | None = None
    check_escapes: bool = False
    extra_args: list[str] = field(default_factory=list)


def remove_tree(folder: Path) -> None:
    """rm -rf: shutil.rmtree recurses once per level and an extraction may leave 1 000 of them."""
    subprocess.run(["rm", "-rf", "--", str(folder)], check=True)


def _escaping(sandbox: Path, destination: Path) -> bool:
    """Whether anything but the destination appeared in `sandbox`, or a link in it leads out."""
    if any(entry.name != destination.name for entry in sandbox.iterdir()):
        return True
    if not destination.exists():
        return False
    root = os.path.realpath(destination)
    # find, not os.walk: Python 3.11's walk recurses once per level.
    links = subprocess.run(
        ["find", str(destination), "-type", "l", "-print0"], capture_output=True, check=False
    ).stdout.split(b"\0")
    return any(
        os.path.commonpath([root, os.path.realpath(os.fsdecode(link))]) != root
        for link in links
        if link
    )


def run_cli_case(case: CliCase, args: argparse.Namespace, scratch: Path) -> list[Row]:
    """Every command of one case, each in a fresh limited child."""
    rows = []
    for command in case.commands:
        sandbox = scratch / "sandbox"
        remove_tree(sandbox)
        sandbox.mkdir()
        destination = sandbox / "dest"
        argv = [
            part.replace("{backup}", str(case.backup)).replace("{dest}", str(destination))
            for part in command
        ]
        timeout_s = case.timeout_s or args.timeout_s
        run = run_cli(argv, args.engine_src, timeout_s, args.memory_mb, scratch)
        is_extract = command[0] == "extract"
        outside = _escaping(sandbox, destination) if is_extract else None
        extra = []
        if case.check_escapes and "--json" not in command:
            raw = [repr(c) for c in TERMINAL_CONTROLS if c in run.output]
            if raw:
                extra.append(f"raw {', '.join(raw)} in output")
        exit_cell, verdict, traceback = verdict_of(
            run, args.memory_mb, case.expected, outside, extra
        )
        label = " ".join(
            "BACKUP" if part == "{backup}" else part for part in command if part != "{dest}"
        )
        label = label if len(label) < 40 else label[:37] + "..."
        rows.append(
            Row(
                f"{case.name}: {label}",
                exit_cell,
                run.seconds,
                run.peak_mb,
                traceback,
                outside,
                verdict,
                "" if verdict == "ok" else _tail_line(run.output),
            )
        )
        remove_tree(sandbox)
    return rows


# ---------------------------------------------------------------- the server


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A real `backup-inspector serve` over one folder, under the limits, stopped with SIGTERM."""

    def __init__(self, folder: Path, scratch: Path, args: argparse.Namespace) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = scratch / "serve-output.txt"
        share, data = scratch / "share", scratch / "data"
        remove_tree(share)
        remove_tree(data)
        share.mkdir()
        data.mkdir()
        self.share = share
        self.memory_mb = args.server_memory_mb
        self.began = time.monotonic()
        self.process = start_child(
            [
                "serve",
                "--backup-dir",
                str(folder),
                "--share-dir",
                str(share),
                "--data-dir",
                str(data),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            args.engine_src,
            self.memory_mb,
            self.log,
            scratch,
        )
        self.notes: list[str] = []
        self.problems: list[str] = []

    def wait_until_listening(self, timeout_s: float) -> bool:
        """Whether /healthz answered within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.problems.append("serve died before listening")
                return False
            try:
                if self.request("GET", "/healthz", timeout_s=2)[0] == 200:
                    self.notes.append(f"listening after {time.monotonic() - self.began:.1f} s")
                    return True
            except OSError:
                time.sleep(0.2)
        self.problems.append(f"never listened in {timeout_s:.0f} s")
        return False

    def request(
        self, method: str, path: str, payload: Any = None, *, timeout_s: float = 10
    ) -> tuple[int, bytes, float]:
        """(status, body, seconds) of one request; raises OSError when it gets no answer."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        began = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310
                return answer.status, answer.read(), time.monotonic() - began
        except urllib.error.HTTPError as error:
            return error.code, error.read(), time.monotonic() - began

    def json(self, method: str, path: str, payload: Any = None, **kw: Any) -> tuple[int, Any]:
        """(status, parsed JSON or None) of one request."""
        status, body, _ = self.request(method, path, payload, **kw)
        try:
            return status, json.loads(body, parse_constant=_refuse_constant)
        except ValueError as error:
            self.problems.append(f"invalid JSON from {path}: {error}"[:80])
            return status, None

    def backup_id(self, name_part: str) -> str | None:
        """The id of the backup whose name contains `name_part`."""
        _, listing = self.json("GET", "/api/backups", timeout_s=30)
        for backup in (listing or {}).get("backups", []):
            if name_part in backup.get("name", ""):
                return backup["id"]
        self.problems.append(f"no backup named {name_part!r} in the list")
        return None

    def wait_job(self, job_id: str, timeout_s: float) -> dict[str, Any] | None:
        """The finished job, or None (and a problem) at the deadline; the job is then cancelled."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            _, body, _ = self.request("GET", f"/api/jobs/{job_id}", timeout_s=10)
            job = json.loads(body)["job"]
            if job["state"] in ("succeeded", "failed", "cancelled"):
                self.notes.append(f"job result {len(body) / 1024:.0f} KB")
                return job
            time.sleep(0.1)
        self.problems.append(f"job still running after {timeout_s:.0f} s")
        self.request("POST", f"/api/jobs/{job_id}/cancel", {}, timeout_s=5)
        return None

    def stop(self) -> ChildRun:
        """SIGTERM, wait up to 10 s (then SIGKILL); the child's figures."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        code, peak_mb, timed_out = reap(self.process, time.monotonic() + 10)
        output = self.log.read_bytes().decode("utf-8", "replace")
        return ChildRun(code, time.monotonic() - self.began, peak_mb, output, timed_out)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _scenario_list(server: Server, count: int) -> None:
    """GET /api/backups: status, bytes, time; each of the `count` files listed."""
    status, body, seconds = server.request("GET", "/api/backups", timeout_s=60)
    server.notes.append(f"/api/backups {status}, {len(body) / 1024:.0f} KB in {seconds:.1f} s")
    if status != 200:
        server.problems.append(f"/api/backups answered {status}")
    elif len(json.loads(body)["backups"]) != count:
        server.problems.append("a backup is missing from /api/backups")


def _scenario_link_loops(server: Server) -> None:
    """Four previews of a link in a loop at once, while /api/backups must keep answering."""
    backup_id = server.backup_id("Hard-link loop")
    if backup_id is None:
        return
    statuses: list[str] = []

    def preview() -> None:
        try:
            status, _, seconds = server.request(
                "POST",
                f"/api/backups/{backup_id}/preview",
                {"archive": "share", "path": "a"},
                timeout_s=120,
            )
            statuses.append(f"{status} in {seconds:.0f} s")
        except OSError as error:
            statuses.append(f"no answer ({type(error).__name__})")

    workers = [threading.Thread(target=preview) for _ in range(4)]
    for worker in workers:
        worker.start()
    slowest = 0.0
    while any(worker.is_alive() for worker in workers):
        try:
            _, _, seconds = server.request("GET", "/api/backups", timeout_s=10)
            slowest = max(slowest, seconds)
        except OSError:
            slowest = max(slowest, 10.0)
            server.problems.append("/api/backups stopped answering")
            break
        time.sleep(0.5)
    for worker in workers:
        worker.join(130)
    server.notes.append(f"previews: {', '.join(statuses)}; slowest /api/backups {slowest:.2f} s")
    if any(not status.startswith(("4", "2")) for status in statuses):
        server.problems.append("a preview had no clean answer")


def _scenario_browse_times(server: Server) -> None:
    """List, then browse and search the NaN-time backup: strict JSON."""
    backup_id = server.backup_id("Backup with impossible times")
    if backup_id is None:
        return
    _start_listing(server, backup_id, 60)
    status, _ = server.json(
        "POST", f"/api/backups/{backup_id}/browse", {"archive": "share", "folder": ""}
    )
    server.notes.append(f"browse {status}")
    if status != 200:
        server.problems.append(f"browse answered {status}")


def _start_listing(server: Server, backup_id: str, timeout_s: float) -> dict[str, Any] | None:
    status, answer = server.json(
        "POST", f"/api/backups/{backup_id}/listing", {"archive": "share"}, timeout_s=30
    )
    if status != 200 or not answer:
        server.problems.append(f"listing answered {status}")
        return None
    if answer.get("job"):
        return server.wait_job(answer["job"]["id"], timeout_s)
    return None


def _scenario_refused(server: Server) -> None:
    """Extract 50 000 refused entries; the job result must stay small."""
    backup_id = server.backup_id("Refused")
    if backup_id is None:
        return
    status, answer = server.json(
        "POST",
        f"/api/backups/{backup_id}/extract",
        {
            "selections": [{"archive": "share", "paths": []}],
            "destination": "refused",
            "allow_low_space": True,
        },
        timeout_s=30,
    )
    if status != 202:
        server.notes.append(f"extract answered {status}")
        return
    server.wait_job(answer["job"]["id"], 120)


def _scenario_million(server: Server) -> None:
    """List 1 M entries, then browse a folder and search the saved index."""
    backup_id = server.backup_id("One million entries")
    if backup_id is None:
        return
    began = time.monotonic()
    _start_listing(server, backup_id, 240)
    server.notes.append(f"listing {time.monotonic() - began:.0f} s")
    for payload in (
        {"archive": "share", "folder": "d500"},
        {"archive": "share", "filter": "f0999"},
    ):
        status, _, seconds = server.request(
            "POST", f"/api/backups/{backup_id}/browse", payload, timeout_s=60
        )
        what = "search" if "filter" in payload else "browse"
        server.notes.append(f"{what} {status} in {seconds:.1f} s")
        if status != 200:
            server.problems.append(f"{what} answered {status}")


def _scenario_salts(server: Server) -> None:
    """The password of the 300-salt backup: one quick check."""
    backup_id = server.backup_id("300 salts")
    if backup_id is None:
        return
    status, _, seconds = server.request(
        "POST", f"/api/backups/{backup_id}/password", {"password": PASSWORD}, timeout_s=120
    )
    server.notes.append(f"password {status} in {seconds:.1f} s")


def _scenario_plan(server: Server) -> None:
    """An extract plan naming 10 000 paths."""
    backup_id = server.backup_id("Ten thousand files")
    if backup_id is None:
        return
    paths = [f"f{n:05d}.txt" for n in range(PLAN_PATHS)]
    status, _, seconds = server.request(
        "POST",
        f"/api/backups/{backup_id}/extract/plan",
        {"selections": [{"archive": "share", "paths": paths}], "destination": "plan"},
        timeout_s=120,
    )
    server.notes.append(f"plan {status} in {seconds:.1f} s")
    if status != 200:
        server.problems.append(f"plan answered {status}")


@dataclass
class ServerCase:
    """Backups in the folder and the requests sent to the server."""

    name: str
    files: list[Path]
    scenario: Callable[[Server], None]


def run_server_case(case: ServerCase, args: argparse.Namespace, scratch: Path) -> Row:
    """Start `serve` over the case's files, run its requests, stop it; one row."""
    folder = scratch / "served"
    remove_tree(folder)
    folder.mkdir()
    for file in case.files:
        os.link(file, folder / file.name)
    server = Server(folder, scratch, args)
    try:
        if server.wait_until_listening(args.server_start_s):
            try:
                case.scenario(server)
            except OSError as error:
                server.problems.append(f"no answer: {type(error).__name__} {error}"[:80])
    finally:
        run = server.stop()
    sandbox_escape = any(
        os.path.commonpath([os.path.realpath(server.share), os.path.realpath(p)])
        != os.path.realpath(server.share)
        for p in server.share.rglob("*")
        if p.is_symlink()
    )
    expected = frozenset({0, -signal.SIGTERM, 128 + signal.SIGTERM})
    exit_cell, verdict, traceback = verdict_of(
        run,
        server.memory_mb,
        expected,
        sandbox_escape,
        server.problems,
        timeout_words="SIGKILLed: no exit 10 s after SIGTERM",
    )
    remove_tree(folder)
    return Row(
        f"serve, {case.name}",
        exit_cell,
        run.seconds,
        run.peak_mb,
        traceback,
        sandbox_escape,
        verdict,
        "; ".join(server.notes),
    )


# ---------------------------------------------------------------- the plan


def build_cases(folder: Path) -> tuple[list[CliCase], list[ServerCase]]:
    """Write every worst input into `folder`; the CLI and server cases over them."""
    began = time.monotonic()
    negative = negative_size_backups(folder)
    cli: list[CliCase] = []
    for name, backup in negative.items():
        commands = (
            [["info", "{backup}"], ["check", "{backup}"], ["ls", "{backup}"]]
            if name.startswith("outer")
            else [["check", "{backup}"], ["ls", "{backup}", "share"]]
        )
        cli.append(CliCase(f"negative size, {name}", backup, commands, timeout_s=20))
    for levels in (10_000, 200_000):
        backup = deep_path_backup(folder / f"deep{levels}.tar", levels)
        cli.append(
            CliCase(
                f"path of {levels} levels",
                backup,
                [["ls", "{backup}", "share"], ["check", "{backup}"]],
            )
        )
    for levels, limit in ((10_000, None), (1_000, None)):
        backup = many_deep_files_backup(folder / f"many-deep{levels}.tar", 2_000, levels)
        cli.append(
            CliCase(
                f"2 000 files at depth {levels}",
                backup,
                [["extract", "{backup}", "share", "--to", "{dest}"]],
                expected=ANY_EXIT,
                timeout_s=limit,
            )
        )
    loop = link_loop_backup(folder / "link-loop.tar")
    cli.append(
        CliCase(
            "hard-link loop after 200 MiB",
            loop,
            [
                ["check", "{backup}"],
                ["ls", "{backup}", "share"],
                ["extract", "{backup}", "share", "a", "--to", "{dest}"],
            ],
        )
    )
    addons = huge_metadata_backup(folder / "addons.tar", addons=40_000)
    folders = huge_metadata_backup(folder / "folders.tar", folders=1_200_000)
    for name, backup in (("40 000 add-ons", addons), ("1.2 M folders", folders)):
        cli.append(
            CliCase(
                f"backup.json of {name}",
                backup,
                [["info", "{backup}"], ["check", "--quick", "{backup}"]],
            )
        )
    pax = global_pax_backup(folder / "global-pax.tar")
    cli.append(
        CliCase(
            "global PAX of 60 000 keys",
            pax,
            [["ls", "{backup}", "share"], ["check", "{backup}"]],
            expected=ANY_EXIT,
        )
    )
    times = h.write_backup_with_inner_tar(
        folder / "times.tar", h.impossible_times_tar(), name="Backup with impossible times"
    )
    cli.append(
        CliCase(
            "NaN / 2**80 mtimes",
            times,
            [["ls", "{backup}", "share"], ["ls", "--json", "{backup}", "share"]],
            expected=ANY_EXIT,
        )
    )
    refused = refused_entries_backup(folder / "refused.tar")
    _rename_backup(refused, "Refused entries")
    cli.append(
        CliCase(
            "50 000 refused entries",
            refused,
            [["extract", "{backup}", "share", "--to", "{dest}"]],
        )
    )
    million = _kept(folder / "million.tar", million_entries_backup)
    cli.append(
        CliCase(
            "1M entries",
            million,
            [["ls", "{backup}", "share"], ["check", "{backup}"]],
            expected=ANY_EXIT,
            timeout_s=240,
        )
    )
    salts = _kept(folder / "salts.tar", lambda path: many_salts_backup(path, folder))
    cli.append(CliCase("300 v3 salts", salts, [["check", "--quick", "{backup}"]], timeout_s=120))
    files = many_files_backup(folder / "ten-thousand.tar")
    _rename_backup(files, "Ten thousand files")
    cli.append(
        CliCase(
            "extract of 10 000 named paths",
            files,
            [
                [
                    "extract",
                    "{backup}",
                    "share",
                    *(f"f{n:05d}.txt" for n in range(PLAN_PATHS)),
                    "--to",
                    "{dest}",
                ]
            ],
            expected=ANY_EXIT,
        )
    )
    escapes = terminal_escapes_backup(folder / "escapes.tar")
    cli.append(
        CliCase(
            "terminal escapes",
            escapes,
            [
                ["info", "{backup}"],
                ["check", "{backup}"],
                ["ls", "{backup}", "share"],
                ["extract", "{backup}", "share", "--to", "{dest}"],
            ],
            expected=ANY_EXIT,
            check_escapes=True,
        )
    )
    server = [
        ServerCase(
            "6 negative-size backups in the folder", list(negative.values()), _list_negative
        ),
        ServerCase("4 previews of a hard-link loop", [loop], _scenario_link_loops),
        ServerCase("40 000 add-ons + 1.2 M folders", [addons, folders], _list_metadata),
        ServerCase("NaN mtimes: list and browse", [times], _scenario_browse_times),
        ServerCase("extract of 50 000 refused entries", [refused], _scenario_refused),
        ServerCase("1M entries: list, browse, search", [million], _scenario_million),
        ServerCase("300 v3 salts: password", [salts], _scenario_salts),
        ServerCase("extract plan of 10 000 paths", [files], _scenario_plan),
    ]
    print(f"built the inputs in {time.monotonic() - began:.0f} s", flush=True)
    return cli, server


def _kept(path: Path, build: Callable[[Path], Path]) -> Path:
    """`path` as a run with --inputs left it, or built now: these two take minutes to build."""
    if path.exists():
        print(f"reusing {path}", flush=True)
        return path
    partial = path.with_name(f"partial-{path.name}")
    build(partial)
    return partial.rename(path)


def _list_negative(server: Server) -> None:
    _scenario_list(server, 6)


def _list_metadata(server: Server) -> None:
    _scenario_list(server, 2)


def _rename_backup(path: Path, name: str) -> None:
    """Give an inner-archive backup a findable name (the builders name it generically)."""
    with tarfile.open(path) as outer:
        members = [(m, outer.extractfile(m).read()) for m in outer.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as outer:
        for member, content in members:
            data = content
            if member.name.endswith("backup.json"):
                metadata = json.loads(content)
                metadata["name"] = name
                data = json.dumps(metadata).encode()
                member.size = len(data)
            outer.addfile(member, io.BytesIO(data))


def main() -> None:
    """Build the inputs, run every CLI and server case, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine-src", type=Path, default=SRC)
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument("--memory-mb", type=int, default=1024, help="RLIMIT_AS of a CLI child")
    parser.add_argument("--server-memory-mb", type=int, default=2048)
    parser.add_argument("--server-start-s", type=float, default=30.0)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--no-server", action="store_true")
    parser.add_argument(
        "--inputs",
        type=Path,
        help="build the inputs in this folder; the slowest are reused on the next run",
    )
    args = parser.parse_args()
    args.engine_src = args.engine_src.resolve()
    print(
        f"engine: {args.engine_src}; CLI limit {args.timeout_s:.0f} s (some cases more or less)"
        f" and {args.memory_mb} MB address space; serve {args.server_memory_mb} MB",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as temp:
        folder, scratch = args.inputs or Path(temp) / "inputs", Path(temp) / "scratch"
        folder.mkdir(exist_ok=True)
        scratch.mkdir()
        cli, server = build_cases(folder)
        wanted = (lambda name: args.only in name) if args.only else (lambda name: True)
        print_header()
        for case in cli:
            if wanted(case.name):
                print_rows(run_cli_case(case, args, scratch))
        if not args.no_server:
            for server_case in server:
                if wanted(server_case.name):
                    print_rows([run_server_case(server_case, args, scratch)])


if __name__ == "__main__":
    main()
