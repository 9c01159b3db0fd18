"""Accessibility: axe-core audits every screen in light and dark mode, on a desktop and at 360 px;
verdicts are announced, take the focus, and read without colour."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from backup_inspector.demo.backup_writer import ArchiveSpec, make_metadata, write_backup
from backup_inspector.demo.demo_backups import (
    DAMAGED_BACKUP,
    DEMO_PASSWORD,
    ENCRYPTED_BACKUP,
    FULL_BACKUP,
)

from .accessibility_audit import AuditLog, Auditor
from .conftest import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    Page,
    Site,
    entry_row,
    expect,
    open_backup,
    open_from_the_list,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

WARNING_BACKUP = "Backup with an unlisted archive"
#: The word each verdict level starts with, so that no one has to tell green from red.
VERDICT_WORDS = {
    "ok": "Good",
    "partial": "Not fully checked",
    "warning": "Warnings",
    "error": "Problems found",
}
#: The icon each verdict level shows (the name in the page's icon set).
VERDICT_ICONS = {"ok": "checkCircle", "partial": "info", "warning": "alert", "error": "alertCircle"}


def write_warning_backup(folder: Path) -> Path:
    """A backup whose full check reads everything but warns: one archive is not in its metadata."""
    archives = [
        ArchiveSpec("homeassistant", {"data/configuration.yaml": b"homeassistant:\n"}),
        ArchiveSpec("core_ssh", {"data/options.json": b"{}"}, listed_in_metadata=False),
    ]
    metadata = make_metadata(archives, name=WARNING_BACKUP, date="2026-11-19T08:00:00+00:00")
    return write_backup(folder / "unlisted.tar", archives, metadata=metadata)


@pytest.fixture
def audit_site(
    start_site: Callable[[Iterable[Path]], Site], demo_backup_files: list[Path], tmp_path: Path
) -> Site:
    """The demo backups plus one whose full check ends with a warning."""
    return start_site([*demo_backup_files, write_warning_backup(tmp_path)])


def back_to_the_list_and_open(page: Page, name: str) -> None:
    """Go back to the list with the app bar's back button, then open another backup."""
    page.get_by_test_id("back-button").click()
    wait_until_live(page)
    open_backup(page, name)


def run_full_check(page: Page, level: str) -> None:
    """Start a full check, wait for its verdict, and check the verdict reads without colour."""
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", level)
    assert_verdict_reads_without_colour(page, level)


def assert_verdict_reads_without_colour(page: Page, level: str) -> None:
    """The verdict says its level in a word, shows that level's icon, and has the focus."""
    verdict = page.get_by_test_id("check-verdict")
    expect(page.get_by_test_id("verdict-word")).to_have_text(VERDICT_WORDS[level])
    expect(page.get_by_test_id("verdict-title")).not_to_be_empty()
    icon = page.get_by_test_id("verdict-word").locator("svg.icon")
    expect(icon).to_have_count(1)
    expect(icon).to_be_visible()
    expect(icon).to_have_attribute("data-icon-name", VERDICT_ICONS[level])
    expect(verdict).to_be_focused()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("color_scheme", "width"),
    [("light", "desktop"), ("dark", "desktop"), ("light", "phone"), ("dark", "phone")],
)
def test_every_screen_passes_axe_core(
    open_page: Callable[..., Page],
    audit_site: Site,
    axe_auditor: Callable[..., Auditor],
    color_scheme: str,
    width: str,
) -> None:
    """No serious or critical WCAG 2.1 A/AA violation on any screen the journeys visit."""
    viewport = PHONE_VIEWPORT if width == "phone" else DESKTOP_VIEWPORT
    page = open_page(viewport=viewport, color_scheme=color_scheme)
    auditor = axe_auditor(f"{color_scheme}, {viewport['width']} px")
    page.goto(audit_site.ingress_url)
    wait_until_live(page)
    page.wait_for_load_state("networkidle")
    auditor.audit(page, "backup list")

    page.goto(f"{audit_site.ingress_url}#/backup/0123456789abcdef")
    expect(page.get_by_test_id("global-error")).to_be_visible()
    auditor.audit(page, "error banner")
    open_from_the_list(page, audit_site, ENCRYPTED_BACKUP[0])
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "locked")
    auditor.audit(page, "detail with password prompt")

    page.get_by_test_id("password-input").fill("demo-pasword")
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "wrong")
    auditor.audit(page, "wrong password")

    page.get_by_test_id("password-input").fill(DEMO_PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "partial")
    auditor.audit(page, "quick-check verdict")

    run_full_check(page, "ok")
    auditor.audit(page, "verdict ok")
    expect(page.get_by_test_id("restore-card")).to_have_attribute("data-state", "full")
    auditor.audit(page, "restore card")

    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    entry_row(page, "data").get_by_test_id("entry-open").click()
    entry_row(page, "data/configuration.yaml").get_by_test_id("entry-select").check()
    expect(page.get_by_test_id("extract-space")).to_have_attribute("data-state", "ok")
    auditor.audit(page, "browse with a selection")

    page.get_by_test_id("extract-start").click()
    expect(page.get_by_test_id("extract-summary")).to_have_attribute("data-state", "ok")
    auditor.audit(page, "extract summary")

    entry_row(page, "data/configuration.yaml").get_by_test_id("entry-preview").click()
    expect(page.get_by_test_id("preview-dialog")).to_have_attribute("data-state", "ready")
    auditor.audit(page, "preview")
    page.get_by_test_id("preview-close").click()

    page.get_by_test_id("jobs-button").click()
    expect(page.get_by_test_id("jobs-panel")).to_be_visible()
    expect(page.get_by_test_id("job-item").first).to_be_visible()
    auditor.audit(page, "jobs panel")
    page.get_by_test_id("jobs-button").click()

    back_to_the_list_and_open(page, DAMAGED_BACKUP[0])
    run_full_check(page, "error")
    auditor.audit(page, "verdict damaged")

    back_to_the_list_and_open(page, WARNING_BACKUP)
    run_full_check(page, "warning")
    auditor.audit(page, "verdict warnings")

    page.get_by_test_id("back-button").click()
    wait_until_live(page)
    auditor.audit(page, "backup list after checks")
    auditor.assert_clean()


def test_progress_verdicts_and_errors_are_live_regions(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """Screen readers hear job progress, verdicts and errors without moving to them."""
    page = open_page()
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    for test_id in (
        "check-progress-text",
        "check-verdict",
        "extract-progress-text",
        "extract-summary",
        "password-status",
        "listing-status",
        "jobs-announcer",
    ):
        live = page.get_by_test_id(test_id)
        expect(live).to_have_count(1)
        expect(live).to_have_attribute("aria-live", "polite")
    expect(page.get_by_test_id("global-error")).to_have_attribute("role", "alert")


def test_a_finished_check_moves_the_focus_to_its_verdict(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """After a full check the focus is on the verdict, which says good or bad in a word and an icon."""
    page = open_page()
    open_from_the_list(page, demo_site, FULL_BACKUP[0])
    run_full_check(page, "ok")
    expect(page.get_by_test_id("verdict-word")).to_have_text("Good")
    expect(page.get_by_test_id("jobs-announcer")).to_have_text(
        f"Full check of {FULL_BACKUP[0]} finished"
    )

    back_to_the_list_and_open(page, DAMAGED_BACKUP[0])
    run_full_check(page, "error")
    verdict_icon = page.get_by_test_id("verdict-word").locator("svg.icon")
    expect(verdict_icon).to_have_attribute("data-icon-name", "alertCircle")


def test_every_button_has_an_accessible_name(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """Icon-only buttons (back, jobs, refresh, close, preview, download) say what they do."""
    page = open_page()
    open_from_the_list(page, demo_site, FULL_BACKUP[0])
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    entry_row(page, "data").get_by_test_id("entry-open").click()
    entry_row(page, "data/configuration.yaml").get_by_test_id("entry-select").check()
    buttons = page.locator("button:visible, [role=button]:visible")
    assert buttons.count() > 10
    for button in buttons.all():
        expect(button).not_to_have_accessible_name("")
    for test_id in ("back-button", "jobs-button", "entry-preview", "entry-download"):
        expect(page.get_by_test_id(test_id).first).not_to_have_accessible_name("")


def test_the_page_inside_the_sidebar_panel_passes_axe_core(
    open_page: Callable[..., Page], demo_site: Site, axe_auditor: Callable[..., Auditor]
) -> None:
    """In Home Assistant's sidebar panel (an iframe) the page has no serious violation either."""
    page = open_page()
    page.goto(demo_site.panel_url)
    app = page.frame_locator("#ingress-frame")
    wait_until_live(app)
    frame = page.frames[1]
    assert frame.url == demo_site.ingress_url
    auditor = axe_auditor("light, panel iframe")
    auditor.audit(frame, "backup list")
    open_backup(app, FULL_BACKUP[0])
    run_full_check(app, "ok")
    auditor.audit(frame, "verdict ok")
    auditor.assert_clean()


def test_the_auditor_reports_what_axe_core_finds(
    open_page: Callable[..., Page], axe_auditor: Callable[..., Auditor]
) -> None:
    """The audit is no empty pass: grey-on-white text and a nameless button fail it."""
    page = open_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<p style="color:#bbbbbb;background:#ffffff">Faint text</p>'
        '<button type="button"><svg aria-hidden="true"></svg></button>'
        "</main></body></html>"
    )
    auditor = axe_auditor("self-test", log=AuditLog())  # kept out of the session's summary
    found = {(violation.rule, violation.impact) for violation in auditor.audit(page, "bad page")}
    assert ("color-contrast", "serious") in found
    assert ("button-name", "critical") in found
    with pytest.raises(AssertionError, match="button-name"):
        auditor.assert_clean()
