"""Passwords: in memory, per backup, forgotten when idle or on request, never in a repr."""

from __future__ import annotations

from backup_inspector.web.password_store import PasswordStore


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_password_is_forgotten() -> None:
    """A password unused for longer than the idle time is gone; use restarts the clock."""
    clock = FakeClock()
    store = PasswordStore(idle_s=60, clock=clock)
    store.set("a", "secret", is_verified=True)
    clock.now += 50
    assert store.get("a") == "secret"
    clock.now += 50
    assert store.state("a").is_set is True
    clock.now += 11
    assert store.state("a").is_set is False
    assert store.get("a") is None


def test_forget_idle_reports_backups() -> None:
    """The periodic sweep returns the ids it dropped."""
    clock = FakeClock()
    store = PasswordStore(idle_s=10, clock=clock)
    store.set("a", "x", is_verified=False)
    store.set("b", "y", is_verified=False)
    clock.now += 5
    store.get("b")
    clock.now += 6
    assert store.forget_idle() == ["a"]
    assert store.forget("b") is True
    assert store.forget("b") is False


def test_state_never_contains_the_password() -> None:
    """The API shape and reprs say only whether a password is set and verified."""
    store = PasswordStore(idle_s=60)
    store.set("a", "hunter2-secret", is_verified=False)
    store.mark_verified("a", "hunter2-secret")
    state = store.state("a")
    assert state.to_json()["is_verified"] is True
    assert "hunter2" not in repr(state.to_json())
    assert "hunter2" not in repr(store._passwords)
