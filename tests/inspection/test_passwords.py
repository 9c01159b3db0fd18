"""Tests for passwords: emergency-kit keys, typed passwords and password files."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.inspection.passwords import (
    EMERGENCY_KIT_KEY_PATTERN,
    MAX_SECRET_FILE_BYTES,
    EmergencyKitError,
    SecretFileTooLargeError,
    find_emergency_kit_keys,
    password_from_text,
    read_emergency_kit,
    read_password_file,
)

KIT_KEY = "K7QX-2M9P-ZR4T-8BNC-W3HJ-6YDF-LA5E"
OTHER_KEY = "AB12-CD34-EF56-GH78-IJ90-KL12-MN34"

# The shape format-spec §4.4 describes: title, description, date, instance
# name, URL, an "encryption key" label with the key on the next line, a link.
KIT_TEXT = f"""Home Assistant backup emergency kit

This emergency kit contains your backup encryption key. You need this key to \
restore your Home Assistant backups. Store it in a safe place.

Date: 8 January 2025
Instance name:
Home
URL:
http://homeassistant.local:8123
Encryption key:
{KIT_KEY}

For more information visit: https://www.home-assistant.io/more-info/backup-emergency-kit
"""


def test_pattern_is_the_spec_pattern() -> None:
    """The key pattern is format-spec §4.4's, hyphens included, 34 characters."""
    assert EMERGENCY_KIT_KEY_PATTERN == "[A-Z0-9]{4}(-[A-Z0-9]{4}){6}"
    assert re.fullmatch(EMERGENCY_KIT_KEY_PATTERN, KIT_KEY)
    assert len(KIT_KEY) == 34


# --- password_from_text ----------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["", " ", "correct horse battery staple", "  padded secret  ", "pässwörd", "Ab1-"],
)
def test_typed_password_is_used_as_typed(typed: str) -> None:
    """A typed password is returned unchanged: no stripping, the empty string allowed."""
    assert password_from_text(typed) == typed


def test_exact_key_is_returned() -> None:
    """Just the key gives the key."""
    assert password_from_text(KIT_KEY) == KIT_KEY


def test_single_line_key_with_surrounding_whitespace_is_stripped() -> None:
    """A key copied with spaces or tabs around it gives the bare key."""
    assert password_from_text(f"  {KIT_KEY}\t") == KIT_KEY


def test_key_with_trailing_newline_is_the_key() -> None:
    """A pasted key with its line break gives the bare key."""
    assert password_from_text(f"{KIT_KEY}\n") == KIT_KEY
    assert password_from_text(f"\r\n{KIT_KEY}\r\n") == KIT_KEY


def test_pasted_kit_gives_its_key() -> None:
    """The whole emergency kit text pasted gives the one key in it."""
    assert password_from_text(KIT_TEXT) == KIT_KEY


def test_pasted_kit_with_crlf_gives_its_key() -> None:
    """Windows line ends in a pasted kit do not matter."""
    assert password_from_text(KIT_TEXT.replace("\n", "\r\n")) == KIT_KEY


def test_single_line_with_key_inside_other_text_is_a_typed_password() -> None:
    """One line that is more than a key is an arbitrary password and kept as typed."""
    typed = f"my {KIT_KEY} password"
    assert password_from_text(typed) == typed


def test_lowercase_key_is_not_changed() -> None:
    """Generated keys are upper case; a lower-case one is a different password and kept."""
    assert password_from_text(KIT_KEY.lower()) == KIT_KEY.lower()


def test_multiline_text_with_two_keys_is_kept_as_given() -> None:
    """Two different keys are ambiguous: the text is used as given."""
    text = f"{KIT_KEY}\n{OTHER_KEY}\n"
    assert password_from_text(text) == text


def test_multiline_text_with_same_key_twice_gives_the_key() -> None:
    """The same key repeated is not ambiguous."""
    assert password_from_text(f"{KIT_KEY}\n{KIT_KEY}\n") == KIT_KEY


def test_multiline_text_without_key_is_kept_as_given() -> None:
    """Text with a line break but no key is used exactly as given."""
    assert password_from_text("secret\n") == "secret\n"


def test_longer_run_is_not_cut_into_a_key() -> None:
    """A key-like run with extra characters around it is not a key."""
    assert find_emergency_kit_keys(f"X{KIT_KEY}") == []
    assert find_emergency_kit_keys(f"{KIT_KEY}-ABCD") == []


def test_find_keys_lists_distinct_keys_in_order() -> None:
    """find_emergency_kit_keys reports each key once, in order of appearance."""
    text = f"{OTHER_KEY}\n{KIT_KEY}\n{OTHER_KEY}"
    assert find_emergency_kit_keys(text) == [OTHER_KEY, KIT_KEY]


# --- read_emergency_kit ----------------------------------------------------


def test_read_kit_file(tmp_path: Path) -> None:
    """A kit file as downloaded (UTF-8, LF) gives its key."""
    kit = tmp_path / "home_assistant_backup_emergency_kit_2025-01-08.txt"
    kit.write_text(KIT_TEXT, encoding="utf-8")
    assert read_emergency_kit(kit) == KIT_KEY


def test_read_kit_file_with_bom_and_crlf(tmp_path: Path) -> None:
    """A kit re-saved on Windows (UTF-8 BOM, CRLF) gives its key."""
    kit = tmp_path / "kit.txt"
    kit.write_bytes(b"\xef\xbb\xbf" + KIT_TEXT.replace("\n", "\r\n").encode("utf-8"))
    assert read_emergency_kit(kit) == KIT_KEY


def test_read_kit_file_with_bom_directly_before_key(tmp_path: Path) -> None:
    """A file holding only BOM + key still gives the key (the BOM is not glued to it)."""
    kit = tmp_path / "key.txt"
    kit.write_bytes(b"\xef\xbb\xbf" + KIT_KEY.encode("ascii") + b"\r\n")
    assert read_emergency_kit(kit) == KIT_KEY


def test_read_kit_file_utf16(tmp_path: Path) -> None:
    """A kit re-saved as UTF-16 with a byte-order mark gives its key."""
    kit = tmp_path / "kit.txt"
    kit.write_bytes(KIT_TEXT.encode("utf-16"))
    assert read_emergency_kit(kit) == KIT_KEY


def test_read_kit_file_with_two_keys_fails(tmp_path: Path) -> None:
    """Two different keys raise EmergencyKitError without revealing either key."""
    kit = tmp_path / "kit.txt"
    kit.write_text(KIT_TEXT + f"Old key:\n{OTHER_KEY}\n", encoding="utf-8")
    with pytest.raises(EmergencyKitError, match="2 different") as caught:
        read_emergency_kit(kit)
    assert KIT_KEY not in str(caught.value)
    assert OTHER_KEY not in str(caught.value)


def test_read_kit_file_without_key_fails(tmp_path: Path) -> None:
    """A file without a key raises EmergencyKitError, a ValueError."""
    kit = tmp_path / "notes.txt"
    kit.write_text("Encryption key:\n(lost)\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"No backup encryption key found in 'notes\.txt'"):
        read_emergency_kit(kit)
    assert issubclass(EmergencyKitError, ValueError)


# --- read_password_file ----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "password"),
    [
        (b"secret\n", "secret"),
        (b"secret\r\n", "secret"),
        (b"secret", "secret"),
        (b"secret\n\n", "secret\n"),
        (b" secret \n", " secret "),
        (b"secret\r", "secret\r"),
        (b"\n", ""),
        (b"", ""),
        ("pässwörd\n".encode(), "pässwörd"),
    ],
)
def test_password_file_loses_one_trailing_newline_only(
    tmp_path: Path, content: bytes, password: str
) -> None:
    """Exactly one trailing "\\n" or "\\r\\n" is removed; nothing else is stripped."""
    password_file = tmp_path / "password.txt"
    password_file.write_bytes(content)
    assert read_password_file(password_file) == password


def test_password_file_not_utf8_does_not_leak_bytes(tmp_path: Path) -> None:
    """A non-UTF-8 file raises ValueError whose message does not quote the password bytes."""
    password_file = tmp_path / "password.txt"
    password_file.write_bytes("mot de passe très secret".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8") as caught:
        read_password_file(password_file)
    assert "0xe8" not in str(caught.value)
    assert "secret" not in str(caught.value)


# --------------------------------------------------------------------------
# Files far larger than a password or kit (issue 9, finding 17)
# --------------------------------------------------------------------------

_READERS = [
    pytest.param(read_password_file, id="password-file"),
    pytest.param(read_emergency_kit, id="emergency-kit"),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("reader", _READERS)
def test_dev_zero_is_refused_after_64_kib(reader: Callable[[Path], str]) -> None:
    """/dev/zero is refused as too large, having held no more than about 64 KiB in memory."""
    tracemalloc.start()
    try:
        with pytest.raises(SecretFileTooLargeError, match="larger than 64 KiB"):
            reader(Path("/dev/zero"))
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_bytes < 4 * MAX_SECRET_FILE_BYTES


@pytest.mark.parametrize("reader", _READERS)
def test_big_sparse_file_is_refused_without_reading_it(
    tmp_path: Path, reader: Callable[[Path], str]
) -> None:
    """A sparse 4 GiB file is refused; reading it whole would take seconds and gigabytes."""
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.write(KIT_TEXT.encode())
        f.truncate(4 * 1024**3)
    with pytest.raises(SecretFileTooLargeError) as caught:
        reader(path)
    assert KIT_KEY not in str(caught.value)
    assert "huge.txt" in str(caught.value)


@pytest.mark.parametrize("reader", _READERS)
def test_file_of_exactly_the_limit_is_read(tmp_path: Path, reader: Callable[[Path], str]) -> None:
    """A file of exactly MAX_SECRET_FILE_BYTES is still read (the limit is inclusive)."""
    path = tmp_path / "padded.txt"
    text = KIT_TEXT.encode()
    path.write_bytes(text + b" " * (MAX_SECRET_FILE_BYTES - len(text)))
    expected = KIT_KEY if reader is read_emergency_kit else path.read_text(encoding="utf-8")
    assert reader(path) == expected
