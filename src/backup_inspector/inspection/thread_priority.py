"""Lower the CPU and I/O priority of the calling thread only (Linux), quietly elsewhere.

`os.nice` changes the whole process, and the web server must stay quick while
a background check reads gigabytes. On Linux every thread has its own nice
value and I/O priority, and threads a thread starts inherit both, so the
watch's worker thread lowers its own and the check's reader threads follow.
Lowering needs no privilege; where a container or kernel forbids it, the
check simply runs at normal priority.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import threading
from dataclasses import dataclass

_LOGGER: logging.Logger = logging.getLogger(__name__)

LOWEST_NICE = 19
IOPRIO_WHO_PROCESS = 1  # "process" means one thread id on Linux
IOPRIO_CLASS_IDLE = 3  # served only when no other process wants the disk
IOPRIO_CLASS_SHIFT = 13

# ioprio_set / ioprio_get have no libc wrapper: (set, get) syscall numbers per machine.
_IOPRIO_SYSCALLS = {
    "x86_64": (251, 252),
    "aarch64": (30, 31),
    "armv7l": (314, 315),
    "armv8l": (314, 315),
    "i686": (289, 290),
}


@dataclass(frozen=True)
class PriorityOutcome:
    """Which of the two lowerings the kernel accepted for this thread."""

    cpu_lowered: bool
    io_lowered: bool


def _ioprio_syscall(index: int, *args: int) -> int | None:
    """Call ioprio_set (index 0) or ioprio_get (1); None where unknown or refused."""
    numbers = _IOPRIO_SYSCALLS.get(platform.machine())
    if numbers is None or not hasattr(ctypes, "CDLL"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.syscall(numbers[index], *args)
    except (OSError, AttributeError):
        return None
    return None if result < 0 else int(result)


def io_priority_class(native_thread_id: int) -> int | None:
    """The I/O scheduling class of a thread (3 = idle), or None when unknown."""
    value = _ioprio_syscall(1, IOPRIO_WHO_PROCESS, native_thread_id)
    return None if value is None else value >> IOPRIO_CLASS_SHIFT


def lower_current_thread_priority() -> PriorityOutcome:
    """Nice 19 and idle I/O for the calling thread; what failed is skipped silently."""
    thread_id = threading.get_native_id()
    cpu_lowered = False
    if hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, thread_id, LOWEST_NICE)
            cpu_lowered = True
        except OSError:
            pass
    io_value = IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT
    io_lowered = _ioprio_syscall(0, IOPRIO_WHO_PROCESS, thread_id, io_value) is not None
    _LOGGER.debug("Background thread priority: cpu lowered %s, io idle %s", cpu_lowered, io_lowered)
    return PriorityOutcome(cpu_lowered, io_lowered)
