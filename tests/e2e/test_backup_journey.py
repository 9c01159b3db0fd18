"""The main journey in Home Assistant's sidebar panel: list → unlock → full check → browse →
extract → download → preview, and the preview's escaping of untrusted text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    FileSpec,
    homeassistant_archive_entries,
    make_metadata,
    write_backup,
)
from backup_inspector.demo.demo_backups import (
    DAMAGED_BACKUP,
    DEMO_HOMEASSISTANT_VERSION,
    DEMO_PASSWORD,
    ENCRYPTED_BACKUP,
    FULL_BACKUP,
    LEGACY_BACKUP,
)

from .conftest import (
    Page,
    Site,
    children_of,
    entry_row,
    expect,
    open_backup,
    save_screenshot,
    scroll_below_header,
    shown_entry_paths,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

ENCRYPTED_NAME = ENCRYPTED_BACKUP[0]
EXTRACTED_FILES = ("data/automations.yaml", "data/home-assistant_v2.db")
DOWNLOADED_FILE = "data/home-assistant_v2.db"
PREVIEWED_FILE = "data/configuration.yaml"


def demo_homeassistant_specs() -> list[FileSpec]:
    """The entries the demo writes into homeassistant.tar.gz (the reference for every byte)."""
    return homeassistant_archive_entries(DEMO_HOMEASSISTANT_VERSION)


def spec_bytes(path: str) -> bytes:
    """The original content of one file of the demo's homeassistant archive."""
    for spec in demo_homeassistant_specs():
        if spec.path == path and spec.type == "file":
            with spec.open_content() as content:
                return content.read()
    raise AssertionError(f"{path} is not in the demo's homeassistant archive")


def test_unlock_check_browse_extract_download_and_preview_in_the_panel(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """A person opens the encrypted demo backup from the sidebar panel and uses every step."""
    page = open_page()
    page.goto(demo_site.panel_url)
    app = page.frame_locator("#ingress-frame")
    wait_until_live(app)
    assert [frame.url for frame in page.frames[1:]] == [demo_site.ingress_url]

    # The list: every backup, newest first, with what a person needs to pick one.
    names = [FULL_BACKUP, ENCRYPTED_BACKUP, DAMAGED_BACKUP, LEGACY_BACKUP]
    newest_first = [name for name, _date in sorted(names, key=lambda pair: pair[1], reverse=True)]
    expect(app.get_by_test_id("backup-card-name")).to_have_text(newest_first)
    expect(app.get_by_test_id("backups-count")).to_have_text("4 of 4 backups")
    card = app.get_by_test_id("backup-card").filter(has_text=ENCRYPTED_NAME)
    expect(card.get_by_test_id("backup-card-protected")).to_have_text("Protected")
    expect(card.get_by_test_id("backup-card-type")).to_have_text("Full")
    expect(card.get_by_test_id("backup-card-version")).to_have_text(
        f"Home Assistant {DEMO_HOMEASSISTANT_VERSION}"
    )
    expect(card.get_by_test_id("backup-card-contents")).to_have_text(
        "Contains: Home Assistant, Mosquitto broker, share, ssl"
    )
    expect(card.get_by_test_id("last-check")).to_have_attribute("data-level", "none")
    save_screenshot(page, "backups-list.png")

    # One backup: described in words, its archives encrypted with SecureTar v3.
    open_backup(app, ENCRYPTED_NAME)
    expect(app.get_by_test_id("backup-description")).to_contain_text(
        f"Full backup made by Home Assistant {DEMO_HOMEASSISTANT_VERSION}"
    )
    archive_rows = app.get_by_test_id("archive-row")
    expect(archive_rows).to_have_count(5)
    expect(app.get_by_test_id("archive-encryption")).to_have_text([re.compile("SecureTar v3")] * 5)
    expect(app.get_by_test_id("password-status")).to_have_attribute("data-state", "unset")
    expect(app.get_by_test_id("listing-status")).to_have_attribute("data-state", "locked")
    save_screenshot(page, "backup-detail.png")

    # Unlock: the password is accepted and a quick check says "so far so good" (not green).
    app.get_by_test_id("password-input").fill(DEMO_PASSWORD)
    app.get_by_test_id("password-submit").click()
    expect(app.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")
    expect(app.get_by_test_id("password-status")).to_contain_text("Password accepted")
    expect(app.get_by_test_id("password-input")).to_have_value("")
    expect(app.get_by_test_id("check-verdict")).to_have_attribute("data-level", "partial")

    # Full check: green, every archive read to its last byte.
    app.get_by_test_id("full-check").click()
    verdict = app.get_by_test_id("check-verdict")
    expect(verdict).to_have_attribute("data-level", "ok")
    expect(app.get_by_test_id("verdict-title")).to_have_text(
        "Everything was read to the last byte and verified: this backup will restore."
    )
    # No problem; only the note that supervisor.tar.gz holds credentials (issue 10, info).
    expect(app.get_by_test_id("verdict-problem")).to_have_count(1)
    expect(app.get_by_test_id("verdict-problem")).to_have_attribute(
        "data-code", "sensitive-archive"
    )
    expect(app.get_by_test_id("check-progress")).to_be_hidden()
    expect(app.get_by_test_id("archive-status")).to_have_text(
        [re.compile(r"read to the last byte")] * 5
    )
    expect(app.get_by_test_id("full-check")).to_be_enabled()
    scroll_below_header(app.get_by_test_id("password-card"))
    save_screenshot(page, "check-verdict.png")

    # Browse the homeassistant archive: the root, a folder, breadcrumbs, the filter.
    archive_paths = [spec.path for spec in demo_homeassistant_specs()]
    expect(app.get_by_test_id("browse-archive")).to_have_value("homeassistant")
    expect(app.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    expect(app.get_by_test_id("breadcrumbs")).to_have_text("homeassistant.tar.gz")
    expect(app.get_by_test_id("entry-row")).to_have_count(len(children_of("", archive_paths)))
    assert set(shown_entry_paths(app)) == children_of("", archive_paths)

    entry_row(app, "data").get_by_test_id("entry-open").click()
    data_children = children_of("data", archive_paths)
    expect(app.get_by_test_id("entry-row")).to_have_count(len(data_children))
    assert set(shown_entry_paths(app)) == data_children
    expect(app.get_by_test_id("breadcrumbs").get_by_role("listitem")).to_have_text(
        ["homeassistant.tar.gz", "data"]
    )
    expect(entry_row(app, "data/.storage")).to_have_attribute("data-type", "dir")
    expect(entry_row(app, PREVIEWED_FILE)).to_have_attribute("data-type", "file")
    config_size = len(spec_bytes(PREVIEWED_FILE))
    expect(entry_row(app, PREVIEWED_FILE)).to_contain_text(f"{config_size} bytes")

    app.get_by_test_id("breadcrumbs").get_by_role("button", name="homeassistant.tar.gz").click()
    expect(app.get_by_test_id("entry-row")).to_have_count(len(children_of("", archive_paths)))
    expect(app.get_by_test_id("breadcrumbs")).to_have_text("homeassistant.tar.gz")

    app.get_by_test_id("browse-filter").fill("yaml")
    yaml_files = sorted(path for path in archive_paths if path.endswith(".yaml"))
    expect(app.get_by_test_id("entry-row")).to_have_count(len(yaml_files))
    assert sorted(shown_entry_paths(app)) == yaml_files
    expect(entry_row(app, "data/secrets.yaml")).to_contain_text("data/secrets.yaml")
    app.get_by_test_id("browse-filter").fill("no-such-name")
    expect(app.get_by_test_id("entries-empty")).to_have_text("No entry matches the filter.")
    app.get_by_test_id("browse-filter").fill("")
    expect(app.get_by_test_id("entry-row")).to_have_count(len(children_of("", archive_paths)))

    # Take a text file and a binary one out into the share folder.
    entry_row(app, "data").get_by_test_id("entry-open").click()
    expect(app.get_by_test_id("entry-row")).to_have_count(len(data_children))
    for path in EXTRACTED_FILES:
        entry_row(app, path).get_by_test_id("entry-select").check()
    expect(app.get_by_test_id("selection-summary")).to_have_text("2 items selected.")
    scroll_below_header(app.get_by_test_id("browse-card"))
    save_screenshot(page, "browse.png")
    destination = f"backup_inspector/{ENCRYPTED_NAME}"
    expect(app.get_by_test_id("extract-destination")).to_have_value(destination)
    needed = sum(len(spec_bytes(path)) for path in EXTRACTED_FILES)
    space = app.get_by_test_id("extract-space")
    expect(space).to_have_attribute("data-state", "ok")
    expect(space).to_contain_text("(2 files)")
    expect(space).to_contain_text("Free:")
    expect(app.get_by_test_id("conflict-skip")).to_be_checked()
    app.get_by_test_id("extract-start").click()
    summary = app.get_by_test_id("extract-summary")
    expect(summary).to_have_attribute("data-state", "ok")
    expect(app.get_by_test_id("extract-result")).to_contain_text(
        f"2 items written ({round(needed / 1000)} KB) to share/{destination}. 0 skipped, 0 refused."
    )
    expect(app.get_by_test_id("extract-written").get_by_role("listitem")).to_have_text(
        list(EXTRACTED_FILES)
    )
    for path in EXTRACTED_FILES:
        on_disk = demo_site.share_dir / destination / path
        assert on_disk.read_bytes() == spec_bytes(path), f"{on_disk} differs from the original"
    scroll_below_header(app.get_by_test_id("extract-card"))
    save_screenshot(page, "extract-summary.png", mask=[app.get_by_test_id("extract-space")])

    # Download one file straight to the browser.
    with page.expect_download() as download_info:
        entry_row(app, DOWNLOADED_FILE).get_by_test_id("entry-download").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == Path(DOWNLOADED_FILE).name
    assert download.url.startswith(demo_site.ingress_url)  # through the ingress prefix
    assert Path(download.path()).read_bytes() == spec_bytes(DOWNLOADED_FILE)

    # Preview a YAML file: its text, line by line, numbered.
    scroll_below_header(app.get_by_test_id("browse-card"))
    entry_row(app, PREVIEWED_FILE).get_by_test_id("entry-preview").click()
    dialog = app.get_by_test_id("preview-dialog")
    expect(dialog).to_have_attribute("data-state", "ready")
    expect(app.get_by_test_id("preview-title")).to_have_text("configuration.yaml")
    original = spec_bytes(PREVIEWED_FILE).decode()
    lines = original.removesuffix("\n").split("\n")
    expect(app.get_by_test_id("preview-text")).to_have_text(original.removesuffix("\n"))
    expect(app.locator("#preview-numbers")).to_have_text(
        "\n".join(str(number) for number in range(1, len(lines) + 1))
    )
    expect(app.get_by_test_id("preview-status")).to_have_text(
        f"{len(original.encode())} bytes, {len(lines)} lines"
    )
    save_screenshot(page, "preview.png")
    app.get_by_test_id("preview-close").click()
    expect(dialog).to_be_hidden()


MARKUP_YAML = (
    "# Written by someone else: markup must show as text\n"
    'name: "<b>Kitchen</b> & <i>Hall</i>"\n'
    "icon: <img src=x onerror=\"document.title='pwned'\">\n"
    "note: '</pre><h1>not a heading</h1>'\n"
)


def test_preview_shows_markup_as_text(
    open_page: Callable[..., Page],
    start_site: Callable[[Iterable[Path]], Site],
    tmp_path: Path,
) -> None:
    """A file's content is shown escaped: tags appear as text, nothing is rendered or run."""
    archives = [
        ArchiveSpec(
            "homeassistant",
            [
                FileSpec("data", type="dir"),
                FileSpec("data/markup.yaml", content=MARKUP_YAML.encode()),
            ],
        )
    ]
    metadata = make_metadata(archives, name="Markup test", date="2026-11-22T08:00:00+00:00")
    backup = write_backup(tmp_path / "markup.tar", archives, metadata=metadata)
    site = start_site([backup])
    page = open_page()
    page.goto(site.ingress_url)
    wait_until_live(page)
    open_backup(page, "Markup test")
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    entry_row(page, "data").get_by_test_id("entry-open").click()
    entry_row(page, "data/markup.yaml").get_by_test_id("entry-preview").click()
    expect(page.get_by_test_id("preview-dialog")).to_have_attribute("data-state", "ready")
    text = page.get_by_test_id("preview-text")
    expect(text).to_have_text(MARKUP_YAML.removesuffix("\n"))
    expect(page.locator("#preview-numbers")).to_have_text("1\n2\n3\n4")
    for tag in ("b", "i", "img", "h1"):
        expect(text.locator(tag)).to_have_count(0)
    expect(page.locator("[data-testid=preview-dialog] h1")).to_have_count(0)
    assert "&lt;b&gt;Kitchen&lt;/b&gt;" in text.inner_html()
    assert page.title() != "pwned"


def test_backup_description_and_facts_agree_on_the_date(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """Outside UTC, the sentence and the 'Made' fact must not name different days unexplained."""
    page = open_page(timezone_id="America/New_York")
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    open_backup(page, ENCRYPTED_NAME)
    made = page.get_by_test_id("backup-facts").locator(".fact").filter(has_text="Made")
    expect(made).to_contain_text("20 Nov 2026, 23:45")
    description = page.get_by_test_id("backup-description").inner_text()
    assert "20 November 2026" in description or "UTC" in description, description
