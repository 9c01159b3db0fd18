"""Files uploaded for "Replace in a copy…": streamed to disk, kept until a copy job uses them.

Uploads arrive as multipart bodies through ingress, which streams POST bodies
with no size limit because the add-on sets `ingress_stream: true`
(addon-platform.md §8.7; without it the Supervisor answers 413 above 16 MiB).
Nothing is read into memory: the part is copied to a private file in
64 KiB pieces, as the Supervisor's own backup upload does. Files live in
`<data>/uploads` (system temp outside the add-on), are removed once a copy job
ends, and any left over from a previous run are removed at start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

UPLOAD_PIECE_BYTES = 64 * 1024
MAX_UPLOAD_NAME_LENGTH = 255


@dataclass(frozen=True)
class StoredUpload:
    """One uploaded file: its id, the name the browser gave, where it is and its size."""

    upload_id: str
    name: str
    path: Path
    size: int

    def to_json(self) -> dict[str, object]:
        """For the page (never the path on the server)."""
        return {"id": self.upload_id, "name": self.name, "size": self.size}


class UploadStore:
    """Uploaded files by id; thread-safe (copy jobs take them from worker threads)."""

    def __init__(self, folder: Path | None) -> None:
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="backup-inspector-uploads-"))
        else:
            shutil.rmtree(folder, ignore_errors=True)  # leftovers of a previous run
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder = folder
        self._uploads: dict[str, StoredUpload] = {}
        self._lock = threading.Lock()

    def new_file(self) -> tuple[str, Path]:
        """A fresh id and the private file to stream its bytes into."""
        upload_id = secrets.token_hex(8)
        return upload_id, self.folder / upload_id

    def add(self, upload_id: str, name: str, size: int) -> StoredUpload:
        """Register a completely written upload."""
        upload = StoredUpload(
            upload_id, name[:MAX_UPLOAD_NAME_LENGTH], self.folder / upload_id, size
        )
        with self._lock:
            self._uploads[upload_id] = upload
        return upload

    def get(self, upload_id: str) -> StoredUpload | None:
        """The upload with that id, if it is still here."""
        with self._lock:
            return self._uploads.get(upload_id)

    def discard(self, upload_id: str) -> None:
        """Remove an upload and its file (also for a half-written one)."""
        with self._lock:
            self._uploads.pop(upload_id, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / upload_id)

    def discard_all(self) -> None:
        """Remove every upload (app shutdown)."""
        with self._lock:
            ids = list(self._uploads)
        for upload_id in ids:
            self.discard(upload_id)
