"""The "Will it restore here?" card in a real Chromium, with the facts of a fake Supervisor:
a clean backup on a fitting system, one the system refuses, an encrypted one once unlocked,
and an unknown system outside Home Assistant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backup_inspector.demo.backup_writer import ArchiveSpec, make_metadata, write_backup
from backup_inspector.demo.demo_backups import DEMO_PASSWORD, ENCRYPTED_BACKUP, FULL_BACKUP
from web.fake_supervisor import TOKEN, FakeSupervisor
from web.ingress_proxy import BackgroundServers

from .accessibility_audit import Auditor
from .conftest import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    Locator,
    Page,
    Root,
    Site,
    expect,
    open_backup,
    open_from_the_list,
    save_screenshot,
    scroll_below_header,
    skip_without_browser,
    unlock,
    wait_until_live,
)

skip_without_browser()

NEWER_BACKUP = "Backup from a newer Supervisor"
NEWER_SUPERVISOR = "2027.2.0"


def write_newer_supervisor_backup(folder: Path) -> Path:
    """A backup written by a Supervisor newer than the fake one: the Supervisor refuses it."""
    archives = [
        ArchiveSpec("homeassistant", {"data/configuration.yaml": b"homeassistant:\n"}),
        ArchiveSpec("share", {"notes.txt": b"hello\n"}),
    ]
    metadata = make_metadata(
        archives,
        name=NEWER_BACKUP,
        date="2026-11-22T08:00:00+00:00",
        supervisor_version=NEWER_SUPERVISOR,
    )
    return write_backup(folder / "newer.tar", archives, metadata=metadata)


@pytest.fixture
def supervisor(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSupervisor, str]]:
    """A fake Supervisor on 127.0.0.1 and SUPERVISOR_TOKEN set, as in the add-on."""
    fake = FakeSupervisor()
    monkeypatch.setenv("SUPERVISOR_TOKEN", TOKEN)
    with BackgroundServers(fake.app) as servers:
        yield fake, servers.app_url


@pytest.fixture
def supervised_site(
    start_site: Callable[..., Site],
    demo_backup_files: list[Path],
    supervisor: tuple[FakeSupervisor, str],
    tmp_path: Path,
) -> Site:
    """The demo backups and one from a newer Supervisor, served by an app that asks the fake."""
    backups = [*demo_backup_files, write_newer_supervisor_backup(tmp_path)]
    return start_site(backups, supervisor_url=supervisor[1])


def card(root: Root) -> Locator:
    """The card."""
    return root.get_by_test_id("restore-card")


def part_row(root: Root, part: str) -> Locator:
    """The card's row of one part of the restore."""
    return root.locator(f'[data-testid=restore-part][data-part="{part}"]')


def expect_fitting_system(root: Root) -> None:
    """The card names the fake Supervisor's system."""
    system = root.get_by_test_id("restore-system")
    expect(system).to_contain_text("2026.11.0")
    expect(system).to_contain_text("generic-x86-64")
    expect(system).to_contain_text("amd64 (also runs i386)")
    expect(system).to_contain_text("23.4 GB")
    expect(root.get_by_test_id("restore-system-unknown")).to_be_hidden()


def expect_verdict(root: Root, verdict: str, word: str, icon_name: str) -> None:
    """The verdict in a word and an icon of its own, announced politely."""
    box = root.get_by_test_id("restore-verdict")
    expect(box).to_have_attribute("data-verdict", verdict)
    expect(box).to_have_attribute("aria-live", "polite")
    expect(root.get_by_test_id("restore-verdict-word")).to_have_text(word)
    icon = root.get_by_test_id("restore-verdict-word").locator("svg.icon")
    expect(icon).to_have_attribute("data-icon-name", icon_name)


@pytest.mark.timeout(300)
def test_clean_backup_restores_on_a_fitting_system(
    open_page: Callable[..., Page], supervised_site: Site, supervisor: tuple[FakeSupervisor, str]
) -> None:
    """A full check of the plain demo backup: every part restored, the database healthy."""
    page = open_page()
    open_from_the_list(page, supervised_site, FULL_BACKUP[0])
    expect(card(page)).to_have_attribute("data-state", "none")
    expect_fitting_system(page)
    expect(page.get_by_test_id("restore-empty")).to_be_visible()

    page.get_by_test_id("full-check").click()
    expect(card(page)).to_have_attribute("data-state", "full")
    expect_verdict(page, "restores", "Restores", "checkCircle")
    expect_fitting_system(page)
    for part in ("homeassistant", "folder:share", "folder:ssl", "addon:core_mosquitto"):
        expect(part_row(page, part)).to_have_attribute("data-outcome", "restored")
        expect(part_row(page, part).get_by_test_id("restore-outcome")).to_have_text("Restored")
    expect(part_row(page, "addon:core_mosquitto")).to_contain_text("App Mosquitto broker")
    database = page.get_by_test_id("restore-database")
    expect(database).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("database-verdict")).to_have_text("Healthy")
    expect(database).to_contain_text("48")
    expect(database).to_contain_text("home-assistant_v2.db")
    expect(database).to_contain_text("1 Nov 2026")
    assert set(supervisor[0].tokens) == {f"Bearer {TOKEN}"}

    page.get_by_test_id("system-refresh").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("restore-system-status")).to_contain_text("Read from the Supervisor")
    expect(page.get_by_test_id("system-refresh")).to_be_focused()
    supervisor[0].info = {**supervisor[0].info, "homeassistant": "2026.12.1"}
    page.get_by_test_id("system-refresh").click()
    expect(page.get_by_test_id("restore-system-status")).to_contain_text("has changed")
    supervisor[0].info = {**supervisor[0].info, "homeassistant": "2026.11.2"}
    page.get_by_test_id("system-refresh").click()
    expect(page.get_by_test_id("restore-system-status")).to_contain_text("Read from the Supervisor")

    page.get_by_test_id("system-refresh").blur()  # no focus ring in the picture
    scroll_below_header(card(page))
    save_screenshot(page, "restore-card.png")


@pytest.mark.timeout(300)
def test_backup_from_a_newer_supervisor_fails_with_its_reason(
    open_page: Callable[..., Page], supervised_site: Site
) -> None:
    """A quick check is enough: every part is skipped because the Supervisor is too old."""
    page = open_page(viewport=PHONE_VIEWPORT, color_scheme="dark")
    open_from_the_list(page, supervised_site, NEWER_BACKUP)
    page.get_by_test_id("quick-check").click()
    expect_verdict(page, "fails", "Fails", "alertCircle")
    expect(page.get_by_test_id("restore-source")).to_contain_text("quick check")
    refusal = page.get_by_test_id("restore-refusals").get_by_test_id("restore-reason")
    expect(refusal).to_have_attribute("data-code", "supervisor-too-old")
    expect(refusal).to_contain_text(NEWER_SUPERVISOR)
    expect(refusal).to_contain_text("2026.11.0")
    for part in ("homeassistant", "folder:share"):
        row = part_row(page, part)
        expect(row).to_have_attribute("data-outcome", "skipped")
        expect(row.get_by_test_id("restore-outcome")).to_have_text("Skipped")
        reason = row.locator("[data-testid=restore-reason][data-code=supervisor-too-old]")
        expect(reason).to_contain_text("refuses the whole backup")
    expect(page.get_by_test_id("restore-database")).to_contain_text("A full check copies")
    # The card fits 360 px: nothing sticks out sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"], width
    scroll_below_header(page.get_by_test_id("restore-verdict"))
    save_screenshot(page, "restore-card-fails.png")


@pytest.mark.timeout(300)
def test_encrypted_backup_after_unlock_then_full_check(
    open_page: Callable[..., Page], supervised_site: Site
) -> None:
    """Locked: not predicted; unlocked: what a quick check can judge; full: restores, with a note."""
    page = open_page()
    open_from_the_list(page, supervised_site, ENCRYPTED_BACKUP[0])
    expect(card(page)).to_have_attribute("data-state", "none")

    unlock(page, DEMO_PASSWORD)
    expect(card(page)).to_have_attribute("data-state", "quick")
    expect_verdict(page, "unknown", "Cannot tell yet", "helpCircle")
    expect(part_row(page, "homeassistant")).to_have_attribute("data-outcome", "unknown")
    expect(page.get_by_test_id("not-judged").first).to_contain_text("not read")

    page.get_by_test_id("full-check").click()
    expect(card(page)).to_have_attribute("data-state", "full")
    expect_verdict(page, "restores", "Restores", "checkCircle")
    config = part_row(page, "supervisor-config")
    expect(config).to_have_attribute("data-outcome", "restored")
    note = config.locator("[data-testid=restore-reason][data-code=sensitive-archive]")
    expect(note.locator(".severity-word")).to_have_text("Note")
    expect(note.locator("svg.icon")).to_have_attribute("data-icon-name", "info")
    expect(page.get_by_test_id("database-verdict")).to_have_text("Healthy")
    # In the check's problem list the note has the same neutral look.
    listed = page.locator("[data-testid=verdict-problem][data-code=sensitive-archive]")
    expect(listed.locator(".severity-word")).to_have_text("Note")
    expect(listed.locator("svg.icon")).to_have_attribute("data-icon-name", "info")

    # Back later: the list remembered the prediction (its codes; sentences need a new check).
    page.get_by_test_id("back-button").click()
    wait_until_live(page)
    open_backup(page, ENCRYPTED_BACKUP[0])
    expect_verdict(page, "restores", "Restores", "checkCircle")
    expect(part_row(page, "supervisor-config")).to_have_attribute("data-outcome", "restored")

    unlock(page, DEMO_PASSWORD)
    page.get_by_test_id("full-check").click()
    expect(card(page)).to_have_attribute("data-state", "full")
    expect(page.get_by_test_id("full-check")).to_be_enabled()
    scroll_below_header(card(page))
    save_screenshot(page, "restore-card-encrypted.png")


def test_unknown_system_outside_home_assistant(
    open_page: Callable[..., Page], demo_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a Supervisor the card says the system is unknown, and predicts 'cannot tell yet'."""
    page = open_page()
    open_from_the_list(page, demo_site, FULL_BACKUP[0])
    expect(page.get_by_test_id("restore-system-unknown")).to_contain_text("Unknown system")
    page.get_by_test_id("quick-check").click()
    expect_verdict(page, "unknown", "Cannot tell yet", "helpCircle")
    expect(page.get_by_test_id("restore-verdict-title")).to_contain_text("system is unknown")
    expect(page.get_by_test_id("restore-system-unknown")).to_be_visible()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("color_scheme", "width"), [("light", "desktop"), ("dark", "phone")])
def test_the_card_passes_axe_core(
    open_page: Callable[..., Page],
    supervised_site: Site,
    axe_auditor: Callable[..., Auditor],
    color_scheme: str,
    width: str,
) -> None:
    """No serious WCAG 2.1 A/AA violation on the card: restoring, failing, and with notes."""
    viewport = PHONE_VIEWPORT if width == "phone" else DESKTOP_VIEWPORT
    page = open_page(viewport=viewport, color_scheme=color_scheme)
    auditor = axe_auditor(f"{color_scheme}, {viewport['width']} px")
    open_from_the_list(page, supervised_site, FULL_BACKUP[0])
    page.get_by_test_id("full-check").click()
    expect(card(page)).to_have_attribute("data-state", "full")
    auditor.audit(page, "restore card: restores")
    page.get_by_test_id("back-button").click()
    wait_until_live(page)
    open_backup(page, NEWER_BACKUP)
    page.get_by_test_id("quick-check").click()
    expect(card(page)).to_have_attribute("data-state", "quick")
    auditor.audit(page, "restore card: fails")
    auditor.assert_clean()
