"""What a person sees when something is wrong: a mistyped password, a damaged backup."""

from __future__ import annotations

import re
from collections.abc import Callable

from backup_inspector.demo.backup_writer import share_folder_entries
from backup_inspector.demo.demo_backups import DAMAGED_BACKUP, DEMO_PASSWORD, ENCRYPTED_BACKUP

from .conftest import (
    Locator,
    Page,
    Site,
    children_of,
    expect,
    open_backup,
    save_screenshot,
    scroll_below_header,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()


def archive_status(page: Page, archive: str) -> Locator:
    """The "Check" cell of one archive's row in the archive table."""
    return page.locator(f"[data-testid=archive-row][data-archive={archive}]").get_by_test_id(
        "archive-status"
    )


def test_wrong_password_is_refused_clearly_and_runs_no_check(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """A typo gets a plain message next to the field; nothing is unlocked or checked."""
    page = open_page()
    posted: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posted.append(request.url))
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    open_backup(page, ENCRYPTED_BACKUP[0])

    page.get_by_test_id("password-input").fill("demo-pasword")
    page.get_by_test_id("password-submit").click()

    status = page.get_by_test_id("password-status")
    expect(status).to_have_attribute("data-state", "wrong")
    expect(status).to_contain_text("That password does not open this backup.")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(page.get_by_test_id("password-input")).to_be_focused()
    expect(page.get_by_test_id("password-forget")).to_be_hidden()
    # Still locked: no verdict, no progress, archives unread, nothing to browse.
    expect(page.get_by_test_id("check-verdict")).to_be_hidden()
    expect(page.get_by_test_id("check-progress")).to_be_hidden()
    expect(page.get_by_test_id("archive-status")).to_have_text(["\N{EN DASH}"] * 5)
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "locked")
    expect(page.get_by_test_id("entry-row")).to_have_count(0)
    expect(page.get_by_test_id("jobs-count")).to_be_hidden()
    assert [url for url in posted if url.endswith("/password")], posted
    assert not [url for url in posted if url.endswith(("/checks", "/listing"))], posted


def test_damaged_backup_gets_a_red_verdict_naming_the_broken_archive(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """The full check of the damaged demo backup names share.tar.gz and its checksum error."""
    page = open_page()
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    open_backup(page, DAMAGED_BACKUP[0])
    expect(page.get_by_test_id("password-card")).to_be_hidden()

    page.get_by_test_id("full-check").click()

    verdict = page.get_by_test_id("check-verdict")
    expect(verdict).to_have_attribute("data-level", "error")
    expect(page.get_by_test_id("verdict-title")).to_have_text(
        "This backup has problems in share.tar.gz."
    )
    problem = page.locator(
        "[data-testid=verdict-problem][data-code=archive-corrupt][data-archive=share]"
    )
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("share.tar.gz")
    expect(problem).to_contain_text("checksum")
    expect(page.locator("[data-testid=verdict-problem][data-archive=ssl]")).to_have_count(0)
    share_status = archive_status(page, "share")
    ssl_status = archive_status(page, "ssl")
    expect(share_status).to_have_attribute("data-state", "error")
    expect(share_status).to_have_text("archive-corrupt")
    expect(ssl_status).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("full-check")).to_be_enabled()
    scroll_below_header(page.get_by_test_id("archive-table"))
    save_screenshot(page, "check-damaged.png")

    # The list remembers the result.
    page.get_by_test_id("back-button").click()
    card = page.get_by_test_id("backup-card").filter(has_text=DAMAGED_BACKUP[0])
    expect(card.get_by_test_id("last-check")).to_have_attribute("data-level", "error")
    expect(card.get_by_test_id("last-check")).to_have_text("Last check: problems found")


def test_damaged_archive_listed_to_the_end_is_not_called_stopped_early(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """Every entry of the damaged share.tar.gz is listed, so the page must not claim it stopped."""
    page = open_page()
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    open_backup(page, DAMAGED_BACKUP[0])
    expect(page.get_by_test_id("browse-archive")).to_have_value("share")
    status = page.get_by_test_id("listing-status")
    expect(status).to_have_attribute("data-state", "damaged")
    share_top_level = children_of("", [spec.path for spec in share_folder_entries()])
    expect(page.get_by_test_id("entry-row")).to_have_count(len(share_top_level))
    assert {row.get_attribute("data-path") for row in page.get_by_test_id("entry-row").all()} == (
        share_top_level
    )
    expect(status).to_contain_text("share.tar.gz is damaged")
    assert "stopped early" not in status.inner_text()


def test_a_mistyped_password_does_not_turn_a_good_backup_red(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """A typo says nothing about the backup: its last (green) full check must stay its status."""
    page = open_page()
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    open_backup(page, ENCRYPTED_BACKUP[0])
    page.get_by_test_id("password-input").fill(DEMO_PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")

    page.get_by_test_id("password-input").fill("demo-pasword")
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "wrong")

    # A fresh load shows what the server now says about the backup.
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    card = page.get_by_test_id("backup-card").filter(has_text=ENCRYPTED_BACKUP[0])
    badge = card.get_by_test_id("last-check")
    assert badge.get_attribute("data-level") == "ok", badge.inner_text()
    open_backup(page, ENCRYPTED_BACKUP[0])
    verdict = page.get_by_test_id("check-verdict")
    assert verdict.get_attribute("data-level") == "ok", verdict.inner_text()
