"""A file's history in the page: search every backup → history → diff → extract, and compare backups."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.demo.history_folder import (
    CONFIG_A,
    CONFIG_B,
    HISTORY,
    write_history_backup,
)

from .conftest import (
    Page,
    Site,
    expect,
    open_backup,
    save_screenshot,
    scroll_below_header,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

EXTRACT_WAIT_S = 20.0


@pytest.fixture
def history_site(start_site: Callable[..., Site], tmp_path: Path) -> tuple[Site, Path]:
    """The app over the mixed history folder, with a temporary folder as today's config."""
    written = tmp_path / "written"
    files = [write_history_backup(written, spec) for spec in HISTORY]
    config = tmp_path / "homeassistant"
    config.mkdir()
    (config / "configuration.yaml").write_bytes(CONFIG_B + b"logger:\n  default: info\n")
    return start_site(files, config_dir=config), config


def test_search_history_diff_and_extract(
    open_page: Callable[..., Page], history_site: tuple[Site, Path]
) -> None:
    """Find configuration.yaml in every backup, read its history, diff two versions, extract one."""
    site, config = history_site
    page = open_page()
    page.goto(site.ingress_url)
    wait_until_live(page)

    page.get_by_test_id("history-pattern").fill("configuration.yaml")
    page.get_by_test_id("history-find").click()
    status = page.get_by_test_id("history-status")
    expect(status).to_have_text("3 versions of 1 file in 4 backups.")
    expect(page.get_by_test_id("history-locked-backup")).to_have_text(
        ["Nightly 2025-06-01 not searched: encrypted: unlock it to search it."]
    )
    groups = page.get_by_test_id("history-group")
    expect(groups).to_have_count(2)
    expect(groups.nth(0)).to_contain_text("In “Nightly 2026-10-03”.")
    expect(groups.nth(1)).to_contain_text(
        "Changed in “Nightly 2021-03-01”, unchanged in the 1 backup after it."
    )
    expect(groups.nth(1).get_by_test_id("history-compare-previous")).to_be_disabled()
    scroll_below_header(page.get_by_test_id("history-card"))
    save_screenshot(page, "history-search.png")

    # Compare the newest content with the one before it: a unified diff, line numbers, colours.
    groups.nth(0).get_by_test_id("history-compare-previous").click()
    expect(page.get_by_test_id("history-compare-summary")).to_have_text(
        "1 line added, 0 lines removed."
    )
    expect(page.get_by_test_id("diff-add")).to_have_count(1)
    expect(page.get_by_test_id("diff-add")).to_contain_text("+  unit_system: metric")
    expect(page.get_by_test_id("diff-add").locator("td").nth(1)).to_have_text("3")
    scroll_below_header(page.get_by_test_id("history-compare"))
    save_screenshot(page, "history-diff.png")

    # With today's config (a temporary folder standing in for it), never written to.
    before = sorted((p.name, p.stat().st_mtime_ns) for p in config.iterdir())
    groups.nth(0).get_by_test_id("history-compare-config").click()
    expect(page.get_by_test_id("history-compare-heading")).to_contain_text(
        "today's config: configuration.yaml"
    )
    expect(page.get_by_test_id("diff-add")).to_have_count(2)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in config.iterdir()) == before

    # Extract the older content (its newest copy, from the 2024 backup) into the share folder.
    groups.nth(1).get_by_test_id("history-extract").click()
    expect(groups.nth(1).get_by_test_id("history-note")).to_contain_text(
        "Extracting data/configuration.yaml from “Nightly 2024-06-01” into backup_inspector/"
    )
    deadline = time.monotonic() + EXTRACT_WAIT_S
    while not (extracted := list(site.share_dir.rglob("configuration.yaml"))):
        assert time.monotonic() < deadline, "the extraction did not finish"
        page.wait_for_timeout(100)
    assert [path.read_bytes() for path in extracted] == [CONFIG_A]
    save_screenshot(page, "history-extract.png")


def test_compare_with_another_backup(
    open_page: Callable[..., Page], history_site: tuple[Site, Path]
) -> None:
    """'Compare with…' on a backup lists what changed per archive."""
    site, _config = history_site
    page = open_page()
    page.goto(site.ingress_url)
    wait_until_live(page)
    open_backup(page, "Nightly 2026-10-03")
    page.get_by_test_id("backup-compare-other").select_option(label="Nightly 2024-06-01")
    page.get_by_test_id("backup-compare-run").click()
    archives = page.get_by_test_id("backup-compare-archive")
    expect(archives.filter(has_text="homeassistant")).to_contain_text(
        "1 file added, 0 removed, 2 changed"
    )
    expect(archives.filter(has_text="homeassistant")).to_contain_text("+ data/blobs/zigbee.db")
    scroll_below_header(page.get_by_test_id("backup-compare-card"))
    save_screenshot(page, "history-compare-backups.png")
