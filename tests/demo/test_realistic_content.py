"""Realistic backup content (bench): what each kind of content is, and that it streams."""

from __future__ import annotations

import sqlite3
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest

from backup_inspector.demo.entry_specs import FileSpec
from backup_inspector.demo.outer_tar import write_backup
from backup_inspector.demo.realistic_content import (
    entity_ids,
    jpeg_like,
    mp4_like,
    realistic_archives,
    write_recorder_database,
)
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.check_job import full_check

MIB = 1024 * 1024


def test_recorder_database_is_sqlite_with_recorder_rows(tmp_path: Path) -> None:
    """sqlite3 wrote it; states, events and statistics are there, entity ids repeat."""
    path = tmp_path / "home-assistant_v2.db"
    size = write_recorder_database(path, 2 * MIB)
    assert size >= 2 * MIB
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        states, entities = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT metadata_id) FROM states"
        ).fetchone()
        events = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        statistics = connection.execute("SELECT COUNT(*) FROM statistics").fetchone()[0]
        attributes = connection.execute(
            "SELECT shared_attrs FROM state_attributes LIMIT 1"
        ).fetchone()[0]
    assert states > 10 * entities and entities <= len(entity_ids())
    assert events > 0 and statistics > 0
    assert attributes.startswith("{") and "friendly_name" in attributes


def test_recorder_database_compresses_like_a_real_one(tmp_path: Path) -> None:
    """gzip level 6 makes it 3-5.5 times smaller (real recorder databases: about 3-5)."""
    path = tmp_path / "home-assistant_v2.db"
    write_recorder_database(path, 4 * MIB)
    data = path.read_bytes()
    assert 3.0 <= len(data) / len(zlib.compress(data, 6)) <= 5.5


@pytest.mark.parametrize("maker", [jpeg_like, mp4_like])
def test_media_do_not_compress_and_read_the_same_at_any_offset(maker) -> None:
    """Random payload: deflate gains nothing; a piece read at an offset equals the same slice."""
    size = 3 * MIB + 17
    generate = maker("camera/clip", size)
    whole = generate(0, size)
    assert len(whole) == size
    assert len(zlib.compress(whole, 6)) > 0.99 * size
    assert generate(MIB - 5, 4096) == whole[MIB - 5 : MIB - 5 + 4096]
    assert generate(size - 3, 3) == whole[-3:]


def test_media_carry_plausible_headers() -> None:
    """JPEG: SOI, JFIF, EOI. MP4: ftyp box, then an mdat box that runs to the end."""
    photo = jpeg_like("p", 100_000)(0, 100_000)
    assert photo[:2] == b"\xff\xd8" and photo[6:11] == b"JFIF\x00" and photo[-2:] == b"\xff\xd9"
    clip = mp4_like("c", 100_000)(0, 100_000)
    (ftyp_size,) = struct.unpack(">I", clip[:4])
    assert clip[4:8] == b"ftyp"
    (mdat_size,) = struct.unpack(">I", clip[ftyp_size : ftyp_size + 4])
    assert clip[ftyp_size + 4 : ftyp_size + 8] == b"mdat"
    assert ftyp_size + mdat_size == len(clip)


def test_large_media_stream_in_bounded_memory() -> None:
    """Reading a 256 MB recording the way tarfile does keeps Python's peak under 8 MB."""
    size = 256 * MIB
    reader = FileSpec("camera/big.mp4", size=size, generator=mp4_like("big", size)).open_content()
    tracemalloc.start()
    try:
        total = 0
        while chunk := reader.read(16 * 1024):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 8 * MIB


@pytest.mark.timeout(120)
def test_realistic_backup_passes_the_full_check(tmp_path: Path) -> None:
    """A small realistic backup (v3) is a correct backup: the full check, database step included."""
    archives = realistic_archives(tmp_path, 12 * 1000 * 1000, "v3")
    content = sum(spec.content_size for archive in archives for spec in archive.file_specs())
    small_files = [
        spec
        for archive in archives
        for spec in archive.file_specs()
        if "/node_modules/" in spec.path and spec.type == "file"
    ]
    backup = tmp_path / "realistic.tar"
    write_backup(backup, archives, password="pw")
    report = full_check(open_backup(backup), "pw")
    assert report.ok, report.problems
    assert 0.9 * 12e6 <= content <= 1.15 * 12e6
    assert len(small_files) > 100
