"""Benchmark: finding a file across 30 backups from saved indexes, and the cost of hashing files.

Prints figures; asserts nothing (issue 13's goals: find < 200 ms for 30
backups of 10 000 entries each from saved indexes; hashing < 10 % of a full
check). Backups are generated once into bench/.data/ (git-ignored) and reused.

    .venv/bin/python bench/bench_find.py                  # both parts
    .venv/bin/python bench/bench_find.py --part find --backups 30 --entries 10000
    .venv/bin/python bench/bench_find.py --part hash --content-mb 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import DATA_DIR, PASSWORD, backup_path, build_backup

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    make_metadata,
    write_backup,
)
from backup_inspector.inspection.archive_index import ArchiveIndex
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.check_job import full_check
from backup_inspector.inspection.file_history import find_across_backups
from backup_inspector.inspection.index_store import IndexStore

FIND_PATTERNS = ("automations.yaml", "item_0042?.yaml", "packages/room_0042/*", "*.yaml")


# ---------------------------------------------------------------- find across backups
def build_folder(folder: Path, backups: int, entries: int) -> None:
    """`backups` backups of one homeassistant archive of `entries` small files each."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(backups):
        path = folder / f"nightly_{number:02d}.tar"
        if path.exists():
            continue
        files = {"data/automations.yaml": f"- alias: rule {number // 5}\n".encode()}
        for index in range(entries - 1):
            room = f"room_{index // 50:04d}"
            files[f"data/packages/{room}/item_{index:05d}.yaml"] = f"v: {index}\n".encode()
        archive = ArchiveSpec("homeassistant", files)
        date = f"2026-{1 + number // 28:02d}-{1 + number % 28:02d}T03:00:00+00:00"
        metadata = make_metadata(
            [archive], name=f"Nightly {number}", date=date, slug=f"n{number:02d}"
        )
        write_backup(path, [archive], metadata=metadata)


def bench_find(backups: int, entries: int, rounds: int, index_dir: Path | None) -> None:
    """Cold (reads and saves every index) and warm (saved indexes only) searches.

    With `index_dir`, saved indexes are kept there between runs (the cold
    search then only reads what is missing); else a temporary folder.
    """
    folder = DATA_DIR / f"find_{backups}x{entries}"
    started = time.perf_counter()
    build_folder(folder, backups, entries)
    print(
        f"folder: {backups} backups x {entries} entries ({time.perf_counter() - started:.1f} s to prepare)"
    )
    with tempfile.TemporaryDirectory() as temporary:
        store = IndexStore(index_dir or Path(temporary), remember_protected=False)
        started = time.perf_counter()
        cold = find_across_backups(folder, FIND_PATTERNS[0], store=store)
        print(
            f"cold find (lists, hashes and saves every archive): {time.perf_counter() - started:.2f} s, "
            f"{len(cold.versions)} versions"
        )
        for pattern in FIND_PATTERNS:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                result = find_across_backups(folder, pattern, store=store, read_missing=False)
                times.append(time.perf_counter() - started)
            print(
                f"warm find {pattern!r:28}: median {1000 * statistics.median(times):6.1f} ms, "
                f"best {1000 * min(times):6.1f} ms, {len(result.versions)} versions, "
                f"{len(result.histories())} files"
            )


# ---------------------------------------------------------------- hashing overhead
def _observer(mode: str):
    """None, a listing that drops the hash sink, or the real (hashing) listing."""
    if mode == "check":
        return None

    def for_archive(archive):
        index = ArchiveIndex(archive.name)
        if mode == "listing":
            return lambda entry: (index.add(entry), None)[1]
        return index.add

    return for_archive


def bench_hash(content_mb: int, variants: list[str], rounds: int) -> None:
    """Full check alone, with a listing not hashed, and with the hashing listing (min of rounds)."""
    for encryption in variants:
        path = backup_path(encryption, content_mb)
        if not path.exists():
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            build_backup(path, encryption, content_mb)
        password = PASSWORD if encryption != "none" else None
        times: dict[str, list[float]] = {"check": [], "listing": [], "hashed": []}
        for _ in range(rounds):
            for mode, values in times.items():
                started = time.perf_counter()
                report = full_check(
                    open_backup(path),
                    password,
                    on_archive_entries=_observer(mode),
                    check_database=False,
                )
                values.append(time.perf_counter() - started)
                assert all(check.read_to_end for check in report.archives)  # read to the end
        best = {mode: min(values) for mode, values in times.items()}
        print(
            f"{encryption:>4} {content_mb} MB: full check {best['check']:.2f} s, "
            f"+ listing {best['listing']:.2f} s, + listing with SHA-256 {best['hashed']:.2f} s; "
            f"hashing adds {100 * (best['hashed'] / best['listing'] - 1):+.1f} % to a full check "
            f"that lists ({100 * (best['hashed'] / best['check'] - 1):+.1f} % to a check alone)"
        )


def main() -> None:
    """Parse options and run the chosen parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("find", "hash", "both"), default="both")
    parser.add_argument("--backups", type=int, default=30)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--content-mb", type=int, default=300)
    parser.add_argument("--variants", nargs="+", default=["none", "v3"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--index-dir", type=Path, help="keep saved indexes here between runs")
    args = parser.parse_args()
    if args.part in ("find", "both"):
        bench_find(args.backups, args.entries, max(args.rounds, 5), args.index_dir)
    if args.part in ("hash", "both"):
        bench_hash(args.content_mb, args.variants, args.rounds)


if __name__ == "__main__":
    main()
