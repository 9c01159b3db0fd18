"""One file straight to the browser: a streamed download, or a text preview.

Paths never travel in a URL (Home Assistant's filters reject some, and URLs
end up in logs), so a download is two steps: POST the archive and path, get
a short-lived single-use ticket, then let the browser GET `api/downloads/<ticket>`
so its own download manager streams the file, however big.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from backup_inspector.backup_format.tar_entry import EntryType
from backup_inspector.inspection.archive_index import name_of
from backup_inspector.inspection.progress import CancelToken
from backup_inspector.web.api_errors import ApiError, read_json_object, require_string
from backup_inspector.web.app_services import AppServices, services_of
from backup_inspector.web.backup_registry import KnownBackup
from backup_inspector.web.backup_routes import require_overview
from backup_inspector.web.browse_routes import (
    member_path_from_body,
    require_archive,
    require_password_if_encrypted,
)
from backup_inspector.web.entry_streaming import (
    QueueSink,
    api_error_for_read_failure,
    read_for_preview,
    start_reader_thread,
)

_LOGGER: logging.Logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

TICKET_LIFETIME_S = 120.0
MAX_TICKETS = 200
PREVIEW_MAX_BYTES = 4 * 1024 * 1024
BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class DownloadTicket:
    """What a download URL stands for: one file of one archive of one backup."""

    backup_id: str
    archive_name: str
    path: str
    expires_at: float


class DownloadTickets:
    """Single-use, short-lived download tickets (used on the event loop only)."""

    def __init__(self) -> None:
        self._tickets: dict[str, DownloadTicket] = {}

    def issue(self, backup_id: str, archive_name: str, path: str) -> str:
        """A new ticket for one file."""
        self._drop_expired()
        while len(self._tickets) >= MAX_TICKETS:
            del self._tickets[next(iter(self._tickets))]
        token = secrets.token_urlsafe(24)
        self._tickets[token] = DownloadTicket(
            backup_id, archive_name, path, time.monotonic() + TICKET_LIFETIME_S
        )
        return token

    def redeem(self, token: str) -> DownloadTicket | None:
        """The ticket for `token`, once; None when unknown, used or expired."""
        self._drop_expired()
        return self._tickets.pop(token, None)

    def _drop_expired(self) -> None:
        """Forget tickets past their lifetime."""
        now = time.monotonic()
        for token in [token for token, ticket in self._tickets.items() if ticket.expires_at < now]:
            del self._tickets[token]


DOWNLOAD_TICKETS: web.AppKey[DownloadTickets] = web.AppKey("download_tickets", DownloadTickets)


@dataclass(frozen=True)
class FileRequest:
    """The file a request names, with what the archive's listing knows of it (if listed)."""

    archive_name: str
    path: str
    size: int | None
    occurs_once: bool | None  # BrowsableIndex.occurs_once: True lets the read stop at the file


def _file_request(services: AppServices, known: KnownBackup, body: dict[str, Any]) -> FileRequest:
    """The file a request names; a 4xx ApiError if it is not one."""
    overview = require_overview(known)
    archive = require_archive(overview, require_string(body, "archive", max_length=255))
    path = member_path_from_body(body, "path")
    if path == ".":
        raise ApiError(400, "not-a-file", "Choose a file, not the archive itself.")
    require_password_if_encrypted(services, known, archive)
    index = services.listings.get(services.listing_key(known, archive.name))
    entry = index.entry(path) if index is not None else None
    if index is not None and index.has_folder(path):
        raise ApiError(
            400, "not-a-file", "That is a folder: extract it to the share folder instead."
        )
    if entry is not None and entry.type not in (EntryType.FILE, EntryType.HARDLINK):
        raise ApiError(400, "not-a-file", f"That entry is a {entry.type.value}, not a file.")
    size = entry.size if entry is not None and entry.type is EntryType.FILE else None
    occurs_once = index.occurs_once(path) if index is not None else None
    return FileRequest(archive.name, path, size, occurs_once)


def _occurs_once(
    services: AppServices, known: KnownBackup, archive_name: str, path: str
) -> bool | None:
    """Whether a complete listing of this version of the archive has `path` once (else None)."""
    index = services.listings.get(services.listing_key(known, archive_name))
    return index.occurs_once(path) if index is not None else None


@routes.post("/api/backups/{backup_id}/download")
async def prepare_download(request: web.Request) -> web.Response:
    """Issue a download ticket for one file; the page then navigates to the returned URL."""
    services = services_of(request)
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    # Listings live in SQLite (a saved one may be opened now): off the event loop.
    wanted = await services.run_blocking(_file_request, services, known, body)
    token = request.app[DOWNLOAD_TICKETS].issue(known.backup_id, wanted.archive_name, wanted.path)
    return web.json_response(
        {"url": f"api/downloads/{token}", "file_name": name_of(wanted.path), "size": wanted.size}
    )


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(
        character if 32 <= ord(character) < 127 and character not in '"\\;' else "_"
        for character in file_name
    )
    encoded = urllib.parse.quote(file_name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


async def _start_download_response(
    request: web.Request, file_name: str, size: int | None
) -> web.StreamResponse:
    """Send the headers of a streamed download."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": content_disposition(file_name),
            "X-Accel-Buffering": "no",
        }
    )
    if size is not None:
        response.content_length = size
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    return response


def _break_connection(request: web.Request) -> None:
    """End a download that failed half-way so the browser marks it as failed.

    The status line is already sent; closing the connection before the last
    byte (or the last chunk) is the only way left to say "incomplete".
    """
    transport = request.transport
    if transport is not None:
        transport.abort()


@routes.get("/api/downloads/{ticket}")
async def download_file(request: web.Request) -> web.StreamResponse:
    """Stream one file of an archive to the browser as it is read."""
    services = services_of(request)
    ticket = request.app[DOWNLOAD_TICKETS].redeem(request.match_info["ticket"])
    if ticket is None:
        raise ApiError(
            404, "download-expired", "This download link has expired; click download again."
        )
    known = await services.find_backup(ticket.backup_id)
    overview = require_overview(known)
    # The length comes from the member actually sent (read_entry's "entry"
    # event), never from the listing: with duplicate names they could differ.
    size: int | None = None
    # Asked now, not when the ticket was issued: the listing may have finished
    # since, and it must be the listing of the file as it is now.
    occurs_once = await services.run_blocking(
        _occurs_once, services, known, ticket.archive_name, ticket.path
    )
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = CancelToken()
    sink = QueueSink(loop, queue, cancel)
    release_slot = services.downloads.take()  # 503 when too many downloads run
    response: web.StreamResponse | None = None
    try:
        start_reader_thread(
            overview,
            ticket.archive_name,
            ticket.path,
            services.passwords.get(known.backup_id),
            sink,
            cancel,
            occurs_once,
        )
        while True:
            kind, value = await queue.get()
            if kind == "entry":
                size = value.size
            elif kind == "data":
                if response is None:
                    response = await _start_download_response(request, name_of(ticket.path), size)
                await response.write(value)
                sink.piece_sent()
            elif kind == "done":
                if response is None:
                    response = await _start_download_response(request, name_of(ticket.path), 0)
                await response.write_eof()
                return response
            elif kind in ("error", "cancelled"):
                error = (
                    value
                    if isinstance(value, ApiError)
                    else ApiError(500, "cancelled", "The download was cancelled.")
                )
                if response is None:
                    raise error
                _LOGGER.warning(
                    "Download of a file from %s failed: %s", known.file_name, error.message
                )
                _break_connection(request)
                return response
    except ConnectionError:
        # The browser went away (download cancelled): stop reading, nothing to answer.
        _LOGGER.debug("Download of a file from %s stopped by the browser", known.file_name)
        if response is None:
            raise
        return response
    finally:
        cancel.cancel()
        release_slot()


def _looks_binary(content: bytes) -> bool:
    """Whether the start of a file has NUL bytes (images, databases, archives)."""
    return b"\x00" in content[:BINARY_SNIFF_BYTES]


@routes.post("/api/backups/{backup_id}/preview")
async def preview_file(request: web.Request) -> web.Response:
    """A text file's content (up to a few MB) for the page to show with line numbers."""
    services = services_of(request)
    body = await read_json_object(request)
    known = await services.find_backup(request.match_info["backup_id"])
    # Listings live in SQLite (a saved one may be opened now): off the event loop.
    wanted = await services.run_blocking(_file_request, services, known, body)
    if wanted.size is not None and wanted.size > PREVIEW_MAX_BYTES:
        raise ApiError(
            413, "preview-too-large", "This file is too large to preview; download it instead."
        )
    cancel = CancelToken()
    try:
        result = await services.run_archive_read(
            read_for_preview,
            require_overview(known),
            wanted.archive_name,
            wanted.path,
            services.passwords.get(known.backup_id),
            PREVIEW_MAX_BYTES,
            cancel,
            wanted.occurs_once,
        )
    except ApiError:
        raise
    except asyncio.CancelledError:
        cancel.cancel()
        raise
    except Exception as error:
        raise api_error_for_read_failure(error, known.path) from error
    if result.is_too_large:
        raise ApiError(
            413, "preview-too-large", "This file is too large to preview; download it instead."
        )
    if _looks_binary(result.content):
        raise ApiError(
            415,
            "preview-binary",
            "This is not a text file, so it cannot be previewed; download it.",
        )
    text = result.content.decode("utf-8", errors="replace")
    return web.json_response(
        {
            "archive": wanted.archive_name,
            "path": wanted.path,
            "name": name_of(wanted.path),
            "size": len(result.content),
            "text": text,
            "line_count": text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        }
    )
