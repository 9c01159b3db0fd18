"""A backup pays for a bounded number of Argon2id key derivations (issue 9, finding 20).

Home Assistant writes one v3 root salt per backup, so one derivation opens
every archive. A crafted backup whose archives each bring their own salt
must not cost one derivation per archive.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import securetar

from backup_inspector.backup_format.archive_keys import MAX_V3_ROOT_SALTS
from backup_inspector.backup_format.findings import FindingCode
from backup_inspector.demo.backup_writer import ArchiveSpec, write_backup
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.check_job import full_check, quick_check

PASSWORD = "Tëst pässword 42"
ARCHIVE_COUNT = MAX_V3_ROOT_SALTS + 3


def _v3_archive_with_its_own_salt(scratch: Path, slug: str) -> bytes:
    """The bytes of one v3 inner archive, written in a backup of its own (so its own root salt)."""
    single = write_backup(
        scratch / f"{slug}.tar",
        [ArchiveSpec(slug, {"config.yaml": f"{slug}: on\n".encode()}, encryption="v3")],
        password=PASSWORD,
        metadata=None,
    )
    with tarfile.open(single) as outer:
        member = outer.getmember(f"{slug}.tar.gz")
        data = outer.extractfile(member)
        assert data is not None
        return data.read()


def _backup_of_many_salts(path: Path, count: int) -> Path:
    """A backup of `count` add-on archives, each encrypted under its own v3 root salt."""
    slugs = [f"core_addon{index}" for index in range(count)]
    members = {f"{slug}.tar.gz": _v3_archive_with_its_own_salt(path.parent, slug) for slug in slugs}
    metadata = {
        "slug": "1a2b3c4d",
        "version": 2,
        "name": "Many salts",
        "date": "2026-01-02T03:04:05+00:00",
        "type": "partial",
        "protected": True,
        "homeassistant": None,
        "folders": [],
        "addons": [{"slug": slug, "name": slug, "version": "1.0"} for slug in slugs],
    }
    members["./backup.json"] = json.dumps(metadata).encode()
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as outer:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            outer.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def count_derivations(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """Count the Argon2id runs securetar makes (its `kdf`) from now on."""
    calls = [0]
    real_kdf = securetar.kdf

    def counting_kdf(*args: Any, **kwargs: Any) -> bytes:
        calls[0] += 1
        return real_kdf(*args, **kwargs)

    monkeypatch.setattr(securetar, "kdf", counting_kdf)
    yield lambda: calls[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("check", [quick_check, full_check], ids=["quick", "full"])
def test_archives_beyond_the_salt_bound_are_reported_not_derived(
    tmp_path: Path, count_derivations: Callable[[], int], check: Callable[..., Any]
) -> None:
    """7 archives with 7 salts: 4 derivations, 4 archives read, 3 archive-corrupt that say why."""
    path = _backup_of_many_salts(tmp_path / "salts.tar", ARCHIVE_COUNT)
    overview = open_backup(path)
    before = count_derivations()
    report = check(overview, PASSWORD)
    assert count_derivations() - before == MAX_V3_ROOT_SALTS
    assert not report.ok
    verdicts = {archive.archive.name: archive.ok for archive in report.archives}
    assert sum(verdicts.values()) == MAX_V3_ROOT_SALTS
    corrupt = [p for p in report.problems if p.code == FindingCode.ARCHIVE_CORRUPT]
    assert len(corrupt) == ARCHIVE_COUNT - MAX_V3_ROOT_SALTS
    assert {p.archive for p in corrupt} == {name for name, ok in verdicts.items() if not ok}
    for problem in corrupt:
        assert "uses a different key salt than the rest of the backup" in problem.message
        assert "Home Assistant never writes that" in problem.message
    # Nothing else is wrong with the bytes (the restore rehearsal judges the metadata apart).
    read_problems = report.backup_problems + [p for a in report.archives for p in a.problems]
    assert [p.code for p in read_problems if p.code != FindingCode.ARCHIVE_CORRUPT] == []


def test_a_real_backup_derives_its_key_once(
    three_archive_backup: Callable[..., Path], count_derivations: Callable[[], int]
) -> None:
    """Three v3 archives sharing the backup's root salt cost one derivation and all pass."""
    overview = open_backup(three_archive_backup("v3"))
    before = count_derivations()
    report = full_check(overview, PASSWORD)
    assert count_derivations() - before == 1
    assert report.ok, [p.message for p in report.problems]
