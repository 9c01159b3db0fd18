"""Benchmark: browsing 100 000 entries while listing, from memory, and after a restart.

Prints figures; asserts nothing. The backups (one unencrypted, one SecureTar
v3) are generated once into bench/.data/ (git-ignored) and reused. Every
figure comes from the real service code: `list_entries` into an
`ArchiveIndex`, `IndexStore.save`, and, in a fresh interpreter (the app after
a restart), the web layer's `PersistentListingCache` opening the saved
`StoredArchiveIndex`. The encrypted variant is measured with remember_index on.

`--million` measures instead a backup of 1 000 000 entries (1 000 folders of
1 000): the peak memory of listing and saving it, the saved file against the
200 MB cap, and the peak memory of a search and a deep page of the saved
index in a fresh process (README: "well under 100 MB").

    .venv/bin/python bench/bench_browse.py
    .venv/bin/python bench/bench_browse.py --million [--variants none v3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / ".data"
PASSWORD = "bench-password"
ARCHIVE = "share"
VARIANTS = ("none", "v3")
TREE_TOP, TREE_SUB, TREE_FILES = 10, 10, 800  # tree/dN/sN/fNNN.txt: 80 000 files
FLAT_FILES = 20_000  # flat/fNNNNN.log: one large folder
REPEATS = 25
PAGE = 200  # the page's default page size

# (label, folder, offset) of the folder pages that are timed
FOLDER_PAGES = [
    ("root", "", 0),
    ("tree (10 folders)", "tree", 0),
    ("tree/d5/s5 (800 files)", "tree/d5/s5", 0),
    ("flat (20 000 files), first page", "flat", 0),
    ("flat (20 000 files), last page", "flat", FLAT_FILES - PAGE),
]


# ---------------------------------------------------------------- generation
def backup_path(encryption: str, size: str = "100k") -> Path:
    """Where the generated backup of this variant (and size) lives."""
    return DATA_DIR / f"browse_{size}_{encryption}.tar"


def write_share_backup(path: Path, specs: list[Any], encryption: str, compressed: bool) -> None:
    """A backup of one 'share' archive holding `specs`."""
    from backup_inspector.demo.backup_writer import ArchiveSpec, write_backup  # noqa: PLC0415

    archive = ArchiveSpec(ARCHIVE, specs, compressed=compressed, encryption=encryption)  # type: ignore[arg-type]
    write_backup(path, [archive], password=PASSWORD if encryption != "none" else None)


def build_backup(path: Path, encryption: str) -> None:
    """One 'share' archive with 100 000 small files in nested folders and one large folder."""
    from backup_inspector.demo.backup_writer import FileSpec  # noqa: PLC0415

    specs = [FileSpec("tree", type="dir"), FileSpec("flat", type="dir")]
    for top in range(TREE_TOP):
        specs.append(FileSpec(f"tree/d{top}", type="dir"))
        for sub in range(TREE_SUB):
            folder = f"tree/d{top}/s{sub}"
            specs.append(FileSpec(folder, type="dir"))
            specs.extend(
                FileSpec(f"{folder}/f{number:03d}.txt", content=f"{folder} {number}\n".encode())
                for number in range(TREE_FILES)
            )
    specs.extend(
        FileSpec(f"flat/f{number:05d}.log", content=b"x" * (number % 97))
        for number in range(FLAT_FILES)
    )
    write_share_backup(path, specs, encryption, compressed=True)


def index_dir(encryption: str) -> Path:
    """The data folder's index/ of this variant's runs."""
    return DATA_DIR / f"browse-data-{encryption}" / "index"


def make_store(encryption: str) -> Any:
    """The store as the add-on builds it, remember_index on."""
    from backup_inspector.inspection.index_store import IndexStore  # noqa: PLC0415

    return IndexStore(index_dir(encryption), remember_protected=True)


def timed_ms(function: Any, *args: Any) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = function(*args)
    return (time.perf_counter() - started) * 1000, result


def median_ms(function: Any, *args: Any) -> float:
    """Median milliseconds of REPEATS calls."""
    return statistics.median(timed_ms(function, *args)[0] for _ in range(REPEATS))


def page_figures(index: Any) -> dict[str, dict[str, float]]:
    """First and median (repeated) time of each timed folder page, and of a search."""
    figures: dict[str, dict[str, float]] = {}
    for label, folder, offset in FOLDER_PAGES:
        first, page = timed_ms(index.folder_page, folder, offset, PAGE)
        assert page.rows, label
        figures[label] = {
            "first_ms": first,
            "median_ms": median_ms(index.folder_page, folder, offset, PAGE),
        }
    first, found = timed_ms(index.search, "f0123", 0, PAGE)
    again = statistics.median(timed_ms(index.search, "f0123", 0, PAGE)[0] for _ in range(3))
    figures[f"search 'f0123' ({found.total} hits)"] = {"first_ms": first, "median_ms": again}
    return figures


MILLION_FOLDERS, MILLION_PER_FOLDER = 1000, 1000  # a folder entry and 999 empty files each


def build_million(path: Path, encryption: str) -> None:
    """One uncompressed 'share' archive of 1 000 000 entries with empty files."""
    from backup_inspector.demo.backup_writer import FileSpec  # noqa: PLC0415

    specs = []
    for folder_number in range(MILLION_FOLDERS):
        folder = f"data/d{folder_number:04d}"
        specs.append(FileSpec(folder, type="dir"))
        specs.extend(
            FileSpec(f"{folder}/file-{number:06d}.txt", content=b"")
            for number in range(MILLION_PER_FOLDER - 1)
        )
    write_share_backup(path, specs, encryption, compressed=False)


# ---------------------------------------------------------------- measurements (in children)
def measure_listing(encryption: str) -> dict[str, Any]:
    """Listing into a memory index, its folder pages, then saving it (the first read)."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415
    from backup_inspector.inspection.listing_job import list_entries  # noqa: PLC0415

    path = backup_path(encryption)
    password, identity, index = _fresh_listing(path, encryption)
    arrivals: list[float] = []

    def on_entry(entry: Any) -> None:
        if len(arrivals) < PAGE:
            arrivals.append(time.perf_counter())
        index.add(entry)

    started = time.perf_counter()
    overview = open_backup(path)
    opened = time.perf_counter()
    check = list_entries(overview, ARCHIVE, password, on_entry=on_entry)
    finished = time.perf_counter()
    index.finish(check.to_json())
    warm_first_ms, warm_page_ms = _warm_first_entries(overview, password)
    save_ms, saved = _timed_save(encryption, identity, index, password)
    files = list(index_dir(encryption).glob("*.index"))
    return {
        "entries": index.entry_count,
        "ok": check.ok,
        "open_backup_ms": (opened - started) * 1000,
        "first_entry_ms": (arrivals[0] - opened) * 1000,
        "first_page_of_entries_ms": (arrivals[-1] - opened) * 1000,
        "full_listing_s": finished - opened,
        "warm_first_entry_ms": warm_first_ms,
        "warm_first_page_of_entries_ms": warm_page_ms,
        "memory_pages": page_figures(index),
        "save_ms": save_ms,
        "saved": saved,
        "index_file_mb": sum(f.stat().st_size for f in files) / 1024 / 1024,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _fresh_listing(path: Path, encryption: str) -> tuple[str | None, Any, Any]:
    """(password, identity before listing, empty ArchiveIndex), with no saved index left over."""
    from backup_inspector.inspection.archive_index import ArchiveIndex  # noqa: PLC0415
    from backup_inspector.inspection.index_store import identify_backup  # noqa: PLC0415

    shutil.rmtree(index_dir(encryption).parent, ignore_errors=True)
    password = PASSWORD if encryption != "none" else None
    return password, identify_backup(path), ArchiveIndex(ARCHIVE)


class _EnoughEntries(Exception):
    """Stops a listing once the first page of entries arrived."""


def _warm_first_entries(overview: Any, password: str | None) -> tuple[float, float]:
    """Time to the first entry and to the first page, in a process that already listed once.

    That is the app's situation: modules imported, the backup in the page cache.
    """
    from backup_inspector.inspection.listing_job import list_entries  # noqa: PLC0415

    arrivals: list[float] = []

    def on_entry(_entry: Any) -> None:
        arrivals.append(time.perf_counter())
        if len(arrivals) == PAGE:
            raise _EnoughEntries

    started = time.perf_counter()
    with contextlib.suppress(_EnoughEntries):
        list_entries(overview, ARCHIVE, password, on_entry=on_entry)
    return (arrivals[0] - started) * 1000, (arrivals[-1] - started) * 1000


def _timed_save(
    encryption: str, identity: Any, index: Any, password: str | None
) -> tuple[float, bool]:
    """Milliseconds and outcome of IndexStore.save (what the listing job does after finishing)."""
    store = make_store(encryption)
    started = time.perf_counter()
    saved = store.save(identity, index, is_protected=encryption != "none", password=password)
    return (time.perf_counter() - started) * 1000, saved


def measure_restart(encryption: str) -> dict[str, Any]:
    """A fresh interpreter (the restarted app) opens the saved index and pages through it."""
    from backup_inspector.web.listing_cache import (  # noqa: PLC0415
        ListingKey,
        MemoryListingCache,
        PersistentListingCache,
    )

    path = backup_path(encryption)
    stat = path.stat()
    is_protected = encryption != "none"
    cache = PersistentListingCache(
        MemoryListingCache(), make_store(encryption), lambda _backup_id: PASSWORD
    )
    key = ListingKey("bench", stat.st_size, stat.st_mtime_ns, ARCHIVE, path, is_protected)
    open_ms, (index, is_new) = timed_ms(cache.get_or_create, key)
    assert not is_new and index.is_complete, "no saved index was found"
    first_page_ms, _page = timed_ms(index.folder_page, "", 0, PAGE)
    again_ms, _same = timed_ms(cache.get, key)
    return {
        "index_type": type(index).__name__,
        "open_ms": open_ms,
        "first_page_after_open_ms": first_page_ms,
        "cached_get_ms": again_ms,
        "pages": page_figures(index),
        "peak_rss_mb": _peak_rss_mb(),
    }


def measure_million_listing(encryption: str) -> dict[str, Any]:
    """List 1 M entries into an ArchiveIndex (as the listing job does) and save it."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415
    from backup_inspector.inspection.listing_job import list_entries  # noqa: PLC0415

    path = backup_path(encryption, "1m")
    password, identity, index = _fresh_listing(path, encryption)
    started = time.perf_counter()
    check = list_entries(open_backup(path), ARCHIVE, password, on_entry=index.add)
    index.finish(check.to_json())
    listing_s = time.perf_counter() - started
    listing_peak = _peak_rss_mb()
    page_ms, _page = timed_ms(index.folder_page, "data/d0500", 900, PAGE)
    search_ms, found = timed_ms(index.search, "file-0001", 0, PAGE)
    save_ms, saved = _timed_save(encryption, identity, index, password)
    files = list(index_dir(encryption).glob("*.index"))
    return {
        "entries": index.entry_count,
        "ok": check.ok,
        "listing_s": listing_s,
        "listing_peak_mb": listing_peak,
        "memory_page_ms": page_ms,
        "memory_search_ms": search_ms,
        "search_hits": found.total,
        "save_s": save_ms / 1000,
        "saved": saved,
        "index_file_mb": sum(f.stat().st_size for f in files) / 1024 / 1024,
        "peak_rss_mb": _peak_rss_mb(),
    }


def measure_million_search(encryption: str) -> dict[str, Any]:
    """A fresh process (the restarted app) opens the saved 1 M index, searches and pages."""
    from backup_inspector.inspection.index_store import identify_backup  # noqa: PLC0415

    is_protected = encryption != "none"
    password = PASSWORD if is_protected else None
    identity = identify_backup(backup_path(encryption, "1m"))
    stored = make_store(encryption).open_index(
        identity, ARCHIVE, is_protected=is_protected, password=password
    )
    if stored is None:
        return {"opened": False, "peak_rss_mb": _peak_rss_mb()}
    search_ms, found = timed_ms(stored.search, "file-0001", 0, PAGE)
    last_ms, _last = timed_ms(stored.search, "file-0001", found.total - PAGE, PAGE)
    page_ms, _page = timed_ms(stored.folder_page, "data/d0999", 900, PAGE)
    return {
        "opened": True,
        "search_hits": found.total,
        "search_ms": search_ms,
        "last_search_page_ms": last_ms,
        "deep_page_ms": page_ms,
        "peak_rss_mb": _peak_rss_mb(),
    }


MEASUREMENTS = {
    "listing": measure_listing,
    "restart": measure_restart,
    "million-listing": measure_million_listing,
    "million-search": measure_million_search,
}


def _peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(kind: str, encryption: str) -> dict[str, Any]:
    """Run a measurement in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, encryption],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- report
def figure(label: str, value: float, unit: str, note: str = "", indent: int = 2) -> None:
    """One aligned line of the report."""
    text = f"{' ' * indent}{label:<{44 - indent}}{value:10.2f} {unit}"
    print(f"{text}   ({note})" if note else text)


def print_pages(title: str, pages: dict[str, dict[str, float]]) -> None:
    """One line per timed page: the first call, then the median of the repeats."""
    print(f"  {title}")
    for label, times in pages.items():
        note = f"then {times['median_ms']:.2f} ms"
        figure(label, times["first_ms"], "ms", note, indent=4)


def print_variant(
    variant: str, path: Path, listing: dict[str, Any], restart: dict[str, Any]
) -> None:
    """The figures of one variant."""
    mode = "plain index" if variant == "none" else "sealed index (remember_index on)"
    size_mb = path.stat().st_size / 1024 / 1024
    print(f"\n[{variant}] {size_mb:.1f} MB backup, {listing['entries']} entries, {mode}")
    figure("open_backup (headers)", listing["open_backup_ms"], "ms")
    warm = f"warm process: {listing['warm_first_entry_ms']:.1f} ms"
    figure("first entry from list_entries", listing["first_entry_ms"], "ms", warm)
    warm = f"warm process: {listing['warm_first_page_of_entries_ms']:.1f} ms"
    figure(f"first {PAGE} entries", listing["first_page_of_entries_ms"], "ms", warm)
    note = f"ok={listing['ok']}, peak {listing['peak_rss_mb']:.0f} MB"
    figure("full listing into ArchiveIndex", listing["full_listing_s"], "s ", note)
    note = f"saved={listing['saved']}, file {listing['index_file_mb']:.1f} MB"
    figure("save to the index store", listing["save_ms"], "ms", note)
    print_pages("memory index (same run):", listing["memory_pages"])
    print(f"  after restart (fresh process, {restart['index_type']}):")
    steps = "identity + SQLite" + (" + Argon2id" if variant != "none" else "")
    figure("open the saved index", restart["open_ms"], "ms", steps, indent=4)
    figure("first folder page", restart["first_page_after_open_ms"], "ms", indent=4)
    shown = restart["open_ms"] + restart["first_page_after_open_ms"]
    figure("=> first folder shown after restart", shown, "ms", indent=4)
    note = f"peak {restart['peak_rss_mb']:.0f} MB"
    figure("later lookups (cache.get)", restart["cached_get_ms"], "ms", note, indent=4)
    print_pages("stored index (after restart):", restart["pages"])


def print_million(variant: str, listing: dict[str, Any], search: dict[str, Any]) -> None:
    """The 1 M-entry figures of one variant."""
    mode = "plain index" if variant == "none" else "sealed index (remember_index on)"
    print(f"\n[{variant}] {listing['entries']} entries, {mode}")
    note = f"ok={listing['ok']}"
    figure("full listing into ArchiveIndex", listing["listing_s"], "s ", note)
    figure("  peak memory of the listing", listing["listing_peak_mb"], "MB")
    figure("  page 'data/d0500' at 900 (same run)", listing["memory_page_ms"], "ms")
    note = f"{listing['search_hits']} hits"
    figure("  search 'file-0001' (same run)", listing["memory_search_ms"], "ms", note)
    note = f"saved={listing['saved']}, file {listing['index_file_mb']:.1f} MB (cap 200 MB)"
    figure("save to the index store", listing["save_s"], "s ", note)
    figure("  peak memory, listing and saving", listing["peak_rss_mb"], "MB")
    if not search["opened"]:
        print("  after restart: no saved index (over the cap): the archive is read again")
        return
    print("  after restart (fresh process, StoredArchiveIndex):")
    note = f"{search['search_hits']} hits"
    figure("search 'file-0001', first page", search["search_ms"], "ms", note, indent=4)
    figure("search 'file-0001', last page", search["last_search_page_ms"], "ms", indent=4)
    figure("page 'data/d0999' at 900", search["deep_page_ms"], "ms", indent=4)
    figure("peak memory", search["peak_rss_mb"], "MB", indent=4)


def run_million(variants: list[str]) -> None:
    """Generate (once) and measure the 1 M-entry backups."""
    for variant in variants:
        path = backup_path(variant, "1m")
        if not path.exists():
            started = time.perf_counter()
            build_million(path, variant)
            print(f"generated {path.name} in {time.perf_counter() - started:.0f} s")
        listing = run_child("million-listing", variant)
        print_million(variant, listing, run_child("million-search", variant))


def main() -> None:
    """Generate (once) and measure each variant; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--million", action="store_true", help="measure 1 000 000 entries")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(MEASUREMENTS[args.child[0]](args.child[1])))
        return
    DATA_DIR.mkdir(exist_ok=True)
    python = sys.version.split()[0]
    print(f"machine: {os.cpu_count()} cores, python {python}; page size {PAGE} rows")
    if args.million:
        variants = args.variants if args.variants != list(VARIANTS) else ["none"]
        run_million(variants)
        return
    for variant in args.variants:
        path = backup_path(variant)
        if not path.exists():
            started = time.perf_counter()
            build_backup(path, variant)
            print(f"generated {path.name} in {time.perf_counter() - started:.0f} s")
        print_variant(variant, path, run_child("listing", variant), run_child("restart", variant))


if __name__ == "__main__":
    main()
