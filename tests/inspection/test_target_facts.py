"""Target facts from the Supervisor's /info and /host/info objects: missing stays missing."""

from __future__ import annotations

import pytest

from backup_inspector.inspection.target_facts import (
    TargetFacts,
    TargetFactsError,
    target_facts_from_info,
)


def test_bare_and_enveloped_info_agree() -> None:
    """`ha info --raw-json`'s data object and the API's envelope give the same facts."""
    info = {"supervisor": "2026.11.0", "arch": "amd64", "supported_arch": ["amd64", "i386"]}
    assert target_facts_from_info(info) == target_facts_from_info({"result": "ok", "data": info})


def test_missing_keys_stay_unknown() -> None:
    """Keys that are absent are None, never a default."""
    facts = target_facts_from_info({"supervisor": "2026.11.0"})
    assert facts == TargetFacts(supervisor="2026.11.0")
    assert facts.to_json()["supported_arch"] is None


def test_disk_free_comes_from_host_info() -> None:
    """disk_free is read from /host/info when given."""
    facts = target_facts_from_info(
        {"result": "ok", "data": {"machine": "yellow"}},
        {"result": "ok", "data": {"disk_free": 12.5, "hostname": "ha"}},
    )
    assert facts.machine == "yellow" and facts.disk_free_gb == 12.5


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"result": "error", "message": "Unauthorized", "data": {}},
        {"supported_arch": "aarch64"},
        {"supervisor": {"v": 1}},
        {"hostname": "nothing we need"},
        {"machine": "yellow", "disk_free": "lots"},
    ],
)
def test_wrong_shapes_are_refused(document: object) -> None:
    """Anything that is not a Supervisor /info object raises TargetFactsError."""
    with pytest.raises(TargetFactsError):
        target_facts_from_info(document)
