"""Hostile JSON bodies get a 400, and nothing derived from a password reaches the log."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient

from backup_inspector.inspection.failure_log import log_failure
from backup_inspector.web.request_json import MAX_JSON_DEPTH, RequestJsonError, parse_json_object

from .web_helpers import backup_id_named

ENCRYPTED_NAME = "Automatic backup 2026.11.2"
JSON_HEADERS = {"Content-Type": "application/json"}


async def _post_raw(client: TestClient, path: str, raw: bytes) -> tuple[int, dict]:
    """POST raw bytes as JSON; (status, decoded error body)."""
    response = await client.post(path, data=raw, headers=JSON_HEADERS)
    return response.status, await response.json()


async def test_deeply_nested_body_is_a_400_without_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """100 000 nested lists: 400 'nested too deeply', and no error or traceback is logged."""
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    caplog.set_level(logging.DEBUG)
    raw = b'{"password": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body = await _post_raw(client, f"/api/backups/{backup_id}/password", raw)
    assert status == 400
    assert "nested too deeply" in body["error"]["message"]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text


async def test_password_with_lone_surrogate_is_a_400_that_logs_nothing_of_it(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A password with a lone surrogate: 400, and no log line gives its position or its text."""
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    caplog.set_level(logging.DEBUG)
    raw = b'{"password": "Kx7qPa\\ud800Zr9mWt"}'
    status, body = await _post_raw(client, f"/api/backups/{backup_id}/password", raw)
    assert status == 400
    assert body["error"]["code"] == "bad-request"
    assert "Kx7q" not in str(body) and "Zr9m" not in str(body)
    for forbidden in ("Kx7q", "Zr9m", "position", "surrogates not allowed", "Traceback"):
        assert forbidden not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_body_that_is_not_utf8_or_uses_nan_is_a_400(client: TestClient) -> None:
    """Invalid UTF-8 and NaN are refused as invalid JSON, not a 500."""
    backup_id = await backup_id_named(client, ENCRYPTED_NAME)
    path = f"/api/backups/{backup_id}/password"
    for raw in (b'{"password": "\xff\xfe"}', b'{"password": NaN}', b"", b"[1]"):
        status, body = await _post_raw(client, path, raw)
        assert status == 400, raw
        assert body["error"]["code"] == "bad-request"


def test_nesting_limit_is_exact() -> None:
    """Objects nested MAX_JSON_DEPTH deep parse; one level more is refused."""

    def nested(depth: int) -> bytes:
        return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)

    assert parse_json_object(nested(MAX_JSON_DEPTH))
    with pytest.raises(RequestJsonError, match="nested too deeply"):
        parse_json_object(nested(MAX_JSON_DEPTH + 1))


def test_surrogate_in_a_key_or_a_list_is_refused() -> None:
    """A lone surrogate anywhere in the body, keys included, is refused."""
    for raw in (b'{"\\udc80": 1}', b'{"paths": ["ok", "\\udfff"]}'):
        with pytest.raises(RequestJsonError, match="not valid Unicode"):
            parse_json_object(raw)


def test_unexpected_failures_are_logged_without_their_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """log_failure keeps the type and the stack but drops a message that quotes a secret."""
    caplog.set_level(logging.DEBUG)
    secret = "Kx" + "7q" + "\ud800" + "Zr" + "9m"  # built so that no source line holds it
    try:
        try:
            secret.encode()
        except UnicodeEncodeError as inner:
            raise RuntimeError(f"wrapped {secret}") from inner
    except RuntimeError as error:
        log_failure(logging.getLogger("test"), "Request %s failed", "POST /x", error=error)
    assert "UnicodeEncodeError" in caplog.text and "RuntimeError" in caplog.text
    assert "test_request_json.py" in caplog.text  # where it happened is kept
    for forbidden in ("Kx7q", "Zr9m", "position"):
        assert forbidden not in caplog.text
