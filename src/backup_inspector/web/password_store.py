"""Backup passwords, in memory only, forgotten after an idle time or on request.

A password is never logged, written to disk or sent back to the page: callers
only learn whether one is set and whether a check confirmed it. The idle
clock restarts whenever the password is used, so a long full check keeps it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _StoredPassword:
    """One backup's password and what is known about it."""

    password: str
    is_verified: bool
    last_used_monotonic: float

    def __repr__(self) -> str:
        """Keep the password out of any repr that reaches a log."""
        return f"_StoredPassword(is_verified={self.is_verified})"


@dataclass(frozen=True)
class PasswordState:
    """What the page may know: whether a password is set, verified, and for how long."""

    is_set: bool
    is_verified: bool
    forgotten_in_s: float | None

    def to_json(self) -> dict[str, object]:
        """The API shape: never the password itself."""
        return {
            "is_set": self.is_set,
            "is_verified": self.is_verified,
            "forgotten_in_s": round(self.forgotten_in_s) if self.forgotten_in_s else None,
        }


class PasswordStore:
    """Thread-safe map backup id → password, with an idle timeout.

    Worker threads read passwords while the event loop sets and forgets them,
    hence the lock.
    """

    def __init__(self, idle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._idle_s = idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._passwords: dict[str, _StoredPassword] = {}

    def set(self, backup_id: str, password: str, *, is_verified: bool) -> None:
        """Remember `password` for one backup."""
        with self._lock:
            self._passwords[backup_id] = _StoredPassword(password, is_verified, self._clock())

    def get(self, backup_id: str) -> str | None:
        """The password for a backup (None if none is set); restarts the idle clock."""
        with self._lock:
            stored = self._fresh_locked(backup_id)
            if stored is None:
                return None
            stored.last_used_monotonic = self._clock()
            return stored.password

    def mark_verified(self, backup_id: str, password: str) -> None:
        """Record that a check confirmed this password (if it is still the one set)."""
        with self._lock:
            stored = self._fresh_locked(backup_id)
            if stored is not None and stored.password == password:
                stored.is_verified = True

    def forget(self, backup_id: str) -> bool:
        """Drop a backup's password; True if one was set."""
        with self._lock:
            return self._passwords.pop(backup_id, None) is not None

    def forget_all(self) -> None:
        """Drop every password (at shutdown)."""
        with self._lock:
            self._passwords.clear()

    def forget_idle(self) -> list[str]:
        """Drop every password idle for longer than the limit; returns their backup ids."""
        with self._lock:
            idle_ids = [
                backup_id for backup_id in self._passwords if self._is_idle_locked(backup_id)
            ]
            for backup_id in idle_ids:
                del self._passwords[backup_id]
            return idle_ids

    def state(self, backup_id: str) -> PasswordState:
        """Whether a password is set and verified, without touching the idle clock."""
        with self._lock:
            stored = self._fresh_locked(backup_id)
            if stored is None:
                return PasswordState(is_set=False, is_verified=False, forgotten_in_s=None)
            remaining_s = self._idle_s - (self._clock() - stored.last_used_monotonic)
            return PasswordState(
                is_set=True, is_verified=stored.is_verified, forgotten_in_s=max(0.0, remaining_s)
            )

    def _is_idle_locked(self, backup_id: str) -> bool:
        """Whether the password of `backup_id` has not been used within the idle time."""
        stored = self._passwords[backup_id]
        return self._clock() - stored.last_used_monotonic > self._idle_s

    def _fresh_locked(self, backup_id: str) -> _StoredPassword | None:
        """The stored entry if it is still within the idle time; drops it otherwise."""
        if backup_id not in self._passwords:
            return None
        if self._is_idle_locked(backup_id):
            del self._passwords[backup_id]
            return None
        return self._passwords[backup_id]
