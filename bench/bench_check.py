"""Benchmark: full check vs a securetar + tarfile reference reader, quick check, inflate floor, memory.

Prints figures; asserts nothing. Backups are generated once into bench/.data/
(git-ignored) and reused. Each measurement runs in its own process so that its
peak RSS is its own.

    .venv/bin/python bench/bench_check.py                 # ~800 MB of content
    .venv/bin/python bench/bench_check.py --content-mb 2000 --variants v3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / ".data"
PASSWORD = "bench-password"
VARIANTS = ("none", "v2", "v3")


# ---------------------------------------------------------------- generation
def build_backup(path: Path, encryption: str, content_mb: int) -> None:
    """A full backup whose content mixes compressible text and incompressible data.

    Roughly like a real one: a large recorder database (incompressible here, to
    be conservative), configuration text, add-on data and a share folder.
    """
    from backup_inspector.demo.backup_writer import (  # noqa: PLC0415
        ArchiveSpec,
        FileSpec,
        patterned_content,
        random_content,
        write_backup,
    )

    mib = 1024 * 1024
    db = content_mb * 40 // 100
    text = content_mb * 35 // 100
    addon = content_mb * 15 // 100
    share = content_mb - db - text - addon

    archives = [
        ArchiveSpec(
            "homeassistant",
            [
                FileSpec(
                    "data/home-assistant_v2.db", size=db * mib, generator=random_content("db")
                ),
                *many_files("data/config", text, 2000, patterned_content),
            ],
            encryption=encryption,
        ),
        ArchiveSpec(
            "core_mosquitto",
            many_files("data/store", addon, 500, random_content),
            encryption=encryption,
        ),
        ArchiveSpec(
            "share", many_files("media", share, 200, patterned_content), encryption=encryption
        ),
    ]
    write_backup(path, archives, password=PASSWORD if encryption != "none" else None)


def many_files(prefix: str, total_mb: int, count: int, generator) -> list:
    """`count` generated files of equal size under `prefix`, `total_mb` MiB in all."""
    from backup_inspector.demo.backup_writer import FileSpec  # noqa: PLC0415

    size = total_mb * 1024 * 1024 // count
    return [
        FileSpec(f"{prefix}/file_{i:05d}.txt", size=size, generator=generator(f"{prefix}{i}"))
        for i in range(count)
    ]


def backup_path(encryption: str, content_mb: int) -> Path:
    """Where the generated backup of this variant lives."""
    return DATA_DIR / f"bench_{encryption}_{content_mb}mb.tar"


# ---------------------------------------------------------------- measurements (run in a child)
def measure_full(path: Path, password: str | None) -> dict[str, object]:
    """Our full check."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415
    from backup_inspector.inspection.check_job import full_check  # noqa: PLC0415

    started = time.perf_counter()
    # The "database" here is random bytes standing in for volume, not a database:
    # the read path is measured alone; bench_database_check.py measures the SQLite step.
    report = full_check(open_backup(path), password, check_database=False)
    seconds = time.perf_counter() - started
    return {
        "timed_seconds": seconds,
        "ok": report.ok,
        "entries": sum(a.entries or 0 for a in report.archives),
    }


def measure_quick(path: Path, password: str | None) -> dict[str, object]:
    """Our quick check."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415
    from backup_inspector.inspection.check_job import quick_check  # noqa: PLC0415

    started = time.perf_counter()
    ok = quick_check(open_backup(path), password).ok
    return {"timed_seconds": time.perf_counter() - started, "ok": ok}


def measure_reference(path: Path, password: str | None) -> dict[str, object]:
    """What a tool built only on securetar + tarfile does to read every entry."""
    from securetar import SecureTarArchive  # noqa: PLC0415

    entries = 0
    started = time.perf_counter()
    with (
        SecureTarArchive(path, "r", password=password)
        if password
        else tarfile.open(path, "r:") as outer
    ):
        tar = outer.tar if password else outer
        for member in tar.getmembers():
            if not member.name.endswith((".tar.gz", ".tar")):
                continue
            mode = "r|gz" if member.name.endswith(".gz") else "r|"
            if password:
                with (
                    outer.extract_tar(member) as stream,
                    tarfile.open(fileobj=stream, mode=mode) as inner,
                ):
                    entries += _read_all(inner)
            else:
                with tarfile.open(fileobj=tar.extractfile(member), mode=mode) as inner:
                    entries += _read_all(inner)
    return {"timed_seconds": time.perf_counter() - started, "entries": entries}


def _read_all(inner: tarfile.TarFile) -> int:
    count = 0
    for info in inner:
        count += 1
        handle = inner.extractfile(info)
        if handle is not None:
            while handle.read(1024 * 1024):
                pass
    return count


# Ways of calling the inflater: output bound per call (None = unbounded).
# Which is fastest depends on the data and on the allocator (glibc here gave
# 0.13 s with 4 MiB and 0.58 s with 1 MiB for the same streams read from
# files), so the floor is the fastest of them in each run.
FLOOR_OUTPUT_BOUNDS = (None, 4 << 20, 1 << 20, 256 << 10)


def measure_inflate_floor(path: Path, password: str | None) -> dict[str, object]:
    """Time to inflate the same inner gzip streams with the fastest library, nothing else.

    The decrypted streams are prepared first (not timed); only reading them
    back and inflating is timed, once per way of calling, and the fastest
    way counts.
    """
    from backup_inspector.backup_format.gzip_verifier import INFLATE_BACKEND  # noqa: PLC0415

    streams = _plaintext_streams(path, password)
    timings = {bound: _inflate_all(streams, bound) for bound in FLOOR_OUTPUT_BOUNDS}
    for stream in streams:
        stream.unlink()
    bound, (seconds, total) = min(timings.items(), key=lambda item: item[1][0])
    way = "unbounded" if bound is None else f"{bound >> 10} KiB pieces"
    return {
        "timed_seconds": seconds,
        "inflated": total,
        "library": f"{INFLATE_BACKEND}, {way}",
    }


def _inflate_all(streams: list[Path], bound: int | None) -> tuple[float, int]:
    from backup_inspector.backup_format.gzip_verifier import _new_raw_inflater  # noqa: PLC0415

    started = time.perf_counter()
    total = 0
    for stream in streams:
        with stream.open("rb") as f:
            header = f.read(10)
            assert header[:2] == b"\x1f\x8b"
            # Python's stream writer sets FNAME with an empty name; file-mode gzip may not.
            if header[3] & 8:
                while f.read(1) != b"\x00":
                    pass
            inflater = _new_raw_inflater(wbits=-15)
            while chunk := f.read(1024 * 1024):
                if bound is None:
                    total += len(inflater.decompress(chunk))
                    continue
                while chunk:
                    total += len(inflater.decompress(chunk, bound))
                    chunk = inflater.unconsumed_tail
    return time.perf_counter() - started, total


def _plaintext_streams(path: Path, password: str | None) -> list[Path]:
    from backup_inspector.backup_format.archive_keys import ArchiveKeyRing  # noqa: PLC0415
    from backup_inspector.backup_format.inner_archive import plaintext_pieces  # noqa: PLC0415
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415

    overview = open_backup(path)
    keyring = ArchiveKeyRing(password) if password else None
    out: list[Path] = []
    with path.open("rb") as f:
        for index, archive in enumerate(overview.archives):
            target = DATA_DIR / f".plain_{os.getpid()}_{index}.gz"
            with target.open("wb") as dest:
                for piece in plaintext_pieces(f, archive.member, archive.sniff, keyring, None, []):
                    dest.write(piece)
            out.append(target)
    return out


MEASUREMENTS = {
    "full": measure_full,
    "quick": measure_quick,
    "reference": measure_reference,
    "inflate-floor": measure_inflate_floor,
}


REPEATS = 5


def child_main(kind: str, path: Path, password: str | None) -> None:
    """Run one measurement REPEATS times and print its figures as JSON (median and best)."""
    times: list[float] = []
    result: dict[str, object] = {}
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = MEASUREMENTS[kind](path, password)
        elapsed = time.perf_counter() - started
        times.append(float(result.pop("timed_seconds", elapsed)))  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "best_seconds": min(times),
                "peak_rss_mb": _peak_rss_mb(),
                **result,
            }
        )
    )


def _peak_rss_mb() -> float:
    """This process's peak resident set size.

    Read from VmHWM: ru_maxrss survives execve on Linux, so a child would
    report its parent's peak (seen here: 165 MB for a quick check).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(kind: str, path: Path, password: str | None) -> dict[str, object]:
    """Run a measurement in a fresh interpreter."""
    env = dict(os.environ, BENCH_PASSWORD=password or "")
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate (once) and measure every variant; print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--content-mb", type=int, default=800)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "BACKUP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child[0], Path(args.child[1]), os.environ.get("BENCH_PASSWORD") or None)
        return
    DATA_DIR.mkdir(exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    for variant in args.variants:
        path = backup_path(variant, args.content_mb)
        if not path.exists():
            started = time.perf_counter()
            build_backup(path, variant, args.content_mb)
            print(f"generated {path.name} in {time.perf_counter() - started:.0f} s")
        password = PASSWORD if variant != "none" else None
        size_mb = path.stat().st_size / 1024 / 1024
        figures = {
            kind: run_child(kind, path, password)
            for kind in ("reference", "full", "inflate-floor", "quick")
        }
        ref, full, floor, quick = (
            figures[k] for k in ("reference", "full", "inflate-floor", "quick")
        )
        print(
            f"\n[{variant}] backup {size_mb:.0f} MB, content {args.content_mb} MB, "
            f"{full['entries']} entries, inflate library {floor['library']}; "
            f"median (best) of {REPEATS} runs\n"
            f"  reference (securetar+tarfile) {_fmt(ref)}   peak {ref['peak_rss_mb']:.0f} MB\n"
            f"  full check                    {_fmt(full)}   peak {full['peak_rss_mb']:.0f} MB   ok={full['ok']}\n"
            f"  inflate floor (1 thread)      {_fmt(floor)}\n"
            f"  quick check                   {_fmt(quick, 3)}   peak {quick['peak_rss_mb']:.0f} MB\n"
            f"  full / reference = {full['seconds'] / ref['seconds']:.2f}   "
            f"full / floor = {full['seconds'] / floor['seconds']:.2f}"
        )


def _fmt(figures: dict[str, object], digits: int = 2) -> str:
    return f"{figures['seconds']:7.{digits}f} s ({figures['best_seconds']:.{digits}f})"


if __name__ == "__main__":
    main()
