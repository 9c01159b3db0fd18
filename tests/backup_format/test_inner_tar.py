"""The streaming inner tar walker and the header parser under it, on real tar bytes."""

from __future__ import annotations

import io
import tarfile

import pytest

from backup_inspector.backup_format.inner_tar import InnerTarError, InnerTarWalker, StopWalk
from backup_inspector.backup_format.tar_entry import DataSink, EntryType, TarEntry
from backup_inspector.backup_format.tar_header import MAX_PAX_KEYS, TarHeaderError, parse_number
from backup_inspector.demo.hostile_tar import (
    END_OF_ARCHIVE,
    base256_field,
    file_member,
    header_block,
    pax_member,
)


def make_tar(
    members: list[tarfile.TarInfo | tuple[str, bytes]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for member in members:
            if isinstance(member, tuple):
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                info.mtime = 1_700_000_000
                tar.addfile(info, io.BytesIO(member[1]))
            else:
                tar.addfile(member)
    return buf.getvalue()


class Collect(DataSink):
    def __init__(self, store: dict[str, bytes], name: str) -> None:
        self.store, self.name, self.buf = store, name, bytearray()
        self.aborted = False

    def write(self, data: bytes | memoryview) -> None:
        self.buf += data

    def close(self) -> None:
        self.store[self.name] = bytes(self.buf)

    def abort(self) -> None:
        self.aborted = True


def walk(
    data: bytes, piece: int = 4096, want_data: bool = True
) -> tuple[list[TarEntry], dict[str, bytes]]:
    entries: list[TarEntry] = []
    contents: dict[str, bytes] = {}

    def on_entry(entry: TarEntry) -> DataSink | None:
        entries.append(entry)
        return Collect(contents, entry.path) if want_data else None

    walker = InnerTarWalker(on_entry)
    for start in range(0, len(data), piece):
        walker.feed(data[start : start + piece])
    walker.finish()
    return entries, contents


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("piece", [1, 511, 512, 4096, 1 << 20])
def test_files_and_data_in_any_piece_size(fmt: int, piece: int) -> None:
    """Entries and contents come out right in every dialect, however the stream is cut."""
    members = [
        ("./data/configuration.yaml", b"homeassistant:\n"),
        ("data/empty", b""),
        ("big", bytes(range(256)) * 40),
    ]
    entries, contents = walk(make_tar(members, fmt), piece)
    assert [e.path for e in entries] == ["data/configuration.yaml", "data/empty", "big"]
    assert contents == {
        "data/configuration.yaml": b"homeassistant:\n",
        "data/empty": b"",
        "big": bytes(range(256)) * 40,
    }


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_and_non_ascii_names(fmt: int) -> None:
    """GNU long names and PAX paths (long, non-ASCII) are read in full."""
    long_name = "deep/" * 40 + "file.yaml"
    members = [(long_name, b"x"), ("Überwachung/Küche 🍳.yaml", b"y")]
    entries, _ = walk(make_tar(members, fmt))
    assert [e.path for e in entries] == [long_name.rstrip("/"), "Überwachung/Küche 🍳.yaml"]


def test_links_dirs_and_specials() -> None:
    """Directories, symlinks, hard links and FIFOs get their types and link targets."""
    d = tarfile.TarInfo("./data")
    d.type = tarfile.DIRTYPE
    s = tarfile.TarInfo("data/link")
    s.type, s.linkname = tarfile.SYMTYPE, "/config/secrets.yaml"
    h = tarfile.TarInfo("data/hard")
    h.type, h.linkname = tarfile.LNKTYPE, "./data/file"
    f = tarfile.TarInfo("data/fifo")
    f.type = tarfile.FIFOTYPE
    entries, _ = walk(make_tar([d, ("data/file", b"abc"), s, h, f]))
    kinds = {e.path: (e.type, e.link) for e in entries}
    assert kinds["data"] == (EntryType.DIR, "")
    assert kinds["data/link"] == (EntryType.SYMLINK, "/config/secrets.yaml")
    assert kinds["data/hard"] == (EntryType.HARDLINK, "data/file")
    assert kinds["data/fifo"] == (EntryType.OTHER, "")


def test_damaged_header_is_reported_with_offset() -> None:
    """A header with a bad checksum in the middle is damage, not a silent end."""
    data = bytearray(make_tar([("a", b"1" * 600), ("b", b"2")]))
    second_header = 512 + 1024
    data[second_header + 3] ^= 0xFF
    with pytest.raises(InnerTarError, match=f"damaged tar header at byte {second_header:,}"):
        walk(bytes(data))


def test_stream_ending_mid_member() -> None:
    """A tar stream cut inside a member's data names that member, and aborts its sink."""
    data = make_tar([("first", b"a" * 100), ("second", b"b" * 5000)])
    aborted: list[bool] = []

    class Sink(DataSink):
        def write(self, data: bytes | memoryview) -> None:
            pass

        def abort(self) -> None:
            aborted.append(True)

    walker = InnerTarWalker(lambda entry: Sink())
    walker.feed(data[: 512 + 512 + 512 + 1000])
    with pytest.raises(InnerTarError, match="'second'"):
        walker.finish()
    assert aborted == [True]


def test_missing_end_marker_is_reported() -> None:
    """A tar that stops cleanly after a member but has no end marker was cut short."""
    data = make_tar([("only", b"z" * 10)])
    with pytest.raises(InnerTarError, match="end-of-archive"):
        walk(data[:1024])


def test_stop_walk_from_sink_close_ends_early() -> None:
    """A sink raising StopWalk on close stops the walk right after that member."""
    data = make_tar([("a", b"1"), ("b", b"2"), ("c", b"3")])
    seen: list[str] = []

    class StopSink(DataSink):
        def write(self, data: bytes | memoryview) -> None:
            pass

        def close(self) -> None:
            raise StopWalk

    def on_entry(entry: TarEntry) -> DataSink | None:
        seen.append(entry.path)
        return StopSink() if entry.path == "b" else None

    walker = InnerTarWalker(on_entry)
    with pytest.raises(StopWalk):
        walker.feed(data)
    assert seen == ["a", "b"]


def test_huge_extended_header_refused() -> None:
    """A PAX header announcing megabytes of records is refused instead of buffered."""
    info = tarfile.TarInfo("x")
    info.type = tarfile.XHDTYPE
    info.size = 64 * 1024 * 1024
    block = info.tobuf(tarfile.USTAR_FORMAT)
    with pytest.raises(InnerTarError, match="not plausible"):
        InnerTarWalker().feed(block)


def test_base256_and_octal_numbers() -> None:
    """Sizes of 8 GiB and more use GNU base-256; ordinary ones octal."""
    assert parse_number(b"00000001750\x00") == 0o1750
    assert parse_number(b"\x80" + (9 * 1024**3).to_bytes(11, "big")) == 9 * 1024**3
    with pytest.raises(TarHeaderError):
        parse_number(b"12x45")


HOSTILE_INNER_HEADERS = {
    "pax-size-minus-1536": pax_member([("size", "-1536")]) + header_block("f"),
    "base256-size-minus-512": header_block("f", size=base256_field(-512)),
    "pax-size-overflow": pax_member([("size", "9" * 30)]) + header_block("f"),
    "pax-size-not-a-number": pax_member([("size", "0x10")]) + header_block("f"),
    "global-pax-size-minus-1": pax_member([("size", "-1")], is_global=True) + header_block("f"),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("piece", [512, 4096, 1 << 20])
@pytest.mark.parametrize(
    "hostile", HOSTILE_INNER_HEADERS.values(), ids=HOSTILE_INNER_HEADERS.keys()
)
def test_impossible_sizes_are_damage_not_a_loop(hostile: bytes, piece: int) -> None:
    """Negative, overflowing or non-numeric sizes raise InnerTarError instead of looping (finding 2)."""
    data = file_member("before", b"ok") + hostile + bytes(4096) + END_OF_ARCHIVE
    with pytest.raises(InnerTarError):
        walk(data, piece=piece)


def test_stop_check_runs_before_every_header_inside_one_piece() -> None:
    """The walker asks `check_stop` before each header, so a cancel lands inside one big piece."""

    class Stopped(Exception):
        """The test's stand-in for a job's cancel."""

    calls = 0

    def check_stop() -> None:
        nonlocal calls
        calls += 1
        if calls > 10:
            raise Stopped

    data = b"".join(file_member(f"f{n}") for n in range(5000)) + END_OF_ARCHIVE
    walker = InnerTarWalker(lambda entry: None, check_stop=check_stop)
    with pytest.raises(Stopped):
        walker.feed(data)  # one piece of 5 000 headers
    assert walker.entries == 10


def test_global_header_at_the_key_cap_applies_to_every_member() -> None:
    """A global header of MAX_PAX_KEYS keys is accepted and its path-free keys leave names alone."""
    records = [(f"k{n}", "v") for n in range(MAX_PAX_KEYS - 1)] + [("mtime", "42")]
    data = pax_member(records, is_global=True) + file_member("a") + file_member("b")
    entries, _ = walk(data + END_OF_ARCHIVE)
    assert [(e.path, e.mtime) for e in entries] == [("a", 42.0), ("b", 42.0)]


def test_global_header_past_the_key_cap_is_damage() -> None:
    """A global header with 60 000 keys is archive damage, not a per-member cost (finding 11)."""
    data = pax_member([(f"k{n}", "v") for n in range(60_000)], is_global=True)
    with pytest.raises(InnerTarError, match="keys"):
        walk(data + file_member("a") + END_OF_ARCHIVE)


def test_dot_slash_runs_are_normalised_in_linear_time() -> None:
    """A megabyte of "./" in a PAX path normalises at once (slicing it off twice a loop was quadratic)."""
    name = "./" * 500_000 + "data/x"
    entries, _ = walk(pax_member([("path", name)]) + file_member("x") + END_OF_ARCHIVE)
    assert entries[0].path == "data/x"
