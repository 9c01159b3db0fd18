"""Inflate a gzip stream to its end and verify CRC32 and ISIZE, in both v1 trailer shapes.

Python's streaming tarfile never reads the gzip trailer, which is why a
bit-rotted backup "passes" every tarfile-based tool (user-needs §3.4). Here the
deflate data is inflated to its end-of-stream, the CRC32 and length of the
output are computed, and the trailer is compared in whichever shape the
format allows (format-spec §2.3):

* standard: CRC32 ‖ ISIZE, then nothing (plain gzip, v2), or PKCS#7 padding
  of 1–16 bytes (v1 written by securetar 2025.1.x);
* legacy v1 split trailer: [p pad bytes of value p] ‖ CRC32 ‖ 0x0C×12 ‖
  ISIZE ‖ 0x0C×12, because the legacy writer padded each write() separately.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

# Output is produced in bounded pieces so a "zip bomb" (deflate can expand
# about 1000×) never needs more memory than this. 1 MiB measured fastest of
# 64 KiB / 256 KiB / 1 MiB / 4 MiB in bench/bench_check.py: larger pieces are
# fresh mmap'ed allocations whose pages fault in again for every piece.
MAX_OUTPUT_PIECE = 1024 * 1024
# Compressed input is inflated this much at a time: when the deflate data is
# damaged, everything inflated before the damaged piece has already reached
# the tar walker (so the entries before it still list), and the position of
# the damage is known to within this many bytes.
INFLATE_INPUT_PIECE = 64 * 1024

_FTEXT, _FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 1, 2, 4, 8, 16
_LEGACY_FILL = b"\x0c" * 12
_MAX_HEADER = 64 * 1024  # a gzip header with a name/comment longer than this is not plausible


def _load_inflate_backend() -> tuple[str, Any, Any, tuple[type[Exception], ...]]:
    """Pick the fastest zlib-compatible inflater installed: isal, zlib-ng, then zlib.

    All three release the GIL while inflating, and produce identical output.
    """
    try:
        from isal import isal_zlib  # noqa: PLC0415

        return "isal", isal_zlib.decompressobj, isal_zlib.crc32, (isal_zlib.error, zlib.error)
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng  # noqa: PLC0415

        return "zlib-ng", zlib_ng.decompressobj, zlib_ng.crc32, (zlib_ng.error, zlib.error)
    except ImportError:
        pass
    return "zlib", zlib.decompressobj, zlib.crc32, (zlib.error,)


INFLATE_BACKEND, _new_raw_inflater, crc32, _INFLATE_ERRORS = _load_inflate_backend()


class GzipError(ValueError):
    """The gzip stream is damaged; the message says how, in plain words.

    `offset` is where in the compressed stream the damage was met, when known.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


def parse_gzip_header(data: bytes) -> int | None:
    """Return the length of the gzip header at the start of `data`, None if more bytes are needed.

    Honours every FLG bit (format-spec §2.3: Python's stream writer sets FNAME
    with an empty name on encrypted streams).
    """
    if len(data) < 10:
        return None
    if data[0:2] != b"\x1f\x8b":
        raise GzipError("the data does not start with a gzip header")
    if data[2] != 8:
        raise GzipError(f"unknown gzip compression method {data[2]}")
    flags = data[3]
    if flags & 0xE0:
        raise GzipError("the gzip header has reserved flag bits set")
    pos = 10
    if flags & _FEXTRA:
        if len(data) < pos + 2:
            return None
        pos += 2 + struct.unpack_from("<H", data, pos)[0]
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            end = data.find(b"\x00", pos)
            if end == -1:
                return None
            pos = end + 1
    if flags & _FHCRC:
        pos += 2
    return pos if len(data) >= pos else None


class GzipVerifier:
    """Push compressed bytes in with `feed()` (yields inflated pieces), then `finish()`."""

    def __init__(self, *, allow_legacy_trailer: bool, allow_padding: bool) -> None:
        self._allow_legacy_trailer = allow_legacy_trailer
        self._allow_padding = allow_padding
        self._header = bytearray()
        self._inflater: Any = None
        self._remainder = bytearray()  # bytes after the deflate end-of-stream
        self._remainder_overflow = 0
        self.crc = 0
        self.output_size = 0
        self.compressed_consumed = 0
        self._last_span = (0, 0, 0, 0)  # compressed start/end, output start/end of the last output

    def feed(self, data: bytes | memoryview) -> Iterator[bytes]:
        """Inflate the next compressed piece; yields output in bounded pieces."""
        if self._inflater is None:
            self._header += data
            header_size = parse_gzip_header(bytes(self._header))
            if header_size is None:
                if len(self._header) > _MAX_HEADER:
                    raise GzipError("the gzip header is not plausible", self.compressed_consumed)
                self.compressed_consumed += len(data)
                return
            self.compressed_consumed = header_size  # the stream starts with its header
            data = bytes(self._header[header_size:])
            self._header.clear()
            self._inflater = _new_raw_inflater(wbits=-15)
        view = memoryview(data)
        for start in range(0, len(view), INFLATE_INPUT_PIECE):
            piece = view[start : start + INFLATE_INPUT_PIECE]
            if self._inflater.eof:
                self._keep_remainder(piece)
            else:
                yield from self._inflate(piece)
            self.compressed_consumed += len(piece)

    def _inflate(self, piece: memoryview) -> Iterator[bytes]:
        inflater = self._inflater
        compressed_start = self.compressed_consumed
        data_in: bytes | memoryview = piece
        try:
            out = inflater.decompress(data_in, MAX_OUTPUT_PIECE)
            while True:
                tail = inflater.unconsumed_tail
                compressed_end = compressed_start + len(data_in) - len(tail)
                if out:
                    self._last_span = (
                        compressed_start,
                        compressed_end,
                        self.output_size,
                        self.output_size + len(out),
                    )
                    self.crc = crc32(out, self.crc)
                    self.output_size += len(out)
                    yield out
                if not tail or inflater.eof:
                    break
                compressed_start, data_in = compressed_end, tail
                out = inflater.decompress(tail, MAX_OUTPUT_PIECE)
        except _INFLATE_ERRORS as err:
            raise GzipError(
                f"the compressed data is damaged ({err})", self.compressed_consumed
            ) from err
        if inflater.eof:
            self._keep_remainder(inflater.unused_data)

    def compressed_offset_of(self, output_offset: int) -> int:
        """Estimate which compressed byte produced the output byte at `output_offset`.

        Interpolates inside the last inflated span, whose compressed and
        inflated extents are both known; used to say where damage found in
        the tar structure lies in the archive.
        """
        c_start, c_end, u_start, u_end = self._last_span
        if u_end <= u_start or output_offset <= u_start:
            return c_start
        share = min(1.0, (output_offset - u_start) / (u_end - u_start))
        return c_start + int((c_end - c_start) * share)

    def _keep_remainder(self, data: bytes | memoryview) -> None:
        room = 64 - len(self._remainder)
        self._remainder += bytes(data[:room]) if room > 0 else b""
        self._remainder_overflow += max(0, len(data) - max(room, 0))

    @property
    def reached_end(self) -> bool:
        """Whether the deflate stream reached its end-of-stream marker."""
        return self._inflater is not None and self._inflater.eof

    def finish(self) -> None:
        """Verify the stream ended properly and its trailer matches the output."""
        if self._inflater is None:
            raise GzipError("the gzip stream ends inside its header: the archive was cut short")
        if not self._inflater.eof:
            raise GzipError(
                "the compressed data ends before its end marker: the archive was cut short"
            )
        if self._remainder_overflow:
            raise GzipError("unexpected data follows the end of the gzip stream")
        stored_crc, stored_size = self._read_trailer(bytes(self._remainder))
        if stored_crc != self.crc:
            raise GzipError("gzip checksum mismatch: the content was altered (bit rot or damage)")
        if stored_size != self.output_size & 0xFFFFFFFF:
            raise GzipError("gzip length mismatch: the content is incomplete or altered")

    def _read_trailer(self, rest: bytes) -> tuple[int, int]:
        if self._allow_legacy_trailer and 32 <= len(rest) <= 47:
            pad = len(rest) - 32
            body = rest[pad:]
            if (
                rest[:pad] == bytes([pad]) * pad
                and body[4:16] == _LEGACY_FILL
                and body[20:32] == _LEGACY_FILL
            ):
                return struct.unpack("<I", body[0:4])[0], struct.unpack("<I", body[16:20])[0]
        if len(rest) < 8:
            raise GzipError(
                "the gzip trailer (checksum and length) is missing: the archive was cut short"
            )
        extra = rest[8:]
        if extra:
            pad = len(extra)
            if not (self._allow_padding and pad <= 16 and extra == bytes([pad]) * pad):
                raise GzipError("the gzip trailer is damaged or followed by unexpected data")
        crc, size = struct.unpack("<II", rest[:8])
        return crc, size
