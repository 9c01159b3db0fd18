"""Copies read back without our reader: decrypt, new password, file edits, dropped archives."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from securetar import InvalidPasswordError

from backup_inspector.backup_format.backup_metadata import compute_slug
from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    flip_byte,
    member_location,
    random_content,
)
from backup_inspector.inspection import copy_job
from backup_inspector.inspection.backup_overview import open_backup
from backup_inspector.inspection.copy_job import CopyError, CopyRequest, FileEdit, make_copy
from backup_inspector.inspection.progress import CancelToken, JobCancelledError

from .copy_readback import file_sha256, read_back

NEW_PASSWORD = "nëw pässword 7"
KIT_KEY = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23"


def _copy(source: Path, password: str | None, destination: Path, **options) -> copy_job.CopyReport:
    """Make a copy and prove the source did not change."""
    before = file_sha256(source)
    database_dir = destination.parent.parent / "database-check"  # private: /tmp is shared
    database_dir.mkdir(exist_ok=True)
    report = make_copy(
        open_backup(source),
        password,
        CopyRequest(destination=destination, **options),
        database_dir=database_dir,
    )
    assert file_sha256(source) == before
    return report


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder for copies."""
    folder = tmp_path / "copies-out"
    folder.mkdir()
    return folder


def _copy_of_every_encryption(
    three_archive_backup, three_archive_files, encryption_case, password, out_dir, **options
):
    """Copy the three-archive backup of one encryption; the copy must hold the same files."""
    encryption, compressed = encryption_case
    source = three_archive_backup(encryption, compressed)
    secret = password if encryption != "none" else None
    report = _copy(source, secret, out_dir / "copy.tar", **options)
    assert report.check.ok and _leftovers(out_dir) == []
    back = read_back(report.path, options.get("new_password"))
    for archive, files in three_archive_files.items():
        assert back.files(archive) == files
    return source, report, back


def test_decrypt_every_encryption(
    three_archive_backup, three_archive_files, encryption_case, password, out_dir
):
    """A decrypted copy of every encryption holds the same files, unencrypted, with valid metadata."""
    source, _report, back = _copy_of_every_encryption(
        three_archive_backup, three_archive_files, encryption_case, password, out_dir, decrypt=True
    )
    assert set(back.securetar_versions.values()) == {None}
    original = open_backup(source).metadata
    assert back.metadata["protected"] is False and "crypto" not in back.metadata
    assert back.metadata["name"] == f"{original.name} (copy)"
    assert back.metadata["date"] == original.date
    assert back.metadata["slug"] == compute_slug(original.date, back.metadata["name"])
    assert back.metadata["slug"] != original.slug and len(back.metadata["slug"]) == 8


def test_new_password_every_encryption(
    three_archive_backup, three_archive_files, encryption_case, password, out_dir
):
    """A copy with a new password is SecureTar v3 throughout, readable with it by securetar."""
    _source, report, back = _copy_of_every_encryption(
        three_archive_backup,
        three_archive_files,
        encryption_case,
        password,
        out_dir,
        new_password=NEW_PASSWORD,
    )
    assert set(back.securetar_versions.values()) == {3}
    assert back.metadata["protected"] is True and back.metadata["crypto"] == "aes128"
    with pytest.raises(InvalidPasswordError):
        read_back(report.path, password)


def test_emergency_kit_key_as_new_password(three_archive_backup, password, out_dir):
    """An emergency-kit key is a new password like any other: securetar opens the copy with it."""
    report = _copy(three_archive_backup("v2"), password, out_dir / "kit.tar", new_password=KIT_KEY)
    assert read_back(report.path, KIT_KEY).securetar_versions["share"] == 3


def test_every_era_decrypt_and_encrypt_agree(preset, out_dir):
    """For every era, the decrypted and the re-encrypted copy hold identical entries, attributes included."""
    password = preset.password
    plain = _copy(preset.path, password, out_dir / "plain.tar", decrypt=True)
    sealed = _copy(preset.path, password, out_dir / "sealed.tar", new_password=NEW_PASSWORD)
    assert plain.check.ok and sealed.check.ok
    plain_back = read_back(plain.path, None)
    sealed_back = read_back(sealed.path, NEW_PASSWORD)
    assert plain_back.entries == sealed_back.entries
    assert set(plain_back.entries) == {a.name for a in open_backup(preset.path).archives}
    for archive in open_backup(preset.path).archives:
        if archive.encryption.value in ("none", "securetar-v2", "securetar-v3"):
            source_back = read_back(preset.path, password)
            assert source_back.entries[archive.name] == plain_back.entries[archive.name]


def test_drop_only_copies_other_archives_byte_for_byte(three_archive_backup, password, out_dir):
    """Dropping share: it is gone from the file and the metadata; the others are the same bytes."""
    source = three_archive_backup("v3")
    report = _copy(source, password, out_dir / "dropped.tar", drop=("share",))
    assert report.dropped == [
        {"name": "share", "archive": "share.tar.gz", "label": "the share folder"}
    ]
    back = read_back(report.path, password)
    original = read_back(source, password)
    assert "share" not in back.entries
    assert "share" not in back.metadata["folders"] and "ssl" in back.metadata["folders"]
    assert back.metadata["type"] == "partial"
    assert back.metadata["protected"] is True
    for name in ("./homeassistant.tar.gz", "./ssl.tar.gz", "homeassistant.tar.gz", "ssl.tar.gz"):
        if name in original.raw_members:
            assert back.raw_members[name] == original.raw_members[name]


@pytest.mark.parametrize("encryption", ["none", "v3", "v1-legacy"])
def test_replace_keeps_every_other_entry(
    build_backup, linked_entries, password, encryption, tmp_path
):
    """Replacing one file: others keep names, modes, times, owners and links; other archives are untouched."""
    entries = [
        *linked_entries,
        FileSpec(
            "data/owned.txt", content=b"x", mode=0o600, uid=1000, gid=1000, uname="pi", gname="pi"
        ),
    ]
    source = build_backup(
        "linked.tar",
        [
            ArchiveSpec("homeassistant", entries, encryption=encryption),
            ArchiveSpec("share", {"notes.txt": b"notes\n"}, encryption=encryption),
        ],
    )
    secret = password if encryption != "none" else None
    new_file = tmp_path / "new-readme.txt"
    new_file.write_bytes(b"the new version\n")
    report = _copy(
        source,
        secret,
        tmp_path / "replaced.tar",
        edits=(FileEdit("homeassistant", "other/readme.txt", new_file),),
    )
    back = read_back(report.path, secret)
    assert back.files("homeassistant")["other/readme.txt"] == b"the new version\n"
    assert report.changed == [
        {"archive": "homeassistant.tar.gz", "path": "other/readme.txt", "action": "replaced"}
    ]
    expected_version = 3 if encryption != "none" else None
    assert back.securetar_versions["homeassistant"] == expected_version
    if encryption in ("none", "v3"):
        original = read_back(source, secret)
        before = dict(original.entries["homeassistant"])
        after = dict(back.entries["homeassistant"])
        old, new = before.pop("other/readme.txt"), after.pop("other/readme.txt")
        assert before == after
        assert (new.mode, new.uid, new.uname) == (old.mode, old.uid, old.uname)
        assert back.raw_members["share.tar.gz"] == original.raw_members["share.tar.gz"]


def test_add_and_delete(three_archive_backup, three_archive_files, password, out_dir, tmp_path):
    """A file added and one deleted: exactly those differ, in the one archive named."""
    source = three_archive_backup("v2")
    added = tmp_path / "automations.yaml"
    added.write_bytes(b"- alias: new\n")
    report = _copy(
        source,
        password,
        out_dir / "edited.tar",
        edits=(
            FileEdit("homeassistant", "data/automations.yaml", added),
            FileEdit("homeassistant", "data/.storage/core.config_entries", None),
        ),
    )
    back = read_back(report.path, password)
    expected = dict(three_archive_files["homeassistant"])
    del expected["data/.storage/core.config_entries"]
    expected["data/automations.yaml"] = b"- alias: new\n"
    assert back.files("homeassistant") == expected
    assert back.files("share") == three_archive_files["share"]
    assert back.securetar_versions == {"homeassistant": 3, "share": 2, "ssl": 2}
    assert {c["action"] for c in report.changed} == {"added", "deleted"}


def test_delete_of_missing_path_fails_and_leaves_nothing(three_archive_backup, out_dir):
    """Deleting a path the archive does not have fails loudly; no file is left."""
    source = three_archive_backup("none")
    with pytest.raises(CopyError, match="nothing to delete"):
        _copy(source, None, out_dir / "x.tar", edits=(FileEdit("share", "nope.txt", None),))
    assert list(out_dir.iterdir()) == []


def test_damaged_archive_refused_unless_dropped(
    three_archive_backup, password, out_dir, fresh_copy
):
    """A damaged share fails every copy that keeps it (nothing left behind); dropping it works."""
    source = fresh_copy(three_archive_backup("v3"))
    offset, size = member_location(source, "share.tar.gz")
    flip_byte(source, offset + size // 2)
    with pytest.raises(CopyError, match="share"):
        _copy(source, password, out_dir / "a.tar", decrypt=True)
    with pytest.raises(CopyError, match="did not pass its check") as caught:
        _copy(source, password, out_dir / "b.tar")  # byte copy: the copy's check finds it
    assert caught.value.check is not None and not caught.value.check.ok
    assert list(out_dir.iterdir()) == []
    report = _copy(source, password, out_dir / "c.tar", drop=("share",), decrypt=True)
    assert report.check.ok and "share" not in read_back(report.path, None).entries


def test_wrong_password_refused(three_archive_backup, out_dir):
    """A wrong source password stops the copy before anything is written."""
    with pytest.raises(CopyError, match="password"):
        _copy(three_archive_backup("v3"), "wrong", out_dir / "x.tar", decrypt=True)
    assert list(out_dir.iterdir()) == []


@pytest.mark.timeout(120)
def test_cancel_mid_copy_removes_partial(build_backup, out_dir):
    """Cancel after the first megabytes: JobCancelledError, no partial file, source unchanged."""
    big = {"big.bin": random_content("big")(0, 6 * 1024 * 1024)}
    source = build_backup("big.tar", [ArchiveSpec("share", big)])
    before = file_sha256(source)
    cancel = CancelToken()
    seen: list[int] = []

    def progress(update) -> None:
        seen.append(update.done_bytes)
        if update.done_bytes > 2 * 1024 * 1024:
            cancel.cancel()

    with pytest.raises(JobCancelledError):
        make_copy(
            open_backup(source),
            None,
            CopyRequest(destination=out_dir / "c.tar", decrypt=True),
            progress=progress,
            cancel=cancel,
        )
    assert list(out_dir.iterdir()) == []
    assert file_sha256(source) == before
    assert max(seen) < 6 * 1024 * 1024  # it stopped mid-copy


class _DiskFullAfter:
    """A file wrapper whose writes fail with ENOSPC once `limit` bytes were written."""

    def __init__(self, handle, limit: int) -> None:
        self._handle = handle
        self._left = limit

    def write(self, data) -> int:
        if len(data) > self._left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._left -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()


@pytest.mark.parametrize("operation", [{"decrypt": True}, {"drop": ("ssl",)}])
def test_disk_full_mid_copy_removes_partial(
    three_archive_backup, password, out_dir, monkeypatch, operation
):
    """ENOSPC in the middle of writing: the error reaches the caller and the partial file is gone."""
    source = three_archive_backup("v3")
    real_open = copy_job._open_partial

    def failing_open(destination: Path):
        path, handle = real_open(destination)
        return path, _DiskFullAfter(handle, 30_000)

    monkeypatch.setattr(copy_job, "_open_partial", failing_open)
    with pytest.raises(OSError) as caught:
        _copy(source, password, out_dir / "full.tar", **operation)
    assert caught.value.errno == errno.ENOSPC
    assert list(out_dir.iterdir()) == []


def test_existing_destination_is_never_opened(three_archive_backup, out_dir):
    """An existing destination is refused unless overwrite; overwrite replaces it by rename, not in place."""
    source = three_archive_backup("none")
    existing = out_dir / "taken.tar"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        _copy(source, None, existing, drop=("ssl",))
    assert existing.read_bytes() == b"keep me"
    old_inode = existing.stat().st_ino
    keep_link = out_dir / "other-name"
    os.link(existing, keep_link)  # an in-place write would change this one too
    _copy(source, None, existing, drop=("ssl",), overwrite=True)
    assert keep_link.read_bytes() == b"keep me"
    assert existing.stat().st_ino != old_inode


def test_taken_slug_gets_a_new_one(three_archive_backup, out_dir):
    """When the Supervisor-style slug is already used, the copy gets another 8-hex slug."""
    source = three_archive_backup("none")
    overview = open_backup(source)
    usual = compute_slug(overview.metadata.date, f"{overview.metadata.name} (copy)")
    report = _copy(
        source, None, out_dir / "s.tar", name=None, taken_slugs=frozenset({usual}), drop=("ssl",)
    )
    assert report.slug != usual and len(report.slug) == 8
    int(report.slug, 16)


def test_given_name_is_used(three_archive_backup, out_dir):
    """--name wins over "<original> (copy)"."""
    report = _copy(
        three_archive_backup("none"), None, out_dir / "n.tar", name="Before upgrade", decrypt=True
    )
    assert read_back(report.path, None).metadata["name"] == "Before upgrade"
