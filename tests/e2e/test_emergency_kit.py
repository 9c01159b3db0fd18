"""Unlocking with the emergency-kit file Home Assistant hands out, uploaded through the page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from backup_inspector.demo.backup_writer import (
    ArchiveSpec,
    homeassistant_archive_entries,
    make_metadata,
    share_folder_entries,
    write_backup,
)

from .conftest import (
    Page,
    Site,
    expect,
    open_backup,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

KIT_KEY = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ12"
BACKUP_NAME = "Automatic backup 2026.11.3"
BACKUP_DATE = "2026-11-23T04:45:00.000000+00:00"

# Laid out like the kit Home Assistant offers for download when backups are set up:
# some prose, the key on a line of its own, a date. Only the key is 7 groups of 4.
KIT_TEXT = f"""Home Assistant backup emergency kit

This is your backup encryption key. You need it to restore your backups
on a new system or to open them with another tool.

Keep it in a safe place, such as a password manager. Without this key
nobody, including you, can read your encrypted backups.

Encryption key:
{KIT_KEY}

Created: 23 November 2026
For more information visit: https://www.home-assistant.io/more-info/backup-emergency-kit
"""


def write_kit_protected_backup(folder: Path) -> Path:
    """A SecureTar v3 backup whose password is the kit's key, as Home Assistant makes them."""
    archives = [
        ArchiveSpec("homeassistant", homeassistant_archive_entries(), encryption="v3"),
        ArchiveSpec("share", share_folder_entries(), encryption="v3"),
    ]
    metadata = make_metadata(archives, name=BACKUP_NAME, date=BACKUP_DATE, password=KIT_KEY)
    return write_backup(
        folder / "Automatic_backup_2026.11.3.tar", archives, password=KIT_KEY, metadata=metadata
    )


def test_uploaded_emergency_kit_unlocks_the_backup(
    open_page: Callable[..., Page],
    start_site: Callable[[Iterable[Path]], Site],
    tmp_path: Path,
) -> None:
    """Choosing the kit file is enough: the key inside unlocks every archive and a full check
    goes green; the key itself is never typed, shown or put back into the field."""
    site = start_site([write_kit_protected_backup(tmp_path)])
    kit_file = tmp_path / "home_assistant_backup_emergency_kit.txt"
    kit_file.write_text(KIT_TEXT, encoding="utf-8")

    page = open_page()
    page.goto(site.ingress_url)
    wait_until_live(page)
    open_backup(page, BACKUP_NAME)
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "unset")
    expect(page.get_by_text("Upload emergency kit")).to_be_visible()

    page.get_by_test_id("kit-file").set_input_files(kit_file)

    status = page.get_by_test_id("password-status")
    expect(status).to_have_attribute("data-state", "verified")
    expect(status).to_contain_text("Password accepted: it opens every encrypted archive.")
    expect(page.get_by_test_id("password-input")).to_have_value("")
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "partial")
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    expect(page.get_by_test_id("entry-row")).not_to_have_count(0)

    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")
    assert KIT_KEY not in page.content()
