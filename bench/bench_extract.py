"""Benchmark: the worst extraction inputs of issue 9 (findings 3, 4 and 21).

Prints figures; asserts nothing. Run it against any checkout to compare
before and after (PYTHONPATH picks the source tree):

    PYTHONPATH=src .venv/bin/python bench/bench_extract.py [--depth 1000] [--files 2000]

* plan: `ArchiveIndex.selection_size` over 10 000 selected paths;
* deep: extracting FILES small files that sit DEPTH folders deep;
* hard-link chain: reading one hard link at the end of a chain of links
  placed after ZEROS_MIB of zeros (how often the archive is walked).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backup_inspector.backup_format.tar_entry import DataSink, EntryType, TarEntry
from backup_inspector.demo.backup_writer import ArchiveSpec, FileSpec, write_backup
from backup_inspector.inspection import archive_walk, extract_job
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.backup_overview import open_backup


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_plan(path_count: int) -> None:
    """Time a plan over `path_count` selected sibling files."""
    index = ArchiveIndex("share")
    paths = [f"folder/file{number:06d}" for number in range(path_count)]
    for path in paths:
        index.add(TarEntry(path, path, EntryType.FILE, 1, 0.0, 0o644))
    started = time.perf_counter()
    index.selection_size(paths)
    print(f"plan: {path_count} paths: {time.perf_counter() - started:.3f} s")


def bench_deep(work_dir: Path, depth: int, file_count: int) -> None:
    """Time extracting `file_count` files `depth` folders deep."""
    folder = "/".join(["d"] * depth)
    specs = [FileSpec(f"{folder}/f{number}", content=b"x") for number in range(file_count)]
    backup = write_backup(work_dir / "deep.tar", [ArchiveSpec("share", specs)])
    overview = open_backup(backup)
    destination = work_dir / "deep-out"
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    report = extract_job.extract(overview, [("share", [])], None, destination)
    elapsed = time.perf_counter() - started
    print(
        f"deep: {file_count} files at depth {depth}: {elapsed:.2f} s, "
        f"{len(report.written)} written, {len(report.skipped)} skipped, "
        f"{len(report.refused)} refused, peak RSS {peak_rss_mib():.0f} MiB "
        f"(before {rss_before:.0f} MiB)"
    )
    # shutil.rmtree recurses once per level and fails on deep trees.
    subprocess.run(["rm", "-rf", str(destination)], check=False)


class _CountingSink(DataSink):
    """Counts the bytes of the member read."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        """Count a piece."""
        self.size += len(data)


def bench_hardlink_chain(work_dir: Path, zeros_mib: int, chain: int) -> None:
    """Read the last link of a chain of `chain` hard links placed after `zeros_mib` of zeros."""
    specs = [FileSpec("zeros.bin", size=zeros_mib * 1024 * 1024, generator=lambda o, n: bytes(n))]
    specs.append(FileSpec("link0", content=b"target bytes\n"))
    specs += [
        FileSpec(f"link{n}", type="hardlink", link_target=f"link{n - 1}")
        for n in range(1, chain + 1)
    ]
    backup = write_backup(work_dir / "links.tar", [ArchiveSpec("share", specs)])
    overview = open_backup(backup)
    walks = [0]
    real_walk = archive_walk.walk_archive

    def counting_walk(*args, **kwargs):  # type: ignore[no-untyped-def]
        walks[0] += 1
        return real_walk(*args, **kwargs)

    extract_job.walk_archive = counting_walk  # type: ignore[assignment]
    started = time.perf_counter()
    try:
        extract_job.read_entry(overview, "share", f"link{chain}", None, _CountingSink())
        outcome = "read"
    except Exception as error:  # the figure is what matters, whatever the failure
        outcome = f"{type(error).__name__}: {error}"
    finally:
        extract_job.walk_archive = real_walk  # type: ignore[assignment]
    print(
        f"hard-link chain of {chain} after {zeros_mib} MiB: {time.perf_counter() - started:.2f} s, "
        f"{walks[0]} archive walks, {outcome[:100]}"
    )


def main() -> None:
    """Run the three benchmarks with the sizes given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--zeros-mib", type=int, default=50)
    parser.add_argument("--chain", type=int, default=50)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, engine from {extract_job.__file__}")
    bench_plan(args.paths)
    work = tempfile.mkdtemp()
    try:
        bench_hardlink_chain(Path(work), args.zeros_mib, args.chain)
        bench_deep(Path(work), args.depth, args.files)
    finally:
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
