"""`find` and `diff`: issue 13's JSON shapes and diff(1)'s exit codes, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backup_inspector.cli.main import main
from backup_inspector.demo.history_folder import CONFIG_A, PASSWORD, write_history_folder

VERSION_KEYS = {"backup", "slug", "name", "date", "archive", "path", "size", "mtime", "sha256"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed folder of backups, written once for the module."""
    return write_history_folder(tmp_path_factory.mktemp("cli-history"))


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved file lists go to a per-test cache, never the user's; no password from outside."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BACKUP_PASSWORD", raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command."""
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_find_json_is_a_list_of_versions_oldest_first(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With BACKUP_PASSWORD every backup is searched; the rows have exactly the contract's keys."""
    monkeypatch.setenv("BACKUP_PASSWORD", PASSWORD)
    code, out, err = run(capsys, "find", folder, "configuration.yaml", "--json")
    assert (code, err) == (0, "")
    versions = json.loads(out)
    assert all(set(version) == VERSION_KEYS for version in versions)
    assert [v["slug"] for v in versions] == ["old2021", "mid2024", "enc2025", "new2026"]
    assert [v["date"] for v in versions] == sorted(v["date"] for v in versions)


def test_find_names_locked_backups_and_groups_in_text(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a password the encrypted backup is named on stderr; text shows content groups."""
    code, out, err = run(capsys, "find", folder, "configuration.yaml")
    assert code == 0
    assert "not searched: enc2025.tar (password-required)" in err
    assert (
        out.splitlines()[0] == "homeassistant/configuration.yaml: 3 versions, 2 different contents"
    )
    assert "old2021.tar" in out and "unchanged in the 1 backup after it" in out


def test_find_without_matches_exits_1_and_bad_folder_2(
    folder: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No match: 1, like grep; a missing folder or empty pattern: 2."""
    assert run(capsys, "find", folder, "nothing-like-this.txt", "--json")[:2] == (1, "[]\n")
    assert run(capsys, "find", tmp_path / "missing", "x")[0] == 2
    assert run(capsys, "find", folder, "/")[0] == 2


def test_diff_of_one_file_prints_a_unified_diff_with_diff_exit_codes(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Different: 1 and a unified diff; equal (across the data/ prefix): 0 and nothing; absent: 2."""
    code, out, _ = run(
        capsys,
        "diff",
        folder / "old2021.tar",
        folder / "new2026.tar",
        "homeassistant",
        "data/configuration.yaml",
    )
    assert code == 1
    assert out.splitlines()[:2] == [
        "--- old2021.tar:homeassistant/configuration.yaml",
        "+++ new2026.tar:homeassistant/data/configuration.yaml",
    ]
    assert "+  unit_system: metric" in out.splitlines()
    equal = run(
        capsys,
        "diff",
        folder / "old2021.tar",
        folder / "mid2024.tar",
        "homeassistant",
        "configuration.yaml",
    )
    assert equal[:2] == (0, "")
    missing = run(
        capsys, "diff", folder / "old2021.tar", folder / "mid2024.tar", "homeassistant", "nope.yaml"
    )
    assert missing[0] == 2 and "has no file 'nope.yaml'" in missing[2]


def test_diff_of_one_file_json_has_kind_sizes_and_hashes(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json with a PATH: equal, kind, both sides' sizes and hashes, and the diff lines."""
    code, out, _ = run(
        capsys,
        "diff",
        folder / "mid2024.tar",
        folder / "new2026.tar",
        "homeassistant",
        "configuration.yaml",
        "--json",
    )
    shown = json.loads(out)
    assert code == 1
    assert (shown["equal"], shown["kind"], shown["old"]["size"]) == (False, "text", len(CONFIG_A))
    assert shown["diff"][0].startswith("--- mid2024.tar")


def test_diff_of_an_archive_json_contract(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without PATH: added, removed and changed (path, old_size, new_size); 1 when different."""
    code, out, _ = run(
        capsys, "diff", folder / "mid2024.tar", folder / "new2026.tar", "homeassistant", "--json"
    )
    shown = json.loads(out)
    assert code == 1
    assert set(shown) == {"added", "removed", "changed"}
    assert [c["path"] for c in shown["changed"]] == [
        "data/automations.yaml",
        "data/configuration.yaml",
    ]
    assert all(set(c) == {"path", "old_size", "new_size"} for c in shown["changed"])
    same = run(
        capsys, "diff", folder / "old2021.tar", folder / "mid2024.tar", "homeassistant", "--json"
    )
    assert same[0] == 0 and json.loads(same[1]) == {"added": [], "removed": [], "changed": []}


def test_diff_of_whole_backups_per_archive_and_locked_is_2(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole backups: per archive lists plus metadata; an archive that cannot be opened gives 2."""
    code, out, err = run(capsys, "diff", folder / "mid2024.tar", folder / "enc2025.tar", "--json")
    assert code == 2 and "not compared: homeassistant" in err
    monkeypatch.setenv("BACKUP_PASSWORD", PASSWORD)
    code, out, _ = run(capsys, "diff", folder / "mid2024.tar", folder / "enc2025.tar", "--json")
    shown = json.loads(out)
    assert code == 1
    assert set(shown["archives"]) == {"homeassistant", "share"}
    assert shown["archives"]["homeassistant"]["changed"][0]["path"] == "data/automations.yaml"
    assert {"field": "protected", "old": False, "new": True} in shown["metadata"]
