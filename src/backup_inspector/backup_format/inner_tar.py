"""Walk an inner tar stream pushed to us in pieces: headers, member data, end marker.

The inner archive arrives as decrypted and inflated buffers of any size. This
walker parses headers straight out of those buffers and skips member data by
arithmetic (no copy), handing data to a DataSink only when a caller asked for
that member. It checks the structure a restore depends on: header checksums,
member data lengths, and the end-of-archive marker.
"""

from __future__ import annotations

from collections.abc import Callable

from .tar_entry import DataSink, EntryType, TarEntry, normalise_member_path
from .tar_header import (
    BLOCK_SIZE,
    DIRECTORY_TYPE,
    HARDLINK_TYPE,
    MAX_META_RECORD_SIZE,
    META_TYPES,
    REGULAR_TYPES,
    SYMLINK_TYPE,
    PendingOverrides,
    TarHeaderError,
    is_zero_block,
    padded_size,
    parse_header_block,
)

EntryCallback = Callable[[TarEntry], DataSink | None]
# Called before each header is parsed; raises (the caller's own exception) to stop.
StopCheck = Callable[[], None]


class InnerTarError(ValueError):
    """The inner tar structure is damaged; the message says how, in plain words.

    `offset` is the position in the tar stream where the damage was met.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


class StopWalk(Exception):
    """Raised by an entry callback (or its sink) to stop reading: the caller has what it needs."""


def entry_type_for(type_flag: bytes) -> EntryType:
    """Map a tar type flag to the kinds a person browsing cares about."""
    if type_flag in REGULAR_TYPES:
        return EntryType.FILE
    if type_flag == DIRECTORY_TYPE:
        return EntryType.DIR
    if type_flag == SYMLINK_TYPE:
        return EntryType.SYMLINK
    if type_flag == HARDLINK_TYPE:
        return EntryType.HARDLINK
    return EntryType.OTHER


_HEADER, _DATA, _META, _END = range(4)


class InnerTarWalker:
    """Incremental tar parser: `feed()` buffers in order, then `finish()`.

    For each real member it calls `on_entry(entry)`. If that returns a
    DataSink, the member's bytes are written to it and it is closed; if the
    stream ends first, the sink is aborted.

    `check_stop`, if given, is called before every header and may raise to
    stop the walk (a job's cancel). One inflated piece can hold many
    thousands of headers, so a check between pieces is not enough to stop
    within a second; this layer does not know about jobs, hence a callable.
    """

    def __init__(
        self, on_entry: EntryCallback | None = None, check_stop: StopCheck | None = None
    ) -> None:
        self._on_entry = on_entry
        self._check_stop = check_stop
        self._state = _HEADER
        self._header_buf = bytearray()
        self._meta_buf = bytearray()
        self._meta_type = b""
        self._remaining = 0  # data bytes left in the current member
        self._padding = 0  # padding bytes left after the current member's data
        self._sink: DataSink | None = None
        self._current: TarEntry | None = None
        self._overrides = PendingOverrides()
        self.offset = 0  # bytes of tar stream consumed
        self.entries = 0
        self.content_bytes = 0  # sum of regular-file sizes
        self.saw_end_marker = False
        self.trailing_nonzero = False

    # -- feeding ---------------------------------------------------------
    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Consume the next piece of the tar stream."""
        view = memoryview(data)
        pos = 0
        size = len(view)
        while pos < size:
            state = self._state
            if state in (_DATA, _META):
                pos = self._consume_data(view, pos, size)
            elif state == _HEADER:
                if self._padding:
                    skip = min(self._padding, size - pos)
                    self._padding -= skip
                    pos += skip
                    continue
                if not self._header_buf and size - pos >= BLOCK_SIZE:
                    block = bytes(view[pos : pos + BLOCK_SIZE])
                    pos += BLOCK_SIZE
                else:
                    take = min(BLOCK_SIZE - len(self._header_buf), size - pos)
                    self._header_buf += view[pos : pos + take]
                    pos += take
                    if len(self._header_buf) < BLOCK_SIZE:
                        continue
                    block = bytes(self._header_buf)
                    self._header_buf.clear()
                self._handle_header(block, self.offset + pos - BLOCK_SIZE)
            else:  # after the end marker: only NUL padding belongs here
                if any(view[pos:size]):
                    self.trailing_nonzero = True
                pos = size
        self.offset += size

    def _consume_data(self, view: memoryview, pos: int, size: int) -> int:
        take = min(self._remaining, size - pos)
        if take:
            piece = view[pos : pos + take]
            if self._state == _META:
                self._meta_buf += piece
            elif self._sink is not None:
                self._write_to_sink(piece)
            self._remaining -= take
            pos += take
        if self._remaining == 0:
            self._finish_member()
        return pos

    def _write_to_sink(self, piece: memoryview) -> None:
        assert self._sink is not None
        try:
            self._sink.write(piece)
        except BaseException:
            sink, self._sink = self._sink, None
            sink.abort()
            raise

    def _handle_header(self, block: bytes, block_offset: int) -> None:
        if self._check_stop is not None:
            self._check_stop()
        if is_zero_block(block):
            self.saw_end_marker = True
            self._state = _END
            return
        try:
            raw = parse_header_block(block)
        except TarHeaderError as err:
            raise InnerTarError(
                f"damaged tar header at byte {block_offset:,} of the archive ({err})", block_offset
            ) from err
        if raw.type_flag in META_TYPES:
            if raw.size > MAX_META_RECORD_SIZE:
                raise InnerTarError(f"tar extended header of {raw.size:,} bytes is not plausible")
            self._meta_type = raw.type_flag
            self._meta_buf.clear()
            self._begin_data(raw.size, _META)
            return
        try:
            header, _records = self._overrides.apply(raw)
        except TarHeaderError as err:
            raise InnerTarError(f"damaged tar extended header ({err})") from err
        entry_type = entry_type_for(header.type_flag)
        # Only regular files carry data; tar stores size 0 for the rest, but a
        # size field on a link or directory must still be skipped to stay in step.
        data_size = header.size
        link = header.link_name
        if entry_type == EntryType.HARDLINK:
            link = normalise_member_path(link)
        entry = TarEntry(
            path=normalise_member_path(header.name),
            raw_name=header.name,
            type=entry_type,
            size=data_size if entry_type == EntryType.FILE else 0,
            mtime=header.mtime,
            mode=header.mode & 0o7777,
            link=link if entry_type in (EntryType.SYMLINK, EntryType.HARDLINK) else "",
        )
        self.entries += 1
        if entry_type == EntryType.FILE:
            self.content_bytes += data_size
        self._current = entry
        self._sink = self._on_entry(entry) if self._on_entry is not None else None
        if self._sink is not None and entry_type != EntryType.FILE:
            self._sink = None
        self._begin_data(data_size, _DATA)

    def _begin_data(self, size: int, state: int) -> None:
        self._remaining = size
        self._padding = padded_size(size) - size
        self._state = state
        if size == 0:
            self._finish_member()

    def _finish_member(self) -> None:
        if self._state == _META:
            try:
                self._overrides.absorb(self._meta_type, bytes(self._meta_buf))
            except TarHeaderError as err:
                raise InnerTarError(f"damaged tar extended header ({err})") from err
            self._meta_buf.clear()
        elif self._sink is not None:
            sink, self._sink = self._sink, None
            sink.close()
        self._current = None
        self._state = _HEADER

    # -- the end -----------------------------------------------------------
    def abort(self) -> None:
        """The stream broke or the job stopped: abort a member being written."""
        if self._sink is not None:
            sink, self._sink = self._sink, None
            sink.abort()

    def finish(self) -> None:
        """The tar stream ended: raise InnerTarError if it ended in the wrong place."""
        if self._state in (_DATA, _META) or self._header_buf:
            name = self._current.path if self._current else "an extended header"
            self.abort()
            raise InnerTarError(f"the archive ends in the middle of {name!r}")
        if not self.saw_end_marker:
            raise InnerTarError("the archive has no end-of-archive marker: it was cut short")
