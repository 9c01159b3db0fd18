"""The page: relative URLs only (it lives under an ingress prefix), no inline code, files served."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from aiohttp.test_utils import TestClient

from backup_inspector.web.app_factory import STATIC_DIR

URL_ATTRIBUTES = ("src", "href", "action", "formaction", "poster", "data")
ABSOLUTE_URL = re.compile(r"^(/|[a-z][a-z0-9+.-]*:)", re.IGNORECASE)
ALLOWED_SCHEMES = ("data:",)
JS_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']""", re.MULTILINE)
JS_ABSOLUTE_APP_URL = re.compile(r"""["'`]/(?:api|static|ws|healthz)\b""")
UNSAFE_HTML_SINK = re.compile(r"\.(?:innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write")


class _PageScanner(HTMLParser):
    """Collects URLs, inline scripts, inline styles and inline event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_handlers: list[str] = []
        self.style_attributes: list[str] = []
        self.test_ids: set[str] = set()
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append(value)
            if name.startswith("on"):
                self.inline_handlers.append(f"{tag}.{name}")
            if name == "style":
                self.style_attributes.append(tag)
            if name == "data-testid" and value:
                self.test_ids.add(value)
        self._in_script_without_src = tag == "script" and "src" not in attributes

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False


def scan_index() -> _PageScanner:
    """Parse the page's HTML."""
    scanner = _PageScanner()
    scanner.feed((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    return scanner


def test_index_uses_relative_urls_only() -> None:
    """Every URL in the page is relative, so it works under /api/hassio_ingress/<token>/."""
    scanner = scan_index()
    assert scanner.urls
    for url in scanner.urls:
        if url.startswith(ALLOWED_SCHEMES) or url.startswith("#"):
            continue
        assert not ABSOLUTE_URL.match(url), url
        assert not url.startswith("//"), url


def test_index_has_no_inline_code() -> None:
    """No inline scripts, handlers or style attributes (the CSP forbids them)."""
    scanner = scan_index()
    assert scanner.inline_scripts == 0
    assert scanner.inline_handlers == []
    assert scanner.style_attributes == []


def test_index_offers_stable_test_ids() -> None:
    """The ids the browser tests drive exist."""
    expected = {
        "backup-list",
        "backup-search",
        "backup-view",
        "password-input",
        "password-submit",
        "kit-file",
        "password-forget",
        "password-status",
        "quick-check",
        "full-check",
        "check-cancel",
        "check-verdict",
        "browse-archive",
        "browse-filter",
        "breadcrumbs",
        "entry-rows",
        "page-next",
        "extract-destination",
        "extract-space",
        "extract-start",
        "extract-summary",
        "preview-dialog",
        "preview-text",
        "jobs-panel",
    }
    assert expected <= scan_index().test_ids


def _javascript_files() -> list[Path]:
    return sorted(STATIC_DIR.rglob("*.js"))


def test_scripts_use_relative_urls_and_imports() -> None:
    """Modules import each other relatively and never name an absolute app URL."""
    for script in _javascript_files():
        text = script.read_text(encoding="utf-8")
        assert not JS_ABSOLUTE_APP_URL.search(text), script.name
        assert not UNSAFE_HTML_SINK.search(text), script.name
        for target in JS_IMPORT.findall(text):
            assert target.startswith(("./", "../")), f"{script.name}: {target}"
            assert (script.parent / target).resolve().is_file(), f"{script.name}: {target}"


def test_stylesheet_loads_nothing_from_outside() -> None:
    """No web fonts or images from a CDN: many installations have no internet."""
    css = (STATIC_DIR / "app.css").read_text(encoding="utf-8")
    assert "@import" not in css
    for url in re.findall(r"url\(([^)]*)\)", css):
        assert not ABSOLUTE_URL.match(url.strip("'\" ")), url
    assert "prefers-color-scheme: dark" in css
    assert "#03a9f4" in css.lower()


def test_icons_are_vendored_with_licence_and_version() -> None:
    """The Material Design Icons paths carry their version and licence."""
    icons = (STATIC_DIR / "icons" / "mdi-icons.js").read_text(encoding="utf-8")
    assert "@mdi/js 7.4.47" in icons
    assert (STATIC_DIR / "icons" / "MDI-LICENSE.txt").is_file()


async def test_page_and_assets_are_served(client: TestClient) -> None:
    """The page, its modules and its stylesheet are served with the right types."""
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    for url in scan_index().urls:
        if url.startswith(ALLOWED_SCHEMES):
            continue
        response = await client.get("/" + url)
        assert response.status == 200, url
    for script in _javascript_files():
        relative = script.relative_to(STATIC_DIR).as_posix()
        response = await client.get(f"/static/{relative}")
        assert response.status == 200, relative
        assert response.content_type in ("text/javascript", "application/javascript"), relative


async def test_health_check(client: TestClient) -> None:
    """GET /healthz answers 200 {"status": "ok"} for the container's HEALTHCHECK."""
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
