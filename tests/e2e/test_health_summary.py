"""The health summary a person sees first: verdicts from the background watch and a size chart."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from backup_inspector.demo.demo_backups import DAMAGED_BACKUP, DEMO_PASSWORD, FULL_BACKUP_FILE_NAME

from .accessibility_audit import Auditor
from .conftest import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    Page,
    Site,
    expect,
    save_screenshot,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()


def watched_site(start_site: Callable[..., Site], demo_backup_files: list[Path]) -> Site:
    """The demo backups with the watch on and the demo password as the watch's key."""
    return start_site(
        demo_backup_files,
        verify_new_backups=True,
        backup_password=DEMO_PASSWORD,
        watch_stable_s=0.2,
    )


def test_the_page_opens_with_the_watch_verdicts_and_a_size_chart(
    open_page: Callable[..., Page],
    start_site: Callable[..., Site],
    demo_backup_files: list[Path],
) -> None:
    """Every demo backup verified by itself; the damaged one named; a chart with a text alternative."""
    site = watched_site(start_site, demo_backup_files)
    page = open_page(viewport=DESKTOP_VIEWPORT)
    page.goto(site.ingress_url)
    wait_until_live(page)
    summary = page.get_by_test_id("health-summary")
    expect(summary).to_have_attribute("data-loaded", "true")
    expect(page.get_by_test_id("health-counts")).to_have_text(
        "3 good · 1 with problems · 0 not verified"
    )
    expect(summary).to_have_attribute("data-state", "failing")
    expect(page.get_by_test_id("health-headline")).to_have_text(
        "1 backup has problems: it will not fully restore."
    )
    expect(page.get_by_test_id("health-newest")).to_have_text("Automatic backup 2026.11.2")
    expect(page.get_by_test_id("health-newest-age")).to_contain_text(" old")
    expect(page.get_by_test_id("health-watch")).to_have_text("Idle: every backup checked")

    chart = page.get_by_test_id("size-chart-svg")
    expect(chart).to_have_attribute("role", "img")
    expect(page.get_by_test_id("size-bar")).to_have_count(4)
    expect(page.locator("#size-chart-desc")).to_contain_text("Sizes of 4 backups")
    expect(page.get_by_test_id("size-chart-caption")).to_contain_text("Sudden changes:")

    page.get_by_text("When each backup was last verified").click()
    damaged_row = page.get_by_test_id("verification-row").filter(has_text=DAMAGED_BACKUP[0])
    expect(damaged_row.get_by_test_id("health-verdict")).to_have_attribute(
        "data-verdict", "failing"
    )
    expect(damaged_row).to_contain_text("archive-corrupt")
    expect(page.locator("[data-testid=verification-row] [data-verdict=ok]")).to_have_count(3)
    # The list below agrees: the watch's verdicts are each backup's last check.
    expect(page.locator("[data-testid=last-check][data-level=error]")).to_have_count(1)
    page.get_by_text("When each backup was last verified").click()
    save_screenshot(page, "health-summary.png")


def test_a_backup_dropped_into_the_folder_shows_up_verified(
    open_page: Callable[..., Page],
    start_site: Callable[..., Site],
    demo_backup_files: list[Path],
) -> None:
    """As a user sees it: a new file appears, waits, is checked, and the summary follows live."""
    site = watched_site(start_site, demo_backup_files)
    page = open_page(viewport=PHONE_VIEWPORT, color_scheme="dark")
    page.goto(site.ingress_url)
    wait_until_live(page)
    expect(page.get_by_test_id("health-counts")).to_have_text(
        "3 good · 1 with problems · 0 not verified"
    )
    source = next(path for path in demo_backup_files if path.name == FULL_BACKUP_FILE_NAME)
    shutil.copyfile(source, site.backup_dir / "copied-in.tar")
    expect(page.get_by_test_id("health-counts")).to_have_text(
        "4 good · 1 with problems · 0 not verified"
    )
    expect(page.get_by_test_id("size-bar")).to_have_count(5)
    expect(page.get_by_test_id("health-watch")).to_have_text("Idle: every backup checked")
    save_screenshot(page, "health-summary-phone-dark.png")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_failing_health_summary_passes_axe_core(
    open_page: Callable[..., Page],
    start_site: Callable[..., Site],
    demo_backup_files: list[Path],
    axe_auditor: Callable[..., Auditor],
    color_scheme: str,
) -> None:
    """The summary with a failing backup, its chart and its open table meet WCAG 2.1 AA."""
    site = watched_site(start_site, demo_backup_files)
    page = open_page(viewport=DESKTOP_VIEWPORT, color_scheme=color_scheme)
    auditor = axe_auditor(f"{color_scheme}, watch on")
    page.goto(site.ingress_url)
    wait_until_live(page)
    expect(page.get_by_test_id("health-summary")).to_have_attribute("data-state", "failing")
    page.get_by_text("When each backup was last verified").click()
    expect(page.get_by_test_id("verification-row")).to_have_count(4)
    auditor.audit(page, "health summary, one failing")
    auditor.assert_clean()
