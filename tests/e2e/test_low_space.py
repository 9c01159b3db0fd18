"""Extracting into a nearly full disk: the page shows the numbers and asks before going on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backup_inspector.demo.demo_backups import FULL_BACKUP

from .conftest import (
    Page,
    Site,
    entry_row,
    expect,
    open_backup,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

EXTRACTED_FILE = "data/configuration.yaml"
HUGE_RESERVE_BYTES = 10**15  # more than any test disk has free: every plan cuts into it


def test_cutting_into_the_reserve_is_confirmed_with_the_numbers(
    open_page: Callable[..., Page],
    start_site: Callable[..., Site],
    demo_backup_files: list[Path],
) -> None:
    """The plan warns, Extract asks with the numbers, and "Extract anyway" writes the file."""
    site = start_site(demo_backup_files, disk_reserve_bytes=HUGE_RESERVE_BYTES)
    page = open_page()
    page.goto(site.ingress_url)
    wait_until_live(page)
    open_backup(page, FULL_BACKUP[0])
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    entry_row(page, "data").get_by_test_id("entry-open").click()
    entry_row(page, EXTRACTED_FILE).get_by_test_id("entry-select").check()
    space = page.get_by_test_id("extract-space")
    expect(space).to_have_attribute("data-state", "low-space")
    expect(space).to_contain_text("you will be asked to confirm")

    page.get_by_test_id("extract-start").click()
    question = page.get_by_test_id("extract-low-space")
    expect(question).to_contain_text("are free, so only")
    expect(question).to_contain_text("Home Assistant needs free")
    destination = site.share_dir / "backup_inspector" / FULL_BACKUP[0]
    assert not (destination / EXTRACTED_FILE).exists()

    page.get_by_test_id("extract-confirm-low-space").click()
    expect(page.get_by_test_id("extract-summary")).to_have_attribute("data-state", "ok")
    assert (destination / EXTRACTED_FILE).is_file()
