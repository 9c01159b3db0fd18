"""terminal_text: what the CLI's human printers make of names a terminal would act on."""

from __future__ import annotations

import pytest

from backup_inspector.cli.output import terminal_text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name.txt", "plain name.txt"),
        ("naïve café/日本語.txt", "naïve café/日本語.txt"),
        ("a\\b", "a\\b"),
        ("\x1b[2J", "\\e[2J"),
        ("tab\there\nnew\rcr", "tab\\there\\nnew\\rcr"),
        ("bell\x07 nul\x00 del\x7f", "bell\\x07 nul\\x00 del\\x7f"),
        ("c1\x9b", "c1\\x9b"),
        ("rtl\u202eisolate\u2066zwj\u200d", "rtl\\u202eisolate\\u2066zwj\\u200d"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("tag\U000e0041", "tag\\U000e0041"),
        (b"caf\xe9".decode("utf-8", "surrogateescape"), "caf\\xe9"),
        ("lone\ud800", "lone\\ud800"),
    ],
    ids=[
        "ascii",
        "non-ascii",
        "backslash-kept",
        "escape",
        "whitespace-controls",
        "other-c0-and-del",
        "c1",
        "bidi-and-zero-width",
        "separators",
        "astral-format",
        "undecodable-byte",
        "lone-surrogate",
    ],
)
def test_terminal_text(text: str, shown: str) -> None:
    """Printable text is unchanged; controls, bidi and format characters become escapes."""
    assert terminal_text(text) == shown
    assert terminal_text(text).encode("utf-8")  # always printable on a UTF-8 terminal
