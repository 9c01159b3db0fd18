"""End-to-end fixtures: a real Chromium (Debian's package) driving the page through fake ingress.

The app and the fake ingress proxy (`web.ingress_proxy.BackgroundServers`)
run in a thread with their own event loop; the tests use Playwright's sync
API and reach the page only under the ingress path prefix (or inside the
sidebar panel's iframe), as a Home Assistant user does.

Chromium is Debian's `/usr/bin/chromium` (scripts/test installs it). Browser
downloads are impossible here, so Playwright's own browsers are never used.
Without the binary (or without Playwright) every test module skips itself
with the reason: each calls `skip_without_browser()` at module level. (A
skip raised here, in the conftest, would crash `pytest tests/e2e`.)
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from backup_inspector.demo.demo_backups import create_demo_folder
from backup_inspector.web.app_factory import create_app
from backup_inspector.web.restore_routes import SUPERVISOR_BASE_URL
from backup_inspector.web.web_settings import WebSettings
from web.ingress_proxy import BackgroundServers

from .accessibility_audit import AUDIT_LOG, Auditor, missing_axe, summary_lines

CHROMIUM = Path("/usr/bin/chromium")

try:
    from playwright import sync_api
except ImportError:  # pragma: no cover - requirements-test.txt installs it
    sync_api = None

if sync_api is not None:
    Browser = sync_api.Browser
    Locator = sync_api.Locator
    Page = sync_api.Page
    expect = sync_api.expect
else:  # pragma: no cover - only names for the annotations; every module skips
    Browser = Locator = Page = Any
    expect = None

if not CHROMIUM.exists():
    MISSING_BROWSER = (
        f"end-to-end tests need Debian's Chromium at {CHROMIUM} "
        "(apt-get install chromium, or run scripts/test as root)"
    )
elif sync_api is None:
    MISSING_BROWSER = "end-to-end tests need Playwright (pip install -r requirements-test.txt)"
else:
    MISSING_BROWSER = ""


def skip_without_browser() -> None:
    """Skip the calling test module, saying why, when Chromium or Playwright is missing."""
    if MISSING_BROWSER:
        pytest.skip(MISSING_BROWSER, allow_module_level=True)


#: Flags that keep Chromium off the (closed) network and quick to start.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP_VIEWPORT = {"width": 1200, "height": 800}
PHONE_VIEWPORT = {"width": 360, "height": 740}
#: Where DOCS.md finds its screenshots; every run rewrites them.
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT_MS = 20_000

if expect is not None:
    expect.set_options(timeout=WAIT_MS)


# --------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the e2e package, closed before other folders run.

    Package scope on purpose: while sync Playwright runs, the main thread
    counts as having a running event loop, which the async tests elsewhere
    in the suite must not meet.
    """
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def axe_auditor() -> Callable[..., Auditor]:
    """Make an axe-core auditor labelled with its scheme and width; skips when axe-core is missing.

    Skipping (with the reason) mirrors a missing Chromium: scripts/test
    installs both, so CI always audits.
    """
    reason = missing_axe()
    if reason:
        pytest.skip(reason)
    return Auditor


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List what axe-core found per screen, and every moderate or minor violation."""
    lines = summary_lines(AUDIT_LOG)
    if lines:
        terminalreporter.section("accessibility (axe-core)")
        for line in lines:
            terminalreporter.write_line(line)


# --------------------------------------------------------------------------
# The app behind the fake ingress proxy
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A running app behind the ingress proxy, with its folders."""

    servers: BackgroundServers
    backup_dir: Path
    share_dir: Path

    @property
    def ingress_url(self) -> str:
        """The page as the browser sees it through ingress."""
        return self.servers.ingress_url

    @property
    def panel_url(self) -> str:
        """Home Assistant's sidebar panel: the page in the same-origin iframe #ingress-frame."""
        return self.servers.panel_url


@pytest.fixture(scope="session")
def demo_backup_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The demo backups, written once per session (tests get copies)."""
    return create_demo_folder(tmp_path_factory.mktemp("e2e-demo-backups"))


def app_for(settings: WebSettings, supervisor_url: str | None) -> web.Application:
    """The app; with `supervisor_url`, it asks the Supervisor there (a fake on 127.0.0.1)."""
    app = create_app(settings)
    if supervisor_url is not None:
        app[SUPERVISOR_BASE_URL] = supervisor_url
    return app


@pytest.fixture
def start_site(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """Start the app for copies of the given backup files (and WebSettings overrides).

    `supervisor_url` points the app at a fake Supervisor (SUPERVISOR_TOKEN
    must then be set, as in the add-on). The sites stop after the test.
    """
    started: list[Site] = []
    with contextlib.ExitStack() as stack:

        def start(
            backup_files: Iterable[Path],
            supervisor_url: str | None = None,
            **setting_overrides: Any,
        ) -> Site:
            root = tmp_path / f"site-{len(started)}"
            backup_dir, share_dir, data_dir = root / "backup", root / "share", root / "data"
            for folder in (backup_dir, share_dir, data_dir):
                folder.mkdir(parents=True)
            for source in backup_files:
                shutil.copy2(source, backup_dir / source.name)
            settings = WebSettings(
                backup_dir=backup_dir,
                share_dir=share_dir,
                data_dir=data_dir,
                folder_poll_interval_s=0.5,
                **setting_overrides,
            )
            servers = stack.enter_context(
                BackgroundServers(lambda: app_for(settings, supervisor_url))
            )
            started.append(Site(servers=servers, backup_dir=backup_dir, share_dir=share_dir))
            return started[-1]

        yield start


@pytest.fixture
def demo_site(start_site: Callable[[Iterable[Path]], Site], demo_backup_files: list[Path]) -> Site:
    """The app serving copies of the four demo backups."""
    return start_site(demo_backup_files)


@pytest.fixture
def open_page(
    browser: Browser, start_site: Callable[[Iterable[Path]], Site]
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context: (viewport=…, color_scheme=…, …) -> Page.

    Fixed locale, time zone and scale keep the screenshots the same on every
    machine. Uncaught JavaScript errors on any page fail the test. It depends
    on `start_site` so that pages close before the servers stop (an open
    WebSocket would otherwise hold the proxy's shutdown).
    """
    contexts: list[Any] = []
    page_errors: list[str] = []

    def open_one(
        *,
        viewport: dict[str, int] | None = None,
        color_scheme: str = "light",
        device_scale_factor: float = 1,
        timezone_id: str = "UTC",
    ) -> Page:
        context = browser.new_context(
            viewport=viewport or DESKTOP_VIEWPORT,
            device_scale_factor=device_scale_factor,
            color_scheme=color_scheme,  # type: ignore[arg-type]
            reduced_motion="reduce",
            locale="en-GB",
            timezone_id=timezone_id,
            accept_downloads=True,
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert not page_errors, f"JavaScript errors on the page: {page_errors}"


# --------------------------------------------------------------------------
# Helpers shared by the test modules
# --------------------------------------------------------------------------

#: The part of the page a test talks to: the page itself, or the panel's iframe.
Root = Any


def wait_until_live(root: Root) -> None:
    """The page loaded its list and its live-event socket is open (through the proxy)."""
    expect(root.get_by_test_id("backups-view")).to_have_attribute("data-loaded", "true")
    expect(root.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")


def open_backup(root: Root, name: str) -> None:
    """Open one backup from the list by its name, and wait until it is shown."""
    root.get_by_role("link", name=f"Open {name}", exact=True).click()
    expect(root.get_by_test_id("backup-view")).to_have_attribute("data-loaded", "true")
    expect(root.get_by_test_id("backup-name")).to_have_text(name)


def open_from_the_list(page: Page, site: Site, name: str) -> None:
    """Load the list through ingress, wait until it is live, and open one backup."""
    page.goto(site.ingress_url)
    wait_until_live(page)
    open_backup(page, name)


def unlock(root: Root, password: str) -> None:
    """Type the password into the backup's password box and submit it."""
    root.get_by_test_id("password-input").fill(password)
    root.get_by_test_id("password-submit").click()


def scroll_below_header(target: Locator) -> None:
    """Scroll so that `target` starts just below the sticky app bar (for screenshots)."""
    target.evaluate(
        """(element) => {
            const header = document.querySelector("[data-testid=app-bar]");
            const offset = (header ? header.getBoundingClientRect().height : 0) + 16;
            window.scrollTo(0, element.getBoundingClientRect().top + window.scrollY - offset);
        }"""
    )


def save_screenshot(page: Page, name: str, mask: Sequence[Locator] = ()) -> Path:
    """Save a viewport screenshot (not full page: the header is sticky) under docs/screenshots.

    `mask` covers parts that differ from machine to machine (free disk space),
    so the committed pictures only change when the page does. The health
    summary's "age of the newest backup" changes by the day: always masked.
    """
    age = "[data-testid=health-newest-age]"
    mask = [*mask, page.locator(age), page.frame_locator("#ingress-frame").locator(age)]
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.mouse.move(0, 0)  # no hover effect on whatever was clicked last
    page.screenshot(path=str(path), animations="disabled", caret="hide", mask=mask)
    return path


def entry_row(root: Root, path: str) -> Locator:
    """The row of one entry in the browse table."""
    return root.locator(f'[data-testid=entry-row][data-path="{path}"]')


def shown_entry_paths(root: Root) -> list[str]:
    """The paths of the rows the browse table shows, in order."""
    return [row.get_attribute("data-path") or "" for row in root.get_by_test_id("entry-row").all()]


def children_of(folder: str, paths: Iterable[str]) -> set[str]:
    """The direct children of `folder` ("" for the archive root) among archive paths."""
    prefix = f"{folder}/" if folder else ""
    children = set()
    for raw_path in paths:
        path = raw_path.removeprefix("./")
        if path.startswith(prefix) and path != folder:
            first = path[len(prefix) :].split("/", 1)[0]
            children.add(prefix + first)
    return children
