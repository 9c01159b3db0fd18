"""backup_inspector.addon_options: defaults, validation, and agreement with config.yaml."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from backup_inspector.addon_options import (
    LOG_LEVELS,
    PASSWORD_IDLE_MINUTES_MAX,
    PASSWORD_IDLE_MINUTES_MIN,
    SCHEMA_ADDON_OPTIONS,
    SHARE_FOLDER_PATTERN,
    AddonOptions,
    load_addon_options,
)

from . import load_yaml

CONFIG = load_yaml("config.yaml")


def write_options(tmp_path: Path, options: Any) -> Path:
    """An options.json holding the given JSON value."""
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    return path


# --- agreement with config.yaml ------------------------------------------------


def test_schema_keys_match_config_yaml() -> None:
    """The module knows exactly the options config.yaml declares."""
    module_keys = {str(key.schema) for key in SCHEMA_ADDON_OPTIONS.schema}
    assert module_keys == set(CONFIG["schema"])
    assert {field.name for field in fields(AddonOptions)} == set(CONFIG["schema"])


def test_defaults_match_config_yaml() -> None:
    """AddonOptions() holds config.yaml's option defaults, and so does an empty file."""
    assert AddonOptions().__dict__ == {**CONFIG["options"], "backup_password": None}
    assert SCHEMA_ADDON_OPTIONS({}) == CONFIG["options"]


def test_value_rules_match_config_yaml() -> None:
    """Same regex, same integer range, same list of log levels as config.yaml."""
    schema = CONFIG["schema"]
    assert schema["share_folder"] == f"match({SHARE_FOLDER_PATTERN})"
    assert (
        schema["password_idle_minutes"]
        == f"int({PASSWORD_IDLE_MINUTES_MIN},{PASSWORD_IDLE_MINUTES_MAX})"
    )
    assert schema["log_level"] == f"list({'|'.join(LOG_LEVELS)})"
    assert schema["remember_index"] == "bool"
    assert schema["verify_new_backups"] == "bool"


def test_only_the_backup_password_is_a_password() -> None:
    """Exactly one option is secret: the watch's key, optional, masked by Home Assistant."""
    secret = {key for key, spec in CONFIG["schema"].items() if str(spec).startswith("password")}
    assert secret == {"backup_password"}
    assert CONFIG["schema"]["backup_password"] == "password?"


def test_the_backup_password_never_shows_in_a_repr_or_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The key stays out of reprs, and a bad value is named without quoting it."""
    secret = "Sup3r-Secret-Key"
    options = load_addon_options(write_options(tmp_path, {"backup_password": secret}))
    assert options.watch_password == secret
    assert secret not in repr(options)
    with pytest.raises(ValueError) as error:
        load_addon_options(
            write_options(tmp_path, {"backup_password": secret, "log_level": secret})
        )
    assert secret not in str(error.value)
    assert secret not in caplog.text


def test_a_blank_backup_password_means_no_key(tmp_path: Path) -> None:
    """An emptied password field is no key, and a pasted kit gives its key."""
    assert (
        load_addon_options(write_options(tmp_path, {"backup_password": "  "})).watch_password
        is None
    )
    kit = "Emergency kit\nKey: ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ12\n"
    options = load_addon_options(write_options(tmp_path, {"backup_password": kit}))
    assert options.watch_password == "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ12"


# --- loading ---------------------------------------------------------------------


def test_no_path_gives_defaults() -> None:
    """Outside Home Assistant there may be no options file at all."""
    assert load_addon_options(None) == AddonOptions()


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    """A path that does not exist gives the defaults, not an error."""
    assert load_addon_options(tmp_path / "options.json") == AddonOptions()


def test_valid_file_is_read(tmp_path: Path) -> None:
    """Every option is read and typed."""
    path = write_options(
        tmp_path,
        {
            "share_folder": "restore/2026-11",
            "password_idle_minutes": 60,
            "log_level": "debug",
            "remember_index": True,
        },
    )
    options = load_addon_options(path)
    assert options == AddonOptions("restore/2026-11", 60, "debug", True)
    assert options.password_idle_s == 3600.0
    assert options.python_log_level == logging.DEBUG


def test_missing_keys_take_their_defaults(tmp_path: Path) -> None:
    """An options file from an older version lacks new keys: they get defaults."""
    assert load_addon_options(write_options(tmp_path, {"log_level": "error"})) == AddonOptions(
        log_level="error"
    )


def test_values_are_coerced_like_the_supervisor_does(tmp_path: Path) -> None:
    """int(…) takes "30", bool takes "true", as the Supervisor's validators do."""
    options = load_addon_options(
        write_options(tmp_path, {"password_idle_minutes": "30", "remember_index": "true"})
    )
    assert options.password_idle_minutes == 30
    assert options.remember_index is True


def test_unknown_keys_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A leftover option from another version does not stop the app."""
    with caplog.at_level(logging.WARNING, logger="backup_inspector.addon_options"):
        options = load_addon_options(
            write_options(tmp_path, {"old_option": 1, "log_level": "info"})
        )
    assert options == AddonOptions()
    assert "old_option" in caplog.text


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_every_log_level_maps_to_python_logging(level: str) -> None:
    """Each log_level value names a logging level."""
    assert AddonOptions(log_level=level).python_log_level == getattr(logging, level.upper())


@pytest.mark.parametrize(
    "folder",
    ["backup_inspector", "restore/2026-11", "Extracted_files", "a.b-c", "_private", "x/y/z"],
)
def test_plain_relative_folders_are_accepted(tmp_path: Path, folder: str) -> None:
    """Relative sub-folders of /share, nested or not."""
    assert (
        load_addon_options(write_options(tmp_path, {"share_folder": folder})).share_folder == folder
    )


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("/etc", "absolute path"),
        ("/share/backup_inspector", "absolute path"),
        ("..", '".."'),
        ("a/../../b", '".."'),
        ("", "must not be empty"),
        (".hidden", "may only use"),
        ("a/./b", "may only use"),
        ("a//b", "may only use"),
        ("trailing/", "may only use"),
        ("with space", "may only use"),
        ("-dash", "may only use"),
        ("back\\slash", "may only use"),
    ],
)
def test_unsafe_share_folders_are_refused_with_a_reason(
    tmp_path: Path, folder: str, reason: str
) -> None:
    """Anything that could leave /share, or is not a plain name, is refused and explained."""
    with pytest.raises(ValueError, match="share_folder") as error:
        load_addon_options(write_options(tmp_path, {"share_folder": folder}))
    assert reason in str(error.value)
    assert not re.match(SHARE_FOLDER_PATTERN, folder), "config.yaml's regex refuses it too"


@pytest.mark.parametrize("minutes", [0, -5, 1441])
def test_idle_minutes_out_of_range_are_refused(tmp_path: Path, minutes: int) -> None:
    """password_idle_minutes is 1..1440."""
    with pytest.raises(ValueError, match="password_idle_minutes"):
        load_addon_options(write_options(tmp_path, {"password_idle_minutes": minutes}))


def test_unknown_log_level_is_refused(tmp_path: Path) -> None:
    """log_level is one of the listed values."""
    with pytest.raises(ValueError, match="log_level"):
        load_addon_options(write_options(tmp_path, {"log_level": "verbose"}))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """The message names each bad option, and the file."""
    path = write_options(tmp_path, {"share_folder": "/x", "password_idle_minutes": 0})
    with pytest.raises(ValueError) as error:
        load_addon_options(path)
    message = str(error.value)
    assert "share_folder" in message and "password_idle_minutes" in message and str(path) in message


@pytest.mark.parametrize(
    ("text", "problem"), [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")]
)
def test_a_broken_file_is_a_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    """Broken JSON or the wrong JSON type raise ValueError naming the file."""
    path = tmp_path / "options.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as error:
        load_addon_options(path)
    assert str(path) in str(error.value)


def test_an_unreadable_path_is_a_clear_error(tmp_path: Path) -> None:
    """A folder where the file should be is an error, not defaults."""
    (tmp_path / "options.json").mkdir()
    with pytest.raises(ValueError, match="Cannot read the options file"):
        load_addon_options(tmp_path / "options.json")


def test_options_are_immutable() -> None:
    """AddonOptions is frozen: settings do not change under the running app."""
    with pytest.raises(AttributeError):
        AddonOptions().log_level = "debug"  # type: ignore[misc]
