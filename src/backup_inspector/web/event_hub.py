"""Fan-out of events (job progress, folder changes) to every open WebSocket.

Events come from worker threads; `publish` hands them to the event loop. Each
connection has a bounded queue: a page that stops reading is dropped rather
than letting memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

_LOGGER: logging.Logger = logging.getLogger(__name__)

QUEUE_LIMIT = 1000


class EventHub:
    """Thread-safe publish; async subscribe per connection."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        """Send `event` to every subscriber; callable from any thread."""
        if self._loop.is_closed():
            return
        # RuntimeError: the loop is shutting down; nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._publish_now, event)

    def _publish_now(self, event: dict[str, Any]) -> None:
        """On the loop: queue the event for every subscriber, dropping stuck ones."""
        for queue in list(self._queues):
            if queue.qsize() >= QUEUE_LIMIT:
                _LOGGER.warning("Dropping a WebSocket client that stopped reading events")
                self._queues.discard(queue)
                queue.put_nowait(None)
                continue
            queue.put_nowait(event)

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        """A new queue that receives every event from now on (None means: disconnect)."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        """Stop delivering to `queue`."""
        self._queues.discard(queue)

    def close_all(self) -> None:
        """Tell every subscriber to disconnect (at shutdown)."""
        for queue in list(self._queues):
            queue.put_nowait(None)
        self._queues.clear()

    @property
    def subscriber_count(self) -> int:
        """How many connections listen."""
        return len(self._queues)
