"""SHA-256 of each regular file, taken while a listing or a full check streams its bytes.

A file's history across backups needs to know when two versions are the same
content; the bytes pass through anyway, so hashing them costs one more
update per piece, not another read. Listings that see only headers have no
hash: their rows carry None ("not hashed"), never a guess from size or time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..backup_format.tar_entry import DataSink

NOT_HASHED = "not hashed"  # what people are shown for a file whose bytes were not read


class HashingSink(DataSink):
    """Hashes a member's bytes, passes them on to `inner` (if any), reports the digest on close.

    An aborted member reports None: half a file has no content hash.
    """

    def __init__(
        self, on_digest: Callable[[str | None], None], inner: DataSink | None = None
    ) -> None:
        self._hash = hashlib.sha256()
        self._on_digest = on_digest
        self._inner = inner

    def write(self, data: bytes | memoryview) -> None:
        """Hash the piece, then hand it on."""
        self._hash.update(data)
        if self._inner is not None:
            self._inner.write(data)

    def close(self) -> None:
        """Every byte arrived: close the inner sink, then report the digest."""
        if self._inner is not None:
            self._inner.close()
        self._on_digest(self._hash.hexdigest())

    def abort(self) -> None:
        """The member broke off: no digest."""
        if self._inner is not None:
            self._inner.abort()
        self._on_digest(None)


class TeeSink(DataSink):
    """Hands every piece to several sinks (a full check's restore watch and the listing's hash)."""

    def __init__(self, sinks: list[DataSink]) -> None:
        self._sinks = sinks

    def write(self, data: bytes | memoryview) -> None:
        """Each sink gets the piece, in order."""
        for sink in self._sinks:
            sink.write(data)

    def close(self) -> None:
        """Close each sink."""
        for sink in self._sinks:
            sink.close()

    def abort(self) -> None:
        """Abort each sink."""
        for sink in self._sinks:
            sink.abort()


def joined_sink(*sinks: DataSink | None) -> DataSink | None:
    """One sink that feeds every given sink (None when there are none)."""
    present = [sink for sink in sinks if sink is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return TeeSink(present)
