"""The restore card's content: parts joined to the sentences of their codes, refusals told once."""

from __future__ import annotations

from typing import Any

from backup_inspector.web.restore_card import (
    REFUSED_WHOLE,
    STOPPED_EARLIER,
    archive_of_part,
    restore_card,
)


def report(parts: list[dict[str, Any]], problems: list[dict[str, Any]]) -> dict[str, Any]:
    """A report in CheckReport.to_json() shape with only what the card reads."""
    return {
        "level": "full",
        "metadata": {"addons": [{"slug": "core_ssh", "name": "Terminal & SSH"}]},
        "problems": problems,
        "database": None,
        "restore": {"target": None, "verdict": "fails", "parts": parts, "not_judged": ["x"]},
    }


def problem(code: str, severity: str, archive: str | None, message: str) -> dict[str, Any]:
    """One problem as the report lists it."""
    return {"code": code, "severity": severity, "archive": archive, "message": message}


def test_part_names_its_archive() -> None:
    """folder:share -> share, addon:x -> x, supervisor-config -> supervisor."""
    assert archive_of_part("folder:share") == "share"
    assert archive_of_part("addon:core_ssh") == "core_ssh"
    assert archive_of_part("homeassistant") == "homeassistant"
    assert archive_of_part("supervisor-config") == "supervisor"


def test_reasons_come_from_the_parts_own_archive_and_codes() -> None:
    """A part gets the problems of its archive whose codes it lists, and no one else's."""
    card = restore_card(
        report(
            [
                {"part": "addon:core_ssh", "outcome": "fails", "codes": ["addon-arch-unsupported"]},
                {"part": "folder:share", "outcome": "restored", "codes": []},
            ],
            [
                problem("addon-arch-unsupported", "error", "core_ssh", "needs armv7"),
                problem("archive-corrupt", "error", "media", "media is damaged"),
            ],
        )
    )
    assert card is not None
    app, share = card["parts"]
    assert app["label"] == "App Terminal & SSH"
    assert app["reasons"] == [
        {"code": "addon-arch-unsupported", "severity": "error", "message": "needs armv7"}
    ]
    assert share["reasons"] == []
    assert card["not_judged"] == ["x"] and card["kind"] == "full"


def test_parts_after_a_failing_home_assistant_say_the_restore_stopped() -> None:
    """A skipped app with no refusal of the backup: the restore stopped at Home Assistant."""
    card = restore_card(
        report(
            [
                {"part": "homeassistant", "outcome": "fails", "codes": ["entry-breaks-restore"]},
                {"part": "addon:core_ssh", "outcome": "skipped", "codes": []},
            ],
            [problem("entry-breaks-restore", "error", "homeassistant", "../x stops it")],
        )
    )
    assert card is not None
    assert card["parts"][1]["reasons"] == [
        {"code": None, "severity": "error", "message": STOPPED_EARLIER}
    ]
    assert card["refusals"] == []


def test_refusal_is_told_once_and_notes_are_kept_apart() -> None:
    """supervisor-too-old sits beside the verdict; parts point to it; partial-backup is a note."""
    card = restore_card(
        report(
            [{"part": "folder:share", "outcome": "skipped", "codes": []}],
            [
                problem("supervisor-too-old", "error", None, "made by 2027.2.0"),
                problem("partial-backup", "info", None, "partial"),
            ],
        )
    )
    assert card is not None
    assert card["refusals"] == [
        {"code": "supervisor-too-old", "severity": "error", "message": "made by 2027.2.0"}
    ]
    assert card["parts"][0]["reasons"] == [
        {"code": "supervisor-too-old", "severity": "error", "message": REFUSED_WHOLE}
    ]
    assert card["notes"] == [{"code": "partial-backup", "severity": "info", "message": "partial"}]


def test_without_messages_only_codes_and_fixed_sentences_remain() -> None:
    """For an encrypted backup's history: the engine's sentences go, the codes stay."""
    card = restore_card(
        report(
            [{"part": "homeassistant", "outcome": "fails", "codes": ["entry-breaks-restore"]}],
            [problem("entry-breaks-restore", "error", "homeassistant", "secret/name stops it")],
        ),
        with_messages=False,
    )
    assert card is not None
    assert card["parts"][0]["reasons"] == [
        {"code": "entry-breaks-restore", "severity": "error", "message": None}
    ]
    assert "secret/name" not in repr(card)


def test_no_prediction_no_card() -> None:
    """A report without a restore object (a check that could not open the backup) has no card."""
    assert restore_card({"problems": [], "restore": None}) is None
