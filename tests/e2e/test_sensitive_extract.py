"""supervisor.tar.gz holds mount and registry passwords: the page asks before extracting it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backup_inspector.demo.demo_backups import DEMO_PASSWORD, ENCRYPTED_BACKUP, FULL_BACKUP

from .accessibility_audit import Auditor
from .conftest import (
    Page,
    Site,
    expect,
    open_from_the_list,
    save_screenshot,
    skip_without_browser,
    unlock,
)

skip_without_browser()


def select_whole_archive(page: Page, archive: str) -> None:
    """Pick an archive in the browse card and select all of it."""
    page.get_by_test_id("browse-archive").select_option(archive)
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    page.get_by_test_id("select-archive").click()
    expect(page.get_by_test_id("extract-start")).to_be_enabled()


@pytest.mark.timeout(300)
def test_extracting_the_supervisor_archive_asks_first(
    open_page: Callable[..., Page], demo_site: Site, axe_auditor: Callable[..., Auditor]
) -> None:
    """Cancel writes nothing; 'Extract anyway' writes the files; the dialog passes axe-core."""
    page = open_page()
    open_from_the_list(page, demo_site, ENCRYPTED_BACKUP[0])
    unlock(page, DEMO_PASSWORD)
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")
    select_whole_archive(page, "supervisor")
    page.get_by_test_id("extract-destination").fill("settings")

    page.get_by_test_id("extract-start").click()
    dialog = page.get_by_test_id("sensitive-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("sensitive-text")).to_contain_text("registry logins")
    expect(page.get_by_test_id("sensitive-cancel")).to_be_focused()
    auditor = axe_auditor("light, 1200 px")
    auditor.audit(page, "sensitive-archive confirmation")
    auditor.assert_clean()
    save_screenshot(
        page, "extract-sensitive-confirm.png", mask=[page.get_by_test_id("extract-space")]
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("extract-start")).to_be_focused()
    expect(page.get_by_test_id("extract-summary")).to_be_hidden()
    assert not (demo_site.share_dir / "settings").exists()

    page.get_by_test_id("extract-start").click()
    expect(dialog).to_be_visible()
    page.get_by_test_id("sensitive-confirm").click()
    expect(page.get_by_test_id("extract-summary")).to_have_attribute("data-state", "ok")
    assert any((demo_site.share_dir / "settings").rglob("*.json"))


def test_other_archives_extract_without_a_question(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """A whole folder archive goes out at once: no dialog."""
    page = open_page()
    open_from_the_list(page, demo_site, FULL_BACKUP[0])
    select_whole_archive(page, "ssl")
    page.get_by_test_id("extract-start").click()
    expect(page.get_by_test_id("extract-summary")).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("sensitive-dialog")).to_be_hidden()
