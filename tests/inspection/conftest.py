"""Shared inputs of the history and comparison tests: the mixed folder and empty index stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from backup_inspector.demo.history_folder import write_history_folder
from backup_inspector.inspection.index_codec import KdfLimits
from backup_inspector.inspection.index_store import IndexStore

FAST_KDF = KdfLimits(opslimit=1, memlimit_bytes=8 * 1024 * 1024)  # keeps sealed indexes quick


@pytest.fixture(scope="session")
def history_backups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed folder of history_folder.HISTORY, written once (tests only read it)."""
    return write_history_folder(tmp_path_factory.mktemp("history"))


def new_store(tmp_path: Path, *, remember: bool = False) -> IndexStore:
    """An empty index store under `tmp_path`."""
    return IndexStore(tmp_path / "index", remember_protected=remember, kdf_limits=FAST_KDF)
