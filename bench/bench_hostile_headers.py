"""Benchmark: time and peak memory of the hostile tar headers of issue 9 (findings 1, 2, 3, 11, 12).

Prints figures; asserts nothing. Each case runs in its own process, under a
memory limit and a timeout (the engine before the fixes loops forever on
some), against the engine in --engine-src (default: this checkout's src), so
the same inputs can be measured before and after:

    .venv/bin/python bench/bench_hostile_headers.py
    .venv/bin/python bench/bench_hostile_headers.py --engine-src /path/to/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

from backup_inspector.demo import hostile_tar as h  # noqa: E402

# Run in the child: open the backup, then list its one archive into an index.
_LIST_CASE = """
import json, resource, sys
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.archive_index import ArchiveIndex
overview = open_backup(sys.argv[1])
outcome = [f.code.value for f in overview.findings]
if overview.archives:
    from backup_inspector.inspection.listing_job import list_entries
    index = ArchiveIndex("share")
    check = list_entries(overview, "share", None, index.add)
    outcome += [p.code.value for p in check.problems]
    left_out = index.status_json().get("left_out_entries")
    if left_out:
        outcome.append(f"{left_out} entries left out of the index")
    json.dumps(index.folder_page("", 0, 50).rows, allow_nan=False)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"problems": outcome, "peak_mb": peak_mb}))
"""


def _deep_path(levels: int) -> str:
    return "a/" * (levels - 1) + "f"


def _negative_outer_base256(path: Path) -> None:
    h.write_backup_with_outer_tail(path, h.header_block("x.tar", size=h.base256_field(-512)))


def _negative_outer_pax(path: Path) -> None:
    tail = h.pax_member([("size", "-1536")]) + h.header_block("x.tar", size=0)
    h.write_backup_with_outer_tail(path, tail)


def _negative_inner_pax(path: Path) -> None:
    inner = h.pax_member([("size", "-1536")]) + h.header_block("f", size=0)
    h.write_backup_with_inner_tar(path, inner + h.END_OF_ARCHIVE)


def _deep(levels: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        inner = h.pax_member([("path", _deep_path(levels))]) + h.file_member("f", b"x")
        h.write_backup_with_inner_tar(path, inner + h.END_OF_ARCHIVE)

    return build


def _many_deep(names: int, levels: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        parts = [
            h.pax_member([("path", f"top{n}/" + _deep_path(levels - 1))]) + h.file_member("f", b"x")
            for n in range(names)
        ]
        h.write_backup_with_inner_tar(path, b"".join(parts) + h.END_OF_ARCHIVE)

    return build


def _global_pax(keys: int, members: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        records = [(f"k{i}", "v") for i in range(keys)]
        parts = [h.pax_member(records, is_global=True)]
        parts += [h.file_member(f"f{i}", b"") for i in range(members)]
        h.write_backup_with_inner_tar(path, b"".join(parts) + h.END_OF_ARCHIVE)

    return build


def _nan_mtime(path: Path) -> None:
    h.write_backup_with_inner_tar(path, h.impossible_times_tar())


CASES: dict[str, Callable[[Path], None]] = {
    "outer size base-256 -512 (finding 1)": _negative_outer_base256,
    "outer PAX size=-1536 (finding 1)": _negative_outer_pax,
    "inner PAX size=-1536 (finding 2)": _negative_inner_pax,
    "path of 10 000 levels (finding 3)": _deep(10_000),
    "path of 200 000 levels (finding 3)": _deep(200_000),
    "1 000 names of 1 000 levels each (finding 3, at the cap)": _many_deep(1_000, 1_000),
    "global PAX 60 000 keys, 10 000 members (finding 11)": _global_pax(60_000, 10_000),
    "global PAX 1 000 keys, 20 000 members (finding 11)": _global_pax(1_000, 20_000),
    "NaN and 2**80 mtimes (finding 12)": _nan_mtime,
}


def _limit_memory(limit_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


def run_case(backup: Path, engine_src: Path, timeout_s: float, memory_mb: int) -> str:
    """Run the listing of `backup` in a child process; one line of figures."""
    env = {**os.environ, "PYTHONPATH": str(engine_src)}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _LIST_CASE, str(backup)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            preexec_fn=_limit_memory(memory_mb * 1024 * 1024),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"TIMEOUT after {timeout_s:.0f} s"
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1][:90]
        return f"{elapsed:6.2f} s  FAILED: {last}"
    result = json.loads(done.stdout)
    problems = ", ".join(result["problems"]) or "no problem"
    return f"{elapsed:6.2f} s  peak {result['peak_mb']:5.0f} MB  -> {problems}"


def main() -> None:
    """Build every hostile backup, then time each listing in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine-src", type=Path, default=SRC)
    parser.add_argument("--timeout-s", type=float, default=30.0)
    parser.add_argument("--memory-mb", type=int, default=2048)
    args = parser.parse_args()
    print(
        f"engine: {args.engine_src}  (timeout {args.timeout_s:.0f} s, memory {args.memory_mb} MB)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for number, (name, build) in enumerate(CASES.items()):
            backup = Path(folder) / f"case{number}.tar"
            build(backup)
            size_kb = backup.stat().st_size / 1024
            figures = run_case(backup, args.engine_src, args.timeout_s, args.memory_mb)
            print(f"{name:52} {size_kb:7.1f} KB  {figures}")


if __name__ == "__main__":
    main()
