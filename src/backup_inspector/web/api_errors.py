"""The one error shape of the API: {"error": {"code", "message"}} with a plain message."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backup_inspector.web.request_json import RequestJsonError, parse_json_object


class ApiError(Exception):
    """A request that cannot be served, with the HTTP status, a stable code and a message.

    Handlers raise it; the error middleware turns it into JSON. The message is
    shown to the user as is, so it is plain language and never contains a
    password or a traceback.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> web.Response:
    """A JSON error response that is never cached."""
    return web.json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def bad_request(message: str, code: str = "bad-request") -> ApiError:
    """400: the request itself is wrong; nothing was changed."""
    return ApiError(400, code, message)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 ApiError (request_json.py says why)."""
    raw = await request.read()
    try:
        return parse_json_object(raw)
    except RequestJsonError as error:
        # `from None`: nothing of the body (a password) travels on in the chain.
        raise bad_request(str(error)) from None


def require_string(body: dict[str, Any], key: str, *, max_length: int = 4096) -> str:
    """body[key] as a string, or a 400 ApiError that names the field."""
    value = body.get(key)
    if not isinstance(value, str):
        raise bad_request(f"'{key}' is required and must be text.")
    if len(value) > max_length:
        raise bad_request(f"'{key}' is too long.")
    if "\x00" in value:
        raise bad_request(f"'{key}' contains a NUL character.")
    return value


def optional_string(body: dict[str, Any], key: str, *, max_length: int = 4096) -> str | None:
    """body[key] as a string when present and not null."""
    if body.get(key) is None:
        return None
    return require_string(body, key, max_length=max_length)


def optional_int(
    body: dict[str, Any], key: str, default: int, *, minimum: int, maximum: int
) -> int:
    """body[key] as an int within [minimum, maximum], default when absent."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{key}' must be a whole number.")
    if not minimum <= value <= maximum:
        raise bad_request(f"'{key}' must be between {minimum} and {maximum}.")
    return value
