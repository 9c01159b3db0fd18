"""Looks: dark mode follows the system, and the page works at phone width (the companion app)."""

from __future__ import annotations

import re
from collections.abc import Callable

from backup_inspector.demo.demo_backups import DEMO_PASSWORD, ENCRYPTED_BACKUP, FULL_BACKUP

from .conftest import (
    PHONE_VIEWPORT,
    Locator,
    Page,
    Site,
    entry_row,
    expect,
    open_backup,
    save_screenshot,
    scroll_below_header,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

RGBA = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")


def parse_colour(css_colour: str) -> tuple[float, float, float, float]:
    """(red, green, blue, alpha) of a computed rgb()/rgba() colour."""
    match = RGBA.match(css_colour)
    assert match, css_colour
    red, green, blue, alpha = match.groups()
    return float(red), float(green), float(blue), float(alpha) if alpha is not None else 1.0


def over(css_colour: str, backdrop: str) -> str:
    """`css_colour` painted over the opaque `backdrop` (for translucent tints)."""
    red, green, blue, alpha = parse_colour(css_colour)
    back = parse_colour(backdrop)
    mixed = [
        alpha * front + (1 - alpha) * behind
        for front, behind in zip((red, green, blue), back[:3], strict=True)
    ]
    return "rgb({:.0f}, {:.0f}, {:.0f})".format(*mixed)


def luminance(css_colour: str) -> float:
    """Relative luminance (WCAG) of an opaque computed colour."""
    red, green, blue, _alpha = parse_colour(css_colour)

    def linear(channel: float) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: float, second: float) -> float:
    """WCAG contrast ratio of two luminances."""
    lighter, darker = max(first, second), min(first, second)
    return (lighter + 0.05) / (darker + 0.05)


def computed(locator: Locator, prop: str) -> str:
    """A computed CSS property of the first matching element."""
    return locator.first.evaluate("(element, prop) => getComputedStyle(element)[prop]", prop)


def page_background(page: Page) -> float:
    """Luminance of what is painted behind the page's content."""
    return luminance(computed(page.locator("body"), "backgroundColor"))


def test_dark_mode_follows_the_system_setting(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """With the system in dark mode the page is dark, and its text stays readable."""
    light = open_page(color_scheme="light")
    light.goto(demo_site.ingress_url)
    wait_until_live(light)
    assert page_background(light) > 0.8

    page = open_page(color_scheme="dark")
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    assert page_background(page) < 0.05
    card = page.get_by_test_id("backup-card")
    card_background = luminance(computed(card, "backgroundColor"))
    card_text = luminance(computed(card.get_by_test_id("backup-card-name"), "color"))
    assert card_background < 0.05
    assert contrast(card_background, card_text) >= 7

    open_backup(page, FULL_BACKUP[0])
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")
    verdict = page.get_by_test_id("check-verdict")
    card_colour = computed(page.get_by_test_id("check-card"), "backgroundColor")
    verdict_colour = over(computed(verdict, "backgroundColor"), card_colour)
    assert luminance(verdict_colour) < 0.1
    title_colour = computed(page.get_by_test_id("verdict-title"), "color")
    assert contrast(luminance(verdict_colour), luminance(title_colour)) >= 4.5
    assert luminance(computed(page.get_by_test_id("full-check"), "backgroundColor")) > 0.1
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    scroll_below_header(page.get_by_test_id("archive-table"))
    save_screenshot(page, "dark-mode.png")


def assert_fits_phone_width(page: Page, *controls: Locator) -> None:
    """No horizontal scrolling, and every control is visible and inside the screen's width."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    for control in controls:
        expect(control).to_be_visible()
        left, right = control.evaluate(
            """(element) => {
                element.scrollIntoView({ block: "center" });
                const box = element.getBoundingClientRect();
                return [box.left, box.right];
            }"""
        )
        assert left >= 0 and right <= PHONE_VIEWPORT["width"], (control, left, right)


def test_phone_width_needs_no_sideways_scrolling(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """At 360 px every step is reachable without horizontal scrolling."""
    page = open_page(viewport=PHONE_VIEWPORT, device_scale_factor=2)
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    assert_fits_phone_width(
        page,
        page.get_by_test_id("backup-search"),
        page.get_by_test_id("refresh-backups"),
        page.get_by_test_id("jobs-button"),
        *page.get_by_test_id("backup-open").all(),
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    save_screenshot(page, "phone.png")

    open_backup(page, ENCRYPTED_BACKUP[0])
    assert_fits_phone_width(
        page,
        page.get_by_test_id("back-button"),
        page.get_by_test_id("backup-name"),
        page.get_by_test_id("archive-table"),
        page.get_by_test_id("password-input"),
        page.get_by_test_id("password-submit"),
        page.get_by_text("Upload emergency kit"),
        page.get_by_test_id("quick-check"),
        page.get_by_test_id("full-check"),
    )
    page.get_by_test_id("password-input").fill(DEMO_PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    entry_row(page, "data").get_by_test_id("entry-open").click()
    config = entry_row(page, "data/configuration.yaml")
    config.get_by_test_id("entry-select").check()
    expect(page.get_by_test_id("extract-space")).to_have_attribute("data-state", "ok")
    assert_fits_phone_width(
        page,
        page.get_by_test_id("verdict-title"),
        page.get_by_test_id("browse-archive"),
        page.get_by_test_id("browse-filter"),
        page.get_by_test_id("breadcrumbs"),
        config.get_by_test_id("entry-select"),
        config.get_by_test_id("entry-preview"),
        config.get_by_test_id("entry-download"),
        page.get_by_test_id("extract-destination"),
        page.get_by_test_id("conflict-keep-both"),
        page.get_by_test_id("extract-start"),
    )
    page.get_by_test_id("extract-start").click()
    expect(page.get_by_test_id("extract-summary")).to_have_attribute("data-state", "ok")
    assert_fits_phone_width(page, page.get_by_test_id("extract-result"))

    config.get_by_test_id("entry-preview").click()
    expect(page.get_by_test_id("preview-dialog")).to_have_attribute("data-state", "ready")
    assert_fits_phone_width(page, page.get_by_test_id("preview-close"))
