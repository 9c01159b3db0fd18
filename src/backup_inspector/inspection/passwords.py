"""Turns what a user gives us (typed text, a pasted emergency kit, a file) into a password.

Since Home Assistant 2025.1 the backup password is usually a generated
"encryption key" such as `ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ01`, handed to the
user in an "emergency kit" text file. The whole key, hyphens included, is the
SecureTar password (format-spec §4.4). Other tools let users choose any
password, so the key format is never enforced: anything that is not
recognisably a kit key is used exactly as given.

Nothing in this module logs, prints or puts a password into an exception
message.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

# format-spec §4.4: 7 groups of 4 characters from A-Z0-9, hyphens literal.
EMERGENCY_KIT_KEY_PATTERN = r"[A-Z0-9]{4}(-[A-Z0-9]{4}){6}"

# A key inside longer text must stand on its own: a longer run of key
# characters is not a key, so it is not cut out of the middle of something.
_EMBEDDED_KEY_RE = re.compile(rf"(?<![A-Z0-9-])(?:{EMERGENCY_KIT_KEY_PATTERN})(?![A-Z0-9-])")
_WHOLE_KEY_RE = re.compile(EMERGENCY_KIT_KEY_PATTERN)

# A password file or an emergency kit is a few hundred bytes (a kit is about
# 600). Nothing longer than this can be one, so reading stops here: given
# /dev/zero or a huge file by mistake, we read 64 KiB, not the disk.
MAX_SECRET_FILE_BYTES = 64 * 1024


class EmergencyKitError(ValueError):
    """An emergency kit file holds no encryption key, or several different ones."""


class SecretFileTooLargeError(ValueError):
    """A password or emergency-kit file is larger than any password or kit could be."""


def _read_small_file(path: Path, what: str) -> bytes:
    """All bytes of a small file; SecretFileTooLargeError once it passes MAX_SECRET_FILE_BYTES.

    Reads one byte more than the limit, never the whole file, so a device
    such as /dev/zero or a sparse multi-gigabyte file costs 64 KiB.
    """
    with path.open("rb") as f:
        raw = f.read(MAX_SECRET_FILE_BYTES + 1)
    if len(raw) > MAX_SECRET_FILE_BYTES:
        raise SecretFileTooLargeError(
            f"'{path.name}' is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB, far more than "
            f"any {what} holds. Give the file that holds only the {what}."
        )
    return raw


def find_emergency_kit_keys(text: str) -> list[str]:
    """Every distinct encryption key in the text, in order of first appearance.

    Callers can use the count to tell "no key", "one key" and "ambiguous"
    apart without parsing the text themselves.
    """
    keys: list[str] = []
    for match in _EMBEDDED_KEY_RE.finditer(text):
        if match.group(0) not in keys:
            keys.append(match.group(0))
    return keys


def password_from_text(text: str) -> str:
    """The password to try for text a user typed or pasted.

    The rule, chosen so that a typed password is never altered:

    * Single-line text is a typed password and is used exactly as typed
      (spaces kept, "" allowed), with one exception: if, after removing
      surrounding whitespace, it is exactly one emergency-kit key, the key
      without the whitespace is used. Generated keys never contain
      whitespace, and copying a key from a PDF or e-mail often adds some.
    * Text with a line break is a paste (a whole emergency kit, or a key with
      its trailing newline). If it holds exactly one distinct key, that key is
      used; otherwise the text is used as given and a wrong-password result
      will follow. Use find_emergency_kit_keys() to detect the ambiguous case.
    """
    if "\n" not in text and "\r" not in text:
        stripped = text.strip()
        if _WHOLE_KEY_RE.fullmatch(stripped):
            return stripped
        return text
    keys = find_emergency_kit_keys(text)
    if len(keys) == 1:
        return keys[0]
    return text


def read_emergency_kit(path: Path) -> str:
    """The encryption key from an emergency kit file.

    Kits are UTF-8 text written by the browser; a copy re-saved by a text
    editor may gain a byte-order mark (UTF-8 or UTF-16) or CRLF line ends,
    both of which are tolerated. Undecodable bytes are ignored because the
    key itself is plain ASCII. Raises EmergencyKitError when the file holds no
    key or several different keys (the message never contains a key), and
    SecretFileTooLargeError for a file larger than MAX_SECRET_FILE_BYTES.
    """
    text = _decode_kit_bytes(_read_small_file(path, "emergency kit"))
    keys = find_emergency_kit_keys(text)
    if not keys:
        raise EmergencyKitError(
            f"No backup encryption key found in '{path.name}'. An emergency kit contains "
            "a key of 7 groups of 4 letters or digits, like XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX."
        )
    if len(keys) > 1:
        raise EmergencyKitError(
            f"'{path.name}' contains {len(keys)} different backup encryption keys, so it is "
            "not clear which one to use. Give the key itself instead."
        )
    return keys[0]


def _decode_kit_bytes(raw: bytes) -> str:
    """Text of a kit file, honouring a UTF-16 byte-order mark if an editor added one."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def read_password_file(path: Path) -> str:
    """The password stored in a file: its content minus ONE trailing newline.

    Editors and `echo` add a final "\\n" (or "\\r\\n" on Windows) that is not
    part of the password; everything else, including other whitespace, may
    be, so nothing else is removed. Raises ValueError when the file is not
    UTF-8 (the message does not quote the undecodable bytes, because they
    are part of the password) and SecretFileTooLargeError, a ValueError,
    when it is larger than MAX_SECRET_FILE_BYTES.
    """
    raw = _read_small_file(path, "password")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"The password file '{path.name}' is not UTF-8 text.") from None
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text
