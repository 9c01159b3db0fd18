"""Keyboard only: the list, the unlock form and the checks work with Tab, typing and Enter."""

from __future__ import annotations

from collections.abc import Callable

from backup_inspector.demo.demo_backups import DEMO_PASSWORD, ENCRYPTED_BACKUP

from .conftest import (
    Page,
    Site,
    expect,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

ENCRYPTED_NAME = ENCRYPTED_BACKUP[0]
MAX_TAB_PRESSES = 40


def focus_by_keyboard(page: Page, selector: str, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the element matching `selector` has the focus,
    and check that the focus is visible (a ring or an outline)."""
    for _ in range(MAX_TAB_PRESSES):
        page.keyboard.press(key)
        state = page.evaluate(
            """(selector) => {
                const focused = document.activeElement;
                if (!focused || !focused.matches(selector)) return null;
                const style = getComputedStyle(focused);
                return { ring: style.boxShadow !== "none" || style.outlineStyle !== "none" };
            }""",
            selector,
        )
        if state is not None:
            assert state["ring"], f"{selector} has the focus but shows no focus ring"
            return
    raise AssertionError(f"{MAX_TAB_PRESSES} presses of {key} never reached {selector}")


def test_list_and_unlock_form_work_with_the_keyboard_only(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """Search, open a backup, type the password, unlock, run a full check and go back."""
    page = open_page()
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    # The list reloads once the event stream says hello; a reload while a card link has
    # the focus would drop it, so start tabbing when the page has settled.
    page.wait_for_load_state("networkidle")

    focus_by_keyboard(page, "[data-testid=backup-search]")
    page.keyboard.type("automatic")
    expect(page.get_by_test_id("backup-card")).to_have_count(1)
    expect(page.get_by_test_id("backups-count")).to_have_text("1 of 4 backups")

    focus_by_keyboard(page, "[data-testid=backup-open]")
    expect(page.locator(":focus")).to_have_accessible_name(f"Open {ENCRYPTED_NAME}")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("backup-view")).to_have_attribute("data-loaded", "true")
    expect(page.get_by_test_id("backup-name")).to_be_focused()
    expect(page.get_by_test_id("backup-name")).to_have_text(ENCRYPTED_NAME)

    focus_by_keyboard(page, "[data-testid=password-input]")
    expect(page.locator(":focus")).to_have_accessible_name("Password or emergency-kit key")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")

    focus_by_keyboard(page, "[data-testid=full-check]")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")

    focus_by_keyboard(page, "[data-testid=back-button]", key="Shift+Tab")
    expect(page.locator(":focus")).to_have_accessible_name("Back to all backups")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("backups-view")).to_be_visible()
    expect(page.get_by_test_id("backup-view")).to_be_hidden()
