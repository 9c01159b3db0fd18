"""Cross-cutting rules for every request: who may talk, what may be sent, what comes back.

Order matters (outermost first): errors as JSON, then the peer allow-list,
then the rules for mutating requests. Security headers are added to every
response by an on_response_prepare hook.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from backup_inspector.inspection.failure_log import log_failure
from backup_inspector.inspection.job_runner import JobFailedError
from backup_inspector.web.api_errors import ApiError, error_response
from backup_inspector.web.engine_errors import api_error_for

_LOGGER: logging.Logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCH_VALUES = frozenset({"same-origin", "none"})

# No X-Frame-Options and no frame-ancestors 'none': the ingress panel is a
# same-origin iframe (addon-platform.md §8.10).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)

HTTP_STATUS_CODES = {
    400: "bad-request",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "request-too-large",
    415: "unsupported-media-type",
}


MAX_LOGGED_PEERS = 100
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")


def parse_trusted_proxies(
    addresses: Iterable[str], *, include_loopback: bool = True
) -> tuple[IpNetwork, ...]:
    """Parse addresses or networks ("172.30.32.2", "10.0.0.0/8"); loopback is added.

    `include_loopback=False` is for tests, which connect from loopback and
    need to look untrusted.
    """
    networks: list[IpNetwork] = []
    if include_loopback:
        networks.extend(ipaddress.ip_network(network) for network in LOOPBACK_NETWORKS)
    for address in addresses:
        networks.append(ipaddress.ip_network(address.strip(), strict=False))
    return tuple(networks)


def socket_peer_address(request: web.Request) -> str | None:
    """The IP address of the TCP peer, straight from the transport.

    Never X-Forwarded-For: both ingress hops append to it, so it says nothing
    about who is really connected (addon-platform.md §8.1).
    """
    transport = request.transport
    if transport is None:
        return None
    peer = transport.get_extra_info("peername")
    if isinstance(peer, (tuple, list)) and peer:
        return str(peer[0])
    return None


def is_trusted_peer(address: str | None, trusted: tuple[IpNetwork, ...]) -> bool:
    """Whether `address` is inside one of the trusted networks (IPv4-mapped IPv6 too)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in trusted)


class RefusedPeers:
    """Logs each refused address once (up to MAX_LOGGED_PEERS), so a flood cannot fill the log."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def note(self, address: str | None) -> None:
        """Log a refused peer the first time it is seen."""
        key = address or "?"
        if key not in self._seen and len(self._seen) < MAX_LOGGED_PEERS:
            self._seen.add(key)
            _LOGGER.warning("Refused a connection from %s: not the ingress proxy", address)


def peer_allow_list_middleware(trusted: tuple[IpNetwork, ...]) -> Callable[..., object]:
    """403 for every request whose socket peer is not a trusted proxy or loopback.

    The server refuses such peers when it accepts the connection already
    (connection_guard.py); this stays for any other way the app is served.
    """
    refused_peers = RefusedPeers()

    @web.middleware
    async def peer_allow_list(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Serve trusted peers; answer everyone else 403 (logged once per address)."""
        address = socket_peer_address(request)
        if not is_trusted_peer(address, trusted):
            refused_peers.note(address)
            return error_response(
                403,
                "untrusted-peer",
                "Backup Inspector only answers Home Assistant's ingress proxy. "
                "Open it from the Home Assistant sidebar.",
            )
        return await handler(request)

    return peer_allow_list


def _origin_matches_host(request: web.Request, origin: str) -> bool:
    """Whether an Origin header names the host the browser talked to."""
    if origin == "null":
        return False
    host_part = origin.split("://", 1)[-1]
    hosts = {request.headers.get("Host", "")}
    forwarded_host = request.headers.get("X-Forwarded-Host")
    if forwarded_host:
        hosts.add(forwarded_host)
    return host_part in hosts


def is_cross_site(request: web.Request) -> bool:
    """Whether the browser says this request comes from another site.

    Sec-Fetch-Site is the reliable signal when present. Without it, an Origin
    header must name the Host (or the X-Forwarded-Host the proxy passed on).
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in SAME_SITE_FETCH_VALUES
    origin = request.headers.get("Origin")
    if origin is not None:
        return not _origin_matches_host(request, origin)
    return False


# Routes that take a streamed multipart file instead of JSON (copy_routes).
MULTIPART_ROUTE_NAMES = frozenset({"copy-upload"})


def _is_upload(request: web.Request) -> bool:
    """A multipart body sent to a route made for uploads."""
    route_name = request.match_info.route.name
    return request.content_type == "multipart/form-data" and route_name in MULTIPART_ROUTE_NAMES


@web.middleware
async def mutation_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Mutating requests carry JSON and come from this page, never a cross-site form."""
    if request.method in MUTATING_METHODS:
        if is_cross_site(request):
            raise ApiError(403, "cross-site", "Requests from other sites are refused.")
        if request.content_type != "application/json" and not _is_upload(request):
            raise ApiError(
                415,
                "json-required",
                "This request must send JSON (Content-Type: application/json).",
            )
    return await handler(request)


@web.middleware
async def json_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes {"error": {"code", "message"}}; never a traceback."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.code, error.message)
    except JobFailedError as failure:
        error = api_error_for(failure)
        return error_response(error.status, error.code, error.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = HTTP_STATUS_CODES.get(error.status, "http-error")
        message = error.reason or "The request failed."
        if error.status == 404:
            message = "Not found."
        elif error.status == 413:
            message = "The request body is too large."
        return error_response(error.status, code, message)
    except ConnectionResetError:
        raise  # the browser went away; aiohttp closes the connection quietly
    except Exception as error:
        # Type and stack only: the exception's text may quote the request (a password).
        log_failure(_LOGGER, "Request %s %s failed", request.method, request.path, error=error)
        return error_response(
            500,
            "internal-error",
            "Something went wrong inside Backup Inspector; the add-on log has the details.",
        )


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: CSP (frame-ancestors 'self' only), nosniff, caching rules.

    A signal rather than a middleware so streamed downloads and WebSocket
    handshakes get the same headers.
    """
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    else:
        response.headers.setdefault("Cache-Control", "no-cache")
