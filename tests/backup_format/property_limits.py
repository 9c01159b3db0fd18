"""Guards for property-based tests: a loop or a memory blow-up fails the example, never hangs CI.

Hypothesis runs hundreds of examples in the test process. Two guards keep a
regression from taking the machine with it: an address-space ceiling a little
above what the process already uses (MemoryError instead of the host's OOM
killer), and work counters that raise once a walk has done more steps than
its input allows (a walk that returns to a header it has read).
"""

from __future__ import annotations

import io
import platform
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from hypothesis import HealthCheck, settings

from backup_inspector.backup_format.tar_header import BLOCK_SIZE

# 32-bit ARM under qemu-user emulation (scripts/test-arm) runs Python 10 to 20
# times slower: the deadlines stretch with it, still far below a loop.
EMULATION_SLOWDOWN = 10 if platform.machine().startswith("arm") else 1
# Per example: generous for a 2-core machine shared with other jobs, far below a loop.
PROPERTY_SETTINGS = settings(
    deadline=timedelta(seconds=2 * EMULATION_SLOWDOWN),
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,  # nothing written into the checkout
)
HEADROOM_BYTES = 768 * 1024 * 1024


class TooMuchWork(AssertionError):
    """A walk did more steps than its input can justify: it went back or in circles."""


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()


@contextmanager
def memory_ceiling(headroom_bytes: int = HEADROOM_BYTES) -> Iterator[None]:
    """Lower RLIMIT_AS to current use + headroom for the block, then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = _address_space_bytes() + headroom_bytes
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def header_budget(data_size: int) -> int:
    """The most headers a forward-only walk can meet in `data_size` bytes."""
    return data_size // BLOCK_SIZE + 1


class HeaderCounter:
    """A walker's `check_stop`: counts headers and raises TooMuchWork past the budget."""

    def __init__(self, data_size: int) -> None:
        self.budget = header_budget(data_size)
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls > self.budget:
            raise TooMuchWork(f"{self.calls} headers in {self.budget - 1} blocks")


class BoundedReader(io.BytesIO):
    """A seekable file that fails on a read-everything call or more reads than blocks."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.budget = 4 * header_budget(len(data)) + 8
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        """Read at most `size` bytes; size must be given (a negative one read the whole file)."""
        self.reads += 1
        if size is None or size < 0:
            raise TooMuchWork("read of the whole file")
        if self.reads > self.budget:
            raise TooMuchWork(f"{self.reads} reads of a {len(self.getbuffer())}-byte file")
        return super().read(size)
