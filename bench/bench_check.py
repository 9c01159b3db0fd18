"""Benchmark: full check vs a securetar + tarfile reference reader, the library floor, memory.

Prints figures; asserts nothing. Backups are generated once into bench/.data/
(git-ignored) and reused. Each measurement runs in its own process so that its
peak RSS is its own.

Two mixes of content:
* realistic (default): shaped like a real Home Assistant backup
  (demo/realistic_content.py): a recorder database written by sqlite3
  (about 4 : 1 with gzip), camera recordings and photos that do not
  compress, YAML/JSON configuration, an app with thousands of small files;
* synthetic: the old mix (random "database", patterned text).

Three configurations, each measured against the reference and the floor in
the same run:
* isal: the installed fast inflater (the aarch64/amd64 image);
* zlib: isal and zlib-ng made unimportable in the child (armv7, plain pip);
* 1-core: isal, the child pinned to CPU 0 with `taskset -c 0` (a loaded Pi).

Wall clock and CPU time (all threads) are both printed: on a shared machine
the wall clock measures the neighbours too, and CPU time minus the floor's
is the check's own work (tar walking, CRC, Python).

The floor is one thread's library cost on the same bytes: decrypting the
archive (cryptography / PyNaCl calls over the project's 1 MiB pieces)
plus inflating the decrypted gzip streams with the configuration's inflater.

    .venv/bin/python bench/bench_check.py                        # 400 MB and 2 GB, realistic
    .venv/bin/python bench/bench_check.py --sizes 400 --variants v3 --configs isal
    .venv/bin/python bench/bench_check.py --sizes 10000 --repeats 1   # streams to disk
    .venv/bin/python bench/bench_check.py --mix synthetic --sizes 800
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
from dataclasses import replace
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / ".data"
PASSWORD = "bench-password"
VARIANTS = ("none", "v2", "v3")
MIXES = ("realistic", "synthetic")
#: Configuration -> (environment additions, command prefix) of the measuring child.
CONFIGURATIONS: dict[str, tuple[dict[str, str], list[str]]] = {
    "isal": ({}, []),
    "zlib": ({"BENCH_BLOCK_FAST_INFLATE": "1"}, []),
    "1-core": ({}, ["taskset", "-c", "0"]),
}
#: Modules the child makes unimportable in the zlib configuration (gzip_verifier tries them first).
FAST_INFLATE_MODULES = ("isal", "zlib_ng")


# ---------------------------------------------------------------- generation
def build_backup(
    path: Path, encryption: str, content_mb: int, blob_name: str = "data/home-assistant_v2.db"
) -> None:
    """A full backup whose content mixes compressible text and incompressible data.

    Roughly like a real one: a large recorder database (incompressible here, to
    be conservative), configuration text, add-on data and a share folder.
    `blob_name` names the large file: random bytes are no database, so a
    benchmark whose check reads databases (bench_copy) calls it something else.
    """
    from backup_inspector.demo.backup_writer import (  # noqa: PLC0415
        ArchiveSpec,
        FileSpec,
        patterned_content,
        random_content,
        write_backup,
    )
    from backup_inspector.demo.sample_content import addon_archive_entries  # noqa: PLC0415

    mib = 1024 * 1024
    db = content_mb * 40 // 100
    text = content_mb * 35 // 100
    addon = content_mb * 15 // 100
    share = content_mb - db - text - addon

    archives = [
        ArchiveSpec(
            "homeassistant",
            [
                FileSpec(blob_name, size=db * mib, generator=random_content("db")),
                *many_files("data/config", text, 2000, patterned_content),
            ],
            encryption=encryption,
        ),
        ArchiveSpec(
            "core_mosquitto",
            # addon.json as the Supervisor writes it: without it the app is not restorable.
            [
                *addon_archive_entries("core_mosquitto", data_files={}),
                *many_files("data/store", addon, 500, random_content),
            ],
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


def build_realistic_backups(paths: dict[str, Path], content_mb: int) -> None:
    """Backups shaped like real ones, one per encryption, from one recorder database.

    The database is written once (it is the slow part) and removed afterwards.
    """
    from backup_inspector.demo.outer_tar import write_backup  # noqa: PLC0415
    from backup_inspector.demo.realistic_content import realistic_archives  # noqa: PLC0415

    workdir = DATA_DIR / f"realistic_{content_mb}mb"
    workdir.mkdir(exist_ok=True)
    try:
        plain = realistic_archives(workdir, content_mb * 1000 * 1000)
        for encryption, path in paths.items():
            archives = [replace(archive, encryption=encryption) for archive in plain]
            password = PASSWORD if encryption != "none" else None
            write_backup(path, archives, password=password)
    finally:
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()


def backup_path(mix: str, encryption: str, content_mb: int) -> Path:
    """Where the generated backup of this variant lives."""
    prefix = "bench" if mix == "synthetic" else "realistic"
    return DATA_DIR / f"{prefix}_{encryption}_{content_mb}mb.tar"


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


def measure_library_floor(path: Path, password: str | None) -> dict[str, object]:
    """One thread's library cost on the same bytes: decrypt, then inflate, nothing else.

    Decrypting is timed as one pass over the archives that discards the
    plaintext (zero for unencrypted backups). For inflating, the decrypted
    streams are written to files first (not timed); reading them back and
    inflating is timed, once per way of calling, and the fastest way counts.
    """
    from backup_inspector.backup_format.gzip_verifier import INFLATE_BACKEND  # noqa: PLC0415

    decrypt_seconds, decrypt_cpu = _decrypt_all(path, password) if password else (0.0, 0.0)
    streams = _plaintext_streams(path, password)
    timings = {bound: _inflate_all(streams, bound) for bound in FLOOR_OUTPUT_BOUNDS}
    for stream in streams:
        stream.unlink()
    # A way that stopped short (an odd stream end) did not inflate everything: it does not count.
    complete = max(total for _, _, total in timings.values())
    timings = {bound: timing for bound, timing in timings.items() if timing[2] == complete}
    bound, (inflate_seconds, inflate_cpu, total) = min(timings.items(), key=lambda item: item[1][0])
    way = "unbounded" if bound is None else f"{bound >> 10} KiB pieces"
    return {
        "timed_seconds": decrypt_seconds + inflate_seconds,
        "timed_cpu_seconds": decrypt_cpu + inflate_cpu,
        "decrypt_seconds": decrypt_seconds,
        "inflate_seconds": inflate_seconds,
        "inflated": total,
        "library": f"{INFLATE_BACKEND}, {way}",
    }


def _decrypt_all(path: Path, password: str) -> tuple[float, float]:
    """(wall, CPU) seconds to decrypt every archive once, in this thread, discarding the plaintext."""
    from backup_inspector.backup_format.archive_keys import ArchiveKeyRing  # noqa: PLC0415
    from backup_inspector.backup_format.inner_archive import plaintext_pieces  # noqa: PLC0415
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415

    overview = open_backup(path)
    keyring = ArchiveKeyRing(password)
    with path.open("rb") as f:  # derive every key before the clock starts
        for archive in overview.archives:
            next(iter(plaintext_pieces(f, archive.member, archive.sniff, keyring, None, [])), None)
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as f:
        for archive in overview.archives:
            for _piece in plaintext_pieces(f, archive.member, archive.sniff, keyring, None, []):
                pass
    return time.perf_counter() - started, time.process_time() - cpu


def _inflate_all(streams: list[Path], bound: int | None) -> tuple[float, float, int]:
    from backup_inspector.backup_format.gzip_verifier import _new_raw_inflater  # noqa: PLC0415

    started, cpu = time.perf_counter(), time.process_time()
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
                while chunk and not inflater.eof:
                    out = inflater.decompress(chunk, bound)
                    total += len(out)
                    if not out and len(inflater.unconsumed_tail) == len(chunk):
                        break  # no progress: never loop forever on an odd stream
                    chunk = inflater.unconsumed_tail
    return time.perf_counter() - started, time.process_time() - cpu, total


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
    "floor": measure_library_floor,
}


def child_main(kind: str, path: Path, password: str | None, repeats: int) -> None:
    """Run one measurement `repeats` times and print its figures as JSON (median and best)."""
    if os.environ.get("BENCH_BLOCK_FAST_INFLATE"):
        for module in FAST_INFLATE_MODULES:
            sys.modules[module] = None  # type: ignore[assignment]  # import raises ImportError
    times: list[float] = []
    cpu_times: list[float] = []
    result: dict[str, object] = {}
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        result = MEASUREMENTS[kind](path, password)
        elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu
        times.append(float(result.pop("timed_seconds", elapsed)))  # type: ignore[arg-type]
        cpu_times.append(float(result.pop("timed_cpu_seconds", cpu_elapsed)))  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "cpu_seconds": statistics.median(cpu_times),
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


def run_child(
    kind: str, path: Path, password: str | None, configuration: str, repeats: int
) -> dict[str, object]:
    """Run a measurement in a fresh interpreter, in one of CONFIGURATIONS."""
    extra_env, prefix = CONFIGURATIONS[configuration]
    env = dict(os.environ, BENCH_PASSWORD=password or "", **extra_env)
    command = [*prefix, sys.executable, __file__, "--child", kind, str(path)]
    out = subprocess.run(
        [*command, "--repeats", str(repeats)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_backups(mix: str, variants: list[str], content_mb: int) -> None:
    """Generate the backups of this mix and size that are not there yet."""
    missing = {v: backup_path(mix, v, content_mb) for v in variants}
    missing = {v: path for v, path in missing.items() if not path.exists()}
    if not missing:
        return
    started = time.perf_counter()
    if mix == "realistic":
        build_realistic_backups(missing, content_mb)
    else:
        for variant, path in missing.items():
            build_backup(path, variant, content_mb)
    names = ", ".join(path.name for path in missing.values())
    print(f"generated {names} in {time.perf_counter() - started:.0f} s", flush=True)


def report(mix: str, variant: str, content_mb: int, configuration: str, repeats: int) -> None:
    """Measure one backup in one configuration and print its table."""
    path = backup_path(mix, variant, content_mb)
    password = PASSWORD if variant != "none" else None
    kinds = ("reference", "full", "floor", "quick")
    ref, full, floor, quick = (
        run_child(kind, path, password, configuration, repeats) for kind in kinds
    )
    size_mb = path.stat().st_size / 1e6
    print(
        f"\n[{mix} {content_mb} MB content, {variant}, {configuration}] backup {size_mb:.0f} MB, "
        f"{full['entries']} entries, inflate {floor['library']}; median (best) of {repeats}\n"
        f"  reference (securetar+tarfile) {_fmt(ref)}   peak {ref['peak_rss_mb']:.0f} MB\n"
        f"  full check                    {_fmt(full)}   peak {full['peak_rss_mb']:.0f} MB"
        f"   ok={full['ok']}\n"
        f"  floor, 1 thread               {_fmt(floor)}   = decrypt "
        f"{floor['decrypt_seconds']:.2f} + inflate {floor['inflate_seconds']:.2f}\n"
        f"  quick check                   {_fmt(quick, 3)}   peak {quick['peak_rss_mb']:.0f} MB\n"
        f"  full / reference = {full['seconds'] / ref['seconds']:.2f}   "
        f"full / floor = {full['seconds'] / floor['seconds']:.2f}   (wall clock)\n"
        f"  CPU seconds, all threads: reference {ref['cpu_seconds']:.2f}, full "
        f"{full['cpu_seconds']:.2f}, floor {floor['cpu_seconds']:.2f}; "
        f"full / reference = {full['cpu_seconds'] / ref['cpu_seconds']:.2f}, "
        f"full - floor = {full['cpu_seconds'] - floor['cpu_seconds']:.2f} s of our own work",
        flush=True,
    )


def main() -> None:
    """Generate (once) and measure every size, variant and configuration; print tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mix", choices=MIXES, default="realistic")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[400, 2000], metavar="MB",
        help="content sizes in MB (10000 only on request: about 10 GB of disk per variant)",
    )  # fmt: skip
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument(
        "--configs", nargs="+", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS)
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "BACKUP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        password = os.environ.get("BENCH_PASSWORD") or None
        child_main(args.child[0], Path(args.child[1]), password, args.repeats)
        return
    DATA_DIR.mkdir(exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)
    for content_mb in args.sizes:
        ensure_backups(args.mix, args.variants, content_mb)
        for variant in args.variants:
            for configuration in args.configs:
                report(args.mix, variant, content_mb, configuration, args.repeats)


def _fmt(figures: dict[str, object], digits: int = 2) -> str:
    return f"{figures['seconds']:7.{digits}f} s ({figures['best_seconds']:.{digits}f})"


if __name__ == "__main__":
    main()
