"""Decides whether one more symbolic link may appear in a destination without any link escaping it.

A link can be harmless on its own and still open a way out together with a
later one: "a/e -> p/../.." stays inside while "a/p" is missing, and leads to
"/" once "a/p -> ." exists (issue 9, finding 7). Removing such links at the
end of a run is not enough: a process killed in between leaves them behind.

So the extractor creates links last, one at a time, and asks this guard
first. The guard resolves the new link *as if it existed*, and every link
already created whose resolution depended on that name (a missing name on
its way, or a link it passed through), with the new link in place. Only if
all of them stay inside is the link created. At no moment, therefore, does a
link on disk lead outside, whatever the moment the process dies.

Resolution works like the kernel's (and `os.path.realpath`): links are
followed component by component, ".." applies to the resolved path, and
after a missing name the rest is taken literally.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from dataclasses import dataclass

# Linux gives up after 40 links in one lookup (SYMLOOP_MAX); so does the guard.
MAX_LINKS_PER_LOOKUP = 40


@dataclass(frozen=True, slots=True)
class LinkResolution:
    """Where a link leads, and which names could change that if they became links."""

    real_path: str
    depends_on: frozenset[str]
    is_loop: bool


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class SymlinkChainGuard:
    """Admits symbolic links into `root` one by one, keeping every link's target inside `root`."""

    def __init__(self, root: str) -> None:
        self._root = root
        # name → links (absolute paths) whose resolution depends on that name
        self._dependents: dict[str, list[str]] = {}

    def refusal_reason(self, link_path: str, target: str) -> str | None:
        """Why `link_path -> target` may not be created now; None when it may.

        `link_path` is absolute and must not exist as a link yet (or is about
        to be replaced by this one).
        """
        overlay = {link_path: target}
        own = self.resolve(link_path, overlay)
        if own.is_loop:
            return f"symbolic link target leads into a loop of links ({target})"
        if not _is_within(own.real_path, self._root):
            return f"symbolic link target resolves outside the destination ({target})"
        for dependent in self._dependents.get(link_path, []):
            if dependent == link_path:
                continue
            resolution = self.resolve(dependent, overlay)
            if resolution.is_loop or not _is_within(resolution.real_path, self._root):
                shown = os.path.relpath(dependent, self._root)
                return (
                    f"symbolic link would make the link '{shown}' lead outside the destination "
                    f"({target})"
                )
        return None

    def note_created(self, link_path: str) -> None:
        """Remember what the new link, and the links that lead through it, now depend on."""
        affected = [link_path, *self._dependents.get(link_path, [])]
        for path in affected:
            for name in self.resolve(path, {}).depends_on:
                dependents = self._dependents.setdefault(name, [])
                if not dependents or dependents[-1] != path:
                    dependents.append(path)

    def resolve(self, link_path: str, overlay: dict[str, str]) -> LinkResolution:
        """Follow the link at `link_path` (or in `overlay`) to the end, as the kernel would."""
        depends_on: set[str] = {link_path}
        target = overlay.get(link_path)
        if target is None:
            target = os.readlink(link_path)
        resolved: list[str] = [] if target.startswith("/") else link_path.split("/")[1:-1]
        pending: deque[str] = deque(target.split("/"))
        links_followed = 1
        is_missing = False
        while pending:
            name = pending.popleft()
            if name in ("", "."):
                continue
            if name == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/" + "/".join([*resolved, name])
            if is_missing:
                resolved.append(name)
                continue
            next_target = overlay.get(candidate)
            if next_target is None:
                try:
                    status = os.lstat(candidate)
                except OSError:
                    status = None
                if status is not None and stat.S_ISLNK(status.st_mode):
                    next_target = os.readlink(candidate)
                elif status is None or (pending and not stat.S_ISDIR(status.st_mode)):
                    # Missing (or a file used as a folder): the rest is literal,
                    # until this name turns into a link.
                    depends_on.add(candidate)
                    is_missing = True
                    resolved.append(name)
                    continue
                else:
                    resolved.append(name)
                    continue
            depends_on.add(candidate)
            links_followed += 1
            if links_followed > MAX_LINKS_PER_LOOKUP:
                return LinkResolution(candidate, frozenset(depends_on), is_loop=True)
            if next_target.startswith("/"):
                resolved = []
            pending.extendleft(reversed(next_target.split("/")))
        return LinkResolution("/" + "/".join(resolved), frozenset(depends_on), is_loop=False)
