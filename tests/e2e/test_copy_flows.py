"""The two copy flows on the page: "Make a copy…" (damaged archive left out, decrypt) and
"Replace in a copy…" on a file in the browser; each copy read back without our reader."""

from __future__ import annotations

from collections.abc import Callable

from backup_inspector.demo.demo_backups import (
    DAMAGED_BACKUP,
    DEMO_PASSWORD,
    ENCRYPTED_BACKUP,
    FULL_BACKUP,
)
from inspection.copy_readback import file_sha256, read_back

from .accessibility_audit import Auditor
from .conftest import (
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

#: A copy is written and then fully checked: on a loaded 2-core machine that takes longer than a click.
COPY_WAIT_MS = 60_000
NEW_CONFIGURATION = b"homeassistant:\n  name: Fixed at the kitchen table\n"


def _originals(site: Site) -> dict[str, str]:
    return {path.name: file_sha256(path) for path in site.backup_dir.glob("*.tar")}


def _open(page: Page, site: Site, name: str) -> None:
    """Load the page through ingress and open one backup."""
    page.goto(site.ingress_url)
    wait_until_live(page)
    open_backup(page, name)


def _write_reviewed_copy(page: Page) -> None:
    """Review, write, and wait for the copy's green result."""
    page.get_by_test_id("copy-start").click()
    expect(page.get_by_test_id("copy-result")).to_have_attribute(
        "data-state", "ok", timeout=COPY_WAIT_MS
    )


def _new_copy(site: Site, before: dict[str, str]):
    """The one *.tar that was not in the folder before."""
    new = [path for path in site.backup_dir.glob("*.tar") if path.name not in before]
    assert len(new) == 1, new
    return new[0]


def test_make_a_copy_without_the_damaged_archive(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """After a full check finds share damaged, the copy leaves it out (preselected), shows a summary, then is listed."""
    before = _originals(demo_site)
    page = open_page()
    _open(page, demo_site, DAMAGED_BACKUP[0])
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute(
        "data-level", "error", timeout=COPY_WAIT_MS
    )

    page.get_by_test_id("copy-open").click()
    share = page.locator("[data-testid=copy-drop-archive][data-archive=share]")
    expect(share).to_be_checked()
    expect(page.locator("[data-testid=copy-drop-archive][data-archive=ssl]")).not_to_be_checked()
    page.get_by_test_id("copy-review").click()
    expect(page.get_by_test_id("copy-summary")).to_be_visible()
    expect(page.get_by_test_id("copy-summary-name")).to_have_text(f"{DAMAGED_BACKUP[0]} (copy)")
    expect(page.get_by_test_id("copy-summary-dropped")).to_have_text("share")
    assert _originals(demo_site) == before  # the summary writes nothing
    scroll_below_header(page.get_by_test_id("copy-card"))
    save_screenshot(page, "copy-summary.png", mask=[page.get_by_test_id("copy-summary-space")])

    page.get_by_test_id("copy-start").click()
    result = page.get_by_test_id("copy-result")
    expect(result).to_have_attribute("data-state", "ok", timeout=COPY_WAIT_MS)
    expect(result).to_contain_text("passed its full check")
    expect(result).to_contain_text("leaves out the share folder")
    scroll_below_header(page.get_by_test_id("copy-card"))
    save_screenshot(page, "copy-result.png")

    copy = _new_copy(demo_site, before)
    back = read_back(copy, None)
    assert "share" not in back.entries and "share" not in back.metadata["folders"]
    assert {name: h for name, h in _originals(demo_site).items() if name in before} == before
    page.get_by_test_id("back-button").click()
    expect(
        page.get_by_test_id("backup-card-name").filter(has_text=f"{DAMAGED_BACKUP[0]} (copy)")
    ).to_have_count(1)


def test_make_an_unencrypted_copy(open_page: Callable[..., Page], demo_site: Site) -> None:
    """Unlock, choose "No encryption", write: tarfile reads the copy without any password."""
    before = _originals(demo_site)
    page = open_page()
    _open(page, demo_site, ENCRYPTED_BACKUP[0])
    page.get_by_test_id("password-input").fill(DEMO_PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-forget")).to_be_visible()

    page.get_by_test_id("copy-open").click()
    page.get_by_test_id("copy-mode-decrypt").check()
    page.get_by_test_id("copy-review").click()
    expect(page.get_by_test_id("copy-summary-encryption")).to_have_text("No encryption")
    _write_reviewed_copy(page)
    back = read_back(_new_copy(demo_site, before), None)
    assert set(back.securetar_versions.values()) == {None}
    assert back.metadata["protected"] is False


def test_replace_a_file_in_a_copy(open_page: Callable[..., Page], demo_site: Site) -> None:
    """From the browser: download is offered, a new version is uploaded, the copy holds it."""
    before = _originals(demo_site)
    page = open_page()
    _open(page, demo_site, FULL_BACKUP[0])
    entry_row(page, "data").get_by_test_id("entry-open").click()
    row = entry_row(page, "data/configuration.yaml")
    row.get_by_test_id("entry-replace").click()

    dialog = page.get_by_test_id("replace-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("replace-path")).to_have_text(
        "homeassistant: data/configuration.yaml"
    )
    with page.expect_download() as download:
        page.get_by_test_id("replace-download").click()
    assert download.value.suggested_filename == "configuration.yaml"
    page.get_by_test_id("replace-file").set_input_files(
        {"name": "configuration.yaml", "mimeType": "text/yaml", "buffer": NEW_CONFIGURATION}
    )
    save_screenshot(page, "replace-in-copy.png")
    page.get_by_test_id("replace-add").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("copy-edit")).to_have_count(1)
    page.get_by_test_id("copy-review").click()
    expect(page.get_by_test_id("copy-summary-changed")).to_have_text(
        "homeassistant: data/configuration.yaml (replace)"
    )
    _write_reviewed_copy(page)

    back = read_back(_new_copy(demo_site, before), None)
    assert back.files("homeassistant")["data/configuration.yaml"] == NEW_CONFIGURATION
    original = read_back(demo_site.backup_dir / next(n for n in before if "2026-11-20" in n), None)
    changed = {
        path
        for path, data in back.files("homeassistant").items()
        if original.files("homeassistant").get(path) != data
    }
    assert changed == {"data/configuration.yaml"}


def test_copy_form_and_replace_dialog_pass_the_audit(
    open_page: Callable[..., Page], demo_site: Site, axe_auditor: Callable[..., Auditor]
) -> None:
    """axe-core finds nothing serious in the open copy form, its summary, or the replace dialog."""
    auditor = axe_auditor("light, 1200 px")
    page = open_page()
    _open(page, demo_site, DAMAGED_BACKUP[0])
    page.get_by_test_id("copy-open").click()
    page.get_by_test_id("copy-mode-new-password").check()
    page.get_by_test_id("copy-new-password").fill("a new one")
    page.get_by_test_id("copy-review").click()
    expect(page.get_by_test_id("copy-summary")).to_be_visible()
    auditor.audit(page, "copy form and summary")
    entry_row(page, "notes.txt").get_by_test_id("entry-replace").click()
    expect(page.get_by_test_id("replace-dialog")).to_be_visible()
    auditor.audit(page, "replace dialog")
    auditor.assert_clean()
