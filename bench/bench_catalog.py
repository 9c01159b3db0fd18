"""Benchmark: listing a backup folder of 30 backups totalling 10 GB (headers and metadata only).

Prints figures; asserts nothing. The folder is generated once into
bench/.data/catalog/ (git-ignored) and reused.

The backups are SPARSE, to avoid writing 10 GB: each is a real backup (10
unencrypted, 10 SecureTar v2, 10 v3) whose two large inner archives
(homeassistant and share) are re-emitted with a large size in their tar
header, followed by the first 64 KiB of their real (encrypted) gzip stream;
the rest of their data region is a hole in the file. Every header, the
metadata and the start of every inner archive are real bytes, which is all a
folder listing reads; reading a hole costs no disk I/O, so these figures are
for a warm page cache and say nothing about a cold SD card.

Measured in fresh processes, with the real code: the web layer's
BackupRegistry.refresh (what GET /api/backups does first), `open_backup` for
each file, and GET /api/backups end to end through the aiohttp app.

    .venv/bin/python bench/bench_catalog.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / ".data"
CATALOG_DIR = DATA_DIR / "catalog"
TEMPLATE_DIR = DATA_DIR / "catalog-templates"
PASSWORD = "bench-password"
BACKUP_COUNT = 30
TOTAL_BYTES = 10 * 1024**3
REAL_PREFIX_BYTES = 64 * 1024  # real bytes kept at the start of each enlarged archive
ENLARGED = {"homeassistant.tar.gz": 0.7, "share.tar.gz": 0.3}  # share of a backup's size
ENCRYPTIONS = ("none", "v2", "v3")
BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
REPEATS = 5


# ---------------------------------------------------------------- generation
def template_path(encryption: str) -> Path:
    """The small real backup a variant's sparse backups are made from."""
    return TEMPLATE_DIR / f"template_{encryption}.tar"


def build_template(encryption: str) -> Path:
    """A real backup with incompressible archives larger than REAL_PREFIX_BYTES."""
    from backup_inspector.demo.backup_writer import (  # noqa: PLC0415
        ArchiveSpec,
        FileSpec,
        random_content,
        write_backup,
    )

    def archive(name: str, files: int, size: int) -> ArchiveSpec:
        specs = [FileSpec("data", type="dir")] + [
            FileSpec(f"data/file_{n:03d}.bin", size=size, generator=random_content(f"{name}{n}"))
            for n in range(files)
        ]
        return ArchiveSpec(name, specs, encryption=encryption)  # type: ignore[arg-type]

    archives = [
        archive("homeassistant", 40, 8192),
        archive("core_mosquitto", 3, 2048),
        archive("core_ssh", 3, 2048),
        archive("share", 40, 8192),
        archive("ssl", 2, 1024),
    ]
    TEMPLATE_DIR.mkdir(parents=True, exist_ok=True)
    path = template_path(encryption)
    write_backup(path, archives, password=PASSWORD if encryption != "none" else None)
    return path


def _padded(size: int) -> int:
    """`size` rounded up to whole tar blocks."""
    return -(-size // BLOCK) * BLOCK


def write_sparse_copy(template: Path, target: Path, number: int, backup_bytes: int) -> None:
    """Re-emit `template` with enlarged, mostly-hole big archives and its own name and date."""
    with tarfile.open(template, "r:") as source, target.open("wb") as out:
        for member in source.getmembers():
            handle = source.extractfile(member)
            data = handle.read() if handle is not None else b""
            info = tarfile.TarInfo(member.name)
            info.mode, info.mtime, info.type = member.mode, member.mtime, member.type
            info.pax_headers = dict(member.pax_headers)
            base_name = member.name.removeprefix("./")
            if base_name == "backup.json":
                data = _renamed_metadata(data, number)
                info.size = len(data)
                out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
                out.write(data + bytes(_padded(len(data)) - len(data)))
            elif base_name in ENLARGED:
                info.size = int(backup_bytes * ENLARGED[base_name])
                out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
                data_start = out.tell()
                out.write(data[:REAL_PREFIX_BYTES])
                out.seek(data_start + _padded(info.size))  # the rest is a hole
            else:
                info.size = len(data)
                out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
                out.write(data + bytes(_padded(len(data)) - len(data)))
        end = out.tell() + 2 * BLOCK  # the end-of-archive blocks are zeros: a hole too
        out.truncate(-(-end // RECORD) * RECORD)


def _renamed_metadata(data: bytes, number: int) -> bytes:
    """The template's backup.json with this copy's name, slug and date."""
    metadata = json.loads(data)
    metadata["name"] = f"Bench backup {number:02d}"
    metadata["slug"] = f"bench{number:04d}"
    metadata["date"] = f"2026-10-{number + 1:02d}T03:00:00.000000+00:00"
    return json.dumps(metadata, separators=(",", ":")).encode()


def build_catalog() -> None:
    """30 sparse backups whose sizes grow from small to large and add up to 10 GB."""
    CATALOG_DIR.mkdir(parents=True, exist_ok=True)
    templates = {encryption: build_template(encryption) for encryption in ENCRYPTIONS}
    weights = list(range(1, BACKUP_COUNT + 1))
    for number, weight in enumerate(weights):
        encryption = ENCRYPTIONS[number % len(ENCRYPTIONS)]
        backup_bytes = TOTAL_BYTES * weight // sum(weights)
        target = CATALOG_DIR / f"bench_{number:02d}_{encryption}.tar"
        write_sparse_copy(templates[encryption], target, number, backup_bytes)


def catalog_files() -> list[Path]:
    """The generated backups."""
    return sorted(CATALOG_DIR.glob("*.tar"))


# ---------------------------------------------------------------- measurements (in children)
def measure_registry() -> dict[str, Any]:
    """BackupRegistry.refresh in a fresh process: first scan, then a rescan with no change."""
    from backup_inspector.web.backup_registry import BackupRegistry  # noqa: PLC0415

    registry = BackupRegistry(CATALOG_DIR)
    started = time.perf_counter()
    changed = registry.refresh()
    first = time.perf_counter() - started
    rescans = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        registry.refresh()
        rescans.append(time.perf_counter() - started)
    known = registry.backups()
    return {
        "first_s": first,
        "rescan_s": statistics.median(rescans),
        "backups": len(changed),
        "opened": sum(1 for backup in known if backup.overview is not None),
        "archives": sum(len(backup.overview.archives) for backup in known if backup.overview),
    }


def measure_open_backup() -> dict[str, Any]:
    """open_backup for each file, in a fresh process, then again (warm)."""
    from backup_inspector.inspection.backup_overview import open_backup  # noqa: PLC0415

    files = catalog_files()
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        overviews = [open_backup(path) for path in files]
        runs.append(time.perf_counter() - started)
    protected = sum(1 for overview in overviews if overview.is_protected)
    return {"first_s": runs[0], "median_s": statistics.median(runs[1:]), "protected": protected}


def measure_http() -> dict[str, Any]:
    """GET /api/backups through the aiohttp app: first request (scan) and a repeated one."""
    from aiohttp.test_utils import TestClient, TestServer  # noqa: PLC0415

    from backup_inspector.web.app_factory import create_app  # noqa: PLC0415
    from backup_inspector.web.web_settings import WebSettings  # noqa: PLC0415

    async def run() -> dict[str, Any]:
        settings = WebSettings(backup_dir=CATALOG_DIR, share_dir=DATA_DIR, data_dir=None)
        app = create_app(settings)
        started = time.perf_counter()
        async with TestClient(TestServer(app)) as client:  # startup scans the folder once
            startup = time.perf_counter() - started
            timings = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                response = await client.get("/api/backups")
                body = await response.json()
                timings.append(time.perf_counter() - started)
        return {
            "startup_s": startup,
            "request_s": statistics.median(timings),
            "backups": len(body["backups"]),
        }

    return asyncio.run(run())


MEASUREMENTS = {
    "registry": measure_registry,
    "open_backup": measure_open_backup,
    "http": measure_http,
}


def run_child(kind: str) -> dict[str, Any]:
    """Run a measurement in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def allocated_bytes(files: list[Path]) -> int:
    """Disk space the sparse files really use."""
    return sum(path.stat().st_blocks * 512 for path in files)


def main() -> None:
    """Generate (once) and measure; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", metavar="KIND", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(MEASUREMENTS[args.child]()))
        return
    if len(catalog_files()) != BACKUP_COUNT:
        started = time.perf_counter()
        build_catalog()
        print(f"generated {BACKUP_COUNT} sparse backups in {time.perf_counter() - started:.1f} s")
    files = catalog_files()
    apparent = sum(path.stat().st_size for path in files)
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}\n"
        f"folder: {len(files)} backups, {apparent / 1024**3:.2f} GiB apparent size, "
        f"{allocated_bytes(files) / 1024**2:.1f} MiB on disk\n"
        "NOTE: the backups are sparse: the two large inner archives of each keep their real\n"
        "      tar header and first 64 KiB of real (encrypted) gzip stream, the rest is a hole.\n"
        "      Headers and metadata are real; page cache warm."
    )
    registry = run_child("registry")
    opened = run_child("open_backup")
    http = run_child("http")
    print(
        f"  BackupRegistry.refresh, fresh process     {registry['first_s'] * 1000:8.1f} ms   "
        f"({registry['backups']} backups, {registry['opened']} opened, "
        f"{registry['archives']} inner archives)\n"
        f"  BackupRegistry.refresh, nothing changed   {registry['rescan_s'] * 1000:8.2f} ms\n"
        f"  open_backup x {len(files)}, fresh process       {opened['first_s'] * 1000:8.1f} ms   "
        f"({opened['protected']} protected)\n"
        f"  open_backup x {len(files)}, repeated            {opened['median_s'] * 1000:8.1f} ms\n"
        f"  app startup incl. first folder scan       {http['startup_s'] * 1000:8.1f} ms\n"
        f"  GET /api/backups (median of {REPEATS})          {http['request_s'] * 1000:8.1f} ms   "
        f"({http['backups']} backups)"
    )


if __name__ == "__main__":
    main()
