"""What the reporter tells Home Assistant, from a list of backup healths (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

from backup_inspector.web.backup_health import BackupHealth, age_in_words
from backup_inspector.web.home_assistant_reporter import (
    last_verified_state,
    notification_for,
    problem_state,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC).timestamp()


def health(
    name: str, verdict: str, codes: tuple[str, ...] = (), hours_old: int = 1
) -> BackupHealth:
    """One backup's health, made `hours_old` hours before NOW."""
    return BackupHealth(
        backup_id=name.lower().replace(" ", "-"),
        name=name,
        date=datetime.fromtimestamp(NOW - hours_old * 3600, tz=UTC),
        size=1000,
        verdict=verdict,
        verified_at=NOW - 60 if verdict != "unchecked" else None,
        codes=codes,
    )


def test_the_notification_is_one_sentence_naming_the_backup_and_the_problem() -> None:
    """Name, what is wrong in words, and a link, in a single sentence."""
    data = notification_for(health("Nightly", "failing", ("truncated",)), "/hassio/ingress/x")
    assert data["notification_id"] == "backup_inspector_nightly"
    message = data["message"]
    assert "“Nightly”" in message and "was cut short" in message
    assert message.endswith("([open Backup Inspector](/hassio/ingress/x)).")
    assert message.count(". ") == 0


def test_an_unknown_code_is_named_rather_than_hidden() -> None:
    """A code the reporter has no words for (a newer check) still reaches the user."""
    message = notification_for(health("B", "failing", ("restore-broken",)), "/")["message"]
    assert "restore-broken" in message


def test_the_problem_sensor_lists_only_failing_backups() -> None:
    """On while one fails; unverified and unchecked backups are not problems."""
    state, attributes = problem_state(
        [health("A", "ok"), health("B", "failing", ("archive-corrupt",)), health("C", "unverified")]
    )
    assert state == "on"
    assert attributes["failing_backups"] == [{"name": "B", "codes": ["archive-corrupt"]}]
    assert problem_state([health("A", "ok"), health("C", "unchecked")])[0] == "off"


def test_the_timestamp_sensor_describes_the_newest_backup_and_counts() -> None:
    """When the newest was verified, its name, age and verdict; counts of all."""
    state, attributes = last_verified_state(
        [health("New", "ok", hours_old=26), health("Old", "failing"), health("X", "unchecked")],
        now=NOW,
    )
    assert state == "2026-12-04T11:59:00+00:00"
    assert attributes["name"] == "New" and attributes["age"] == "1 day"
    assert (attributes["ok"], attributes["failing"], attributes["unverified"]) == (1, 1, 1)
    assert last_verified_state([], now=NOW)[0] == "unknown"


def test_ages_in_words() -> None:
    """Minutes, hours and days, singular and plural."""
    assert [age_in_words(s) for s in (30, 60, 7200, 86400, 3 * 86400)] == [
        "0 minutes",
        "1 minute",
        "2 hours",
        "1 day",
        "3 days",
    ]
