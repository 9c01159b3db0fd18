"""Shared fixtures: era preset backups written once per session, and small backup builders.

Every backup is a real file on disk, written by the synthetic writer
(`backup_inspector.demo.backup_writer`). Preset backups are shared by many
tests, so they are written once and must never be modified in place: a test
that damages a backup first takes its own copy with `fresh_copy`.

Parametrisation by name (see `pytest_generate_tests`):

* `era_name` — every era preset (the `preset` fixture is its backup);
* `encryption_case` — (writer encryption, gzip?) for every encryption the
  corruption matrix covers: none, v1-legacy gzip, v1-legacy tar, v1-fixed, v2, v3;
* `encrypted_case` — the same without "none".
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    WrittenBackup,
    era_presets,
    random_content,
    write_backup,
)
from backup_inspector.demo.recorder_database import recorder_database_bytes

#: The password of every backup the builders below encrypt (non-ASCII on purpose).
TEST_PASSWORD = "Tëst pässword 42"

#: Writer encryption name -> the engine's (and the JSON contract's) name.
ENGINE_ENCRYPTION = {
    "none": "none",
    "v1-legacy": "securetar-v1",
    "v1-fixed": "securetar-v1",
    "v2": "securetar-v2",
    "v3": "securetar-v3",
}

_ENCRYPTION_CASES = [
    pytest.param(("none", True), id="none"),
    pytest.param(("v1-legacy", True), id="v1-legacy-gzip"),
    pytest.param(("v1-legacy", False), id="v1-legacy-tar"),
    pytest.param(("v1-fixed", True), id="v1-fixed"),
    pytest.param(("v2", True), id="v2"),
    pytest.param(("v3", True), id="v3"),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the named fixtures described in the module docstring.

    A test that parametrises one of these names itself keeps its own values.
    """
    own = {
        name
        for marker in metafunc.definition.iter_markers("parametrize")
        for name in (
            marker.args[0].split(",") if isinstance(marker.args[0], str) else marker.args[0]
        )
    }
    wanted = {
        "era_name": list(era_presets()),
        "encryption_case": _ENCRYPTION_CASES,
        "encrypted_case": [c for c in _ENCRYPTION_CASES if c.values[0][0] != "none"],
    }
    for name, values in wanted.items():
        if name in metafunc.fixturenames and name not in {n.strip() for n in own}:
            metafunc.parametrize(name, values)


# --------------------------------------------------------------------------
# Era presets
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def era_backups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WrittenBackup]:
    """Every era preset, written once into a session folder (read-only for tests)."""
    directory = tmp_path_factory.mktemp("era-presets")
    return {name: writer(directory) for name, writer in era_presets().items()}


@pytest.fixture
def preset(era_backups: dict[str, WrittenBackup], era_name: str) -> WrittenBackup:
    """The shared preset backup named by the `era_name` parameter."""
    return era_backups[era_name]


@pytest.fixture
def fresh_copy(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a shared backup into this test's folder, so it may be damaged."""

    def copy(source: Path) -> Path:
        target = tmp_path / "copies" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    return copy


@pytest.fixture(scope="session")
def encryption_names() -> dict[str, str]:
    """Writer encryption name -> the name the engine reports ("securetar-v1", ...)."""
    return dict(ENGINE_ENCRYPTION)


# --------------------------------------------------------------------------
# Small backups built per test
# --------------------------------------------------------------------------


def _homeassistant_files() -> dict[str, bytes]:
    """A small /config: text that compresses, and a real recorder database (random context ids)."""
    return {
        "data/configuration.yaml": b"default_config:\nhomeassistant:\n  name: Home\n" * 20,
        "data/.storage/core.config_entries": b'{"version": 1, "data": {"entries": []}}\n',
        "data/home-assistant_v2.db": recorder_database_bytes(rows=300),
    }


def _share_files() -> dict[str, bytes]:
    """The share folder: notes and three incompressible pictures."""
    files = {"notes.txt": b"Shopping list: milk, coffee, batteries.\n"}
    for index in range(3):
        picture = random_content(f"snapshot-{index}")(0, 20_000)
        files[f"camera/snapshot_{index}.jpg"] = b"\xff\xd8\xff\xe0" + picture
    return files


def _ssl_files() -> dict[str, bytes]:
    """The ssl folder: a fake certificate pair."""
    return {
        "fullchain.pem": b"-----BEGIN CERTIFICATE-----\n" + b"QUJD" * 200 + b"\n",
        "privkey.pem": b"-----BEGIN PRIVATE KEY-----\n" + b"REVG" * 100 + b"\n",
    }


_THREE_ARCHIVES: dict[str, Callable[[], dict[str, bytes]]] = {
    "homeassistant": _homeassistant_files,
    "share": _share_files,
    "ssl": _ssl_files,
}


@pytest.fixture(scope="session")
def password() -> str:
    """The password of the backups built by `three_archive_backup` and `build_backup`."""
    return TEST_PASSWORD


@pytest.fixture(scope="session")
def three_archive_files() -> dict[str, dict[str, bytes]]:
    """Archive name -> {path: content} of `three_archive_backup`, in write order."""
    return {name: files() for name, files in _THREE_ARCHIVES.items()}


@pytest.fixture
def three_archive_backup(
    tmp_path: Path, three_archive_files: dict[str, dict[str, bytes]]
) -> Callable[..., Path]:
    """Build homeassistant + share + ssl, all in one encryption, backup.json last.

    Returns a function (encryption, compressed=True, **write_backup options)
    -> path; each call writes a new file into the test's folder. Parent
    folders get their own entries, and each archive starts with ".".
    """
    counter = [0]

    def build(encryption: str, compressed: bool = True, **options: Any) -> Path:
        counter[0] += 1
        archives = [
            ArchiveSpec(name, files, encryption=encryption, compressed=compressed)
            for name, files in three_archive_files.items()
        ]
        if encryption != "none":
            options.setdefault("password", TEST_PASSWORD)
        path = tmp_path / f"three-{encryption}-{counter[0]}.tar"
        return write_backup(path, archives, **options)

    return build


@pytest.fixture
def build_backup(tmp_path: Path) -> Callable[..., Path]:
    """Write a backup of the given ArchiveSpecs into the test's folder.

    Returns a function (file_name, archives, **write_backup options) -> path;
    the password defaults to TEST_PASSWORD when any archive is encrypted.
    """

    def build(file_name: str, archives: Sequence[ArchiveSpec], **options: Any) -> Path:
        if "password" not in options and any(a.is_encrypted for a in archives):
            options["password"] = TEST_PASSWORD
        return write_backup(tmp_path / file_name, archives, **options)

    return build


@pytest.fixture(scope="session")
def linked_entries() -> list[FileSpec]:
    """Entries with two hard links, a relative symlink, a long and a non-ASCII name."""
    long_folder = "deep/" + "d" * 120
    return [
        FileSpec("data", type="dir"),
        FileSpec("data/target.bin", content=random_content("target")(0, 5000)),
        FileSpec("data/link_a", type="hardlink", link_target="data/target.bin"),
        FileSpec("data/link_b", type="hardlink", link_target="data/target.bin"),
        FileSpec("data/current", type="symlink", link_target="target.bin"),
        FileSpec("deep", type="dir"),
        FileSpec(long_folder, type="dir"),
        FileSpec(f"{long_folder}/{'ü' * 70}.txt", content=b"a name longer than 100 bytes\n"),
        FileSpec("naïve café", type="dir"),
        FileSpec("naïve café/日本語.txt", content="こんにちは\n".encode()),
        FileSpec("other", type="dir"),
        FileSpec("other/readme.txt", content=b"other\n"),
    ]


@pytest.fixture(scope="session")
def duplicate_entries() -> list[FileSpec]:
    """Entries where "notes/a.txt" occurs twice, with a hard link to the first copy in between.

    The first copy is longer than the last, so a length taken from one copy
    and bytes from the other cannot go unnoticed.
    """
    return [
        FileSpec("notes", type="dir"),
        FileSpec("notes/a.txt", content=b"first copy of the note, longer than the last\n"),
        FileSpec("notes/link", type="hardlink", link_target="notes/a.txt"),
        FileSpec("notes/a.txt", content=b"last copy\n"),
        FileSpec("notes/z.txt", content=b"after\n"),
    ]


def _links_leading_outside(root: Path) -> list[str]:
    """Every symbolic link below `root` whose target resolves outside it (relative paths)."""
    real_root = os.path.realpath(root)
    found = []
    for folder, dirs, names in os.walk(root):
        for name in (*dirs, *names):
            path = os.path.join(folder, name)
            real = os.path.realpath(path)
            if (
                os.path.islink(path)
                and real != real_root
                and not real.startswith(real_root + os.sep)
            ):
                found.append(os.path.relpath(path, root))
    return found


@pytest.fixture(scope="session")
def links_outside() -> Callable[[Path], list[str]]:
    """A function listing the links below a folder that resolve outside it."""
    return _links_leading_outside
