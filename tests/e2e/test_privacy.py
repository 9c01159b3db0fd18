"""The password goes to the server once and never comes back to the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backup_inspector.demo.demo_backups import DEMO_PASSWORD, ENCRYPTED_BACKUP

from .conftest import (
    Page,
    Site,
    entry_row,
    expect,
    open_backup,
    skip_without_browser,
    wait_until_live,
)

skip_without_browser()

ENCRYPTED_NAME = ENCRYPTED_BACKUP[0]


def secret_forms(secret: str) -> list[bytes]:
    """The ways a secret could appear in a body: as is, and escaped inside a JSON string."""
    return sorted({secret.encode(), json.dumps(secret)[1:-1].encode()})


def test_password_is_never_in_the_dom_or_in_any_response(
    open_page: Callable[..., Page], demo_site: Site
) -> None:
    """After unlocking, checking, browsing, previewing and extracting, neither the page nor
    anything the browser received (HTTP bodies, WebSocket messages, URLs) holds the password."""
    page = open_page()
    responses: list[Any] = []
    socket_frames: list[str | bytes] = []
    request_urls: list[str] = []
    # Playwright wraps handlers, so they must be Python functions (not bound builtins).
    page.on("response", lambda response: responses.append(response))
    page.on("request", lambda request: request_urls.append(request.url))
    page.on(
        "websocket",
        lambda socket: socket.on("framereceived", lambda frame: socket_frames.append(frame)),
    )
    page.goto(demo_site.ingress_url)
    wait_until_live(page)
    open_backup(page, ENCRYPTED_NAME)

    page.get_by_test_id("password-input").fill(DEMO_PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")
    page.get_by_test_id("full-check").click()
    expect(page.get_by_test_id("check-verdict")).to_have_attribute("data-level", "ok")
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    entry_row(page, "data").get_by_test_id("entry-open").click()
    entry_row(page, "data/secrets.yaml").get_by_test_id("entry-preview").click()
    expect(page.get_by_test_id("preview-dialog")).to_have_attribute("data-state", "ready")
    page.get_by_test_id("preview-close").click()
    entry_row(page, "data/secrets.yaml").get_by_test_id("entry-select").check()
    page.get_by_test_id("extract-start").click()
    expect(page.get_by_test_id("extract-summary")).to_have_attribute("data-state", "ok")
    page.get_by_test_id("browse-archive").select_option("share")
    expect(page.get_by_test_id("listing-status")).to_have_attribute("data-state", "complete")
    # Back to the list and in again: everything the page shows is re-read from the server.
    page.get_by_test_id("back-button").click()
    expect(page.get_by_test_id("backups-view")).to_be_visible()
    card = page.get_by_test_id("backup-card").filter(has_text=ENCRYPTED_NAME)
    expect(card.get_by_test_id("last-check")).to_have_attribute("data-level", "ok")
    open_backup(page, ENCRYPTED_NAME)
    expect(page.get_by_test_id("password-status")).to_have_attribute("data-state", "verified")
    page.get_by_test_id("jobs-button").click()
    expect(page.get_by_test_id("job-item")).not_to_have_count(0)

    # The page: its markup, its fields, its storage.
    assert DEMO_PASSWORD not in page.content()
    field_values = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map((field) => field.value)"
    )
    assert DEMO_PASSWORD not in field_values
    stored = page.evaluate(
        "() => JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])"
    )
    assert DEMO_PASSWORD not in stored

    # Everything the browser received.
    forms = secret_forms(DEMO_PASSWORD)
    json_bodies = 0
    for response in responses:
        if response.status == 101:  # the WebSocket handshake
            continue
        body = response.body()
        assert not any(form in body for form in forms), f"password in {response.url}"
        if "json" in response.headers.get("content-type", ""):
            json_bodies += 1
    assert json_bodies >= 10, "too few JSON answers seen: is the response listener working?"
    assert any(response.url.endswith("/password") for response in responses)
    assert socket_frames, "no WebSocket message seen: is the event stream working?"
    for frame in socket_frames:
        raw = frame if isinstance(frame, bytes) else frame.encode()
        assert not any(form in raw for form in forms), f"password in WebSocket message {frame!r}"
    for url in request_urls:
        assert DEMO_PASSWORD not in url
