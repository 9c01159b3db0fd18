"""Run a producer of byte pieces in its own thread, a few pieces ahead of the consumer.

Used to overlap reading and decrypting an archive with inflating and walking
it: the secretstream and AES code, isal/zlib inflation and file reads all
release the GIL, so on two cores the stages run side by side. Memory stays
bounded by `depth` pieces (about 1 MiB each).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

DEFAULT_DEPTH = 2
_DONE = object()
_PUT_TIMEOUT_S = 0.05


class _ProducerFailed:
    """Carries an exception from the producer thread to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(
    pieces: Iterator[bytes | memoryview], depth: int = DEFAULT_DEPTH
) -> Iterator[bytes | memoryview]:
    """Yield what `pieces` yields, computed in a worker thread up to `depth` pieces ahead.

    An exception in the producer (damage, cancellation) is raised in the
    consumer at the same point in the stream. If the consumer stops early,
    the producer stops at its next piece.
    """
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_PUT_TIMEOUT_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for piece in pieces:
                if not offer(piece):
                    return
            offer(_DONE)
        except BaseException as err:
            offer(_ProducerFailed(err))
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _ProducerFailed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class ReadAhead:
    """`read_ahead` as the format layer's PlaintextPipe: says how many pieces it holds.

    At most `depth` pieces wait in the queue and one more waits in the
    producer for a free slot, so the buffer ring behind the pieces must not
    reuse a buffer within `depth + 1` pieces of the consumer's.
    """

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = depth
        self.pieces_held = depth + 1

    def __call__(self, pieces: Iterator[bytes | memoryview]) -> Iterator[bytes | memoryview]:
        """Wrap `pieces` in a read-ahead thread."""
        return read_ahead(pieces, self.depth)
