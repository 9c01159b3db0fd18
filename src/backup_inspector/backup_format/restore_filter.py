"""What tarfile's `"tar"` extraction filter does to each entry of one archive, rehearsed.

The Supervisor extracts every restored archive with `extractall(filter="tar")`
(restore-rules.md §3; CPython `tarfile._get_filtered_attrs` with
`for_data=False`). For each member the filter:

* strips leading "/" from the name (`/etc/x` lands at `<dest>/etc/x`);
* resolves `<dest>/<name>` with `os.path.realpath`, which follows symbolic
  links already on disk — in a fresh destination, the ones extracted earlier
  from the same archive — and raises OutsideDestinationError when the result
  is not inside `<dest>`. The exception ends `extractall`: that archive's
  restore stops at this member;
* does not look at link targets (only the `"data"` filter does), so an
  absolute symlink such as `data/homeassistant -> /config` is restored as is,
  and devices and FIFOs are allowed.

This module replays that on names alone, keeping a table of the symlinks the
archive created so far, keyed by where they physically land. It is
Home Assistant's rule, not ours: Backup Inspector's own extraction
(`safe_paths`) stays stricter.

The replay is linear in the length of each name: symbolic links live in a
small tree of their own locations, and the part of a path below the last
node of that tree is only counted, never copied (a 10 KB archive with names
thousands of levels deep must not cost seconds per entry).

Names longer than Linux allows (4 096 bytes in a path, 255 in one
component) cannot be created: extraction raises ENAMETOOLONG, which
`extractall` does not swallow, so the restore of that archive stops there.

Simplification: climbing above the destination counts as leaving it, even
when a later component would come back in by the destination's own name
(the Supervisor extracts into a fresh temporary folder with a random name,
so that path cannot come back in there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tar_entry import EntryType, TarEntry

MAX_SYMLINK_HOPS = 40  # Linux follows at most 40 links in one lookup (ELOOP)
PATH_MAX_BYTES = 4096  # Linux PATH_MAX, terminating NUL included
NAME_MAX_BYTES = 255  # ext4 and most Linux file systems
# The Supervisor extracts below a temporary folder beside the backup, e.g.
# /data/backup/tmpabcd1234/homeassistant/: room kept for that prefix.
DESTINATION_PREFIX_BYTES = 64


@dataclass(frozen=True)
class FilterRefusal:
    """The entry at which extraction of an archive stops, and why, in words."""

    raw_name: str
    reason: str


class _Outside(Exception):
    """The path being resolved leaves the destination."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class _Node:
    """A folder on the way to a symbolic link (or the link itself, with `link` set)."""

    parent: _Node | None
    name: str
    children: dict[str, _Node] = field(default_factory=dict)
    link: str | None = None

    def path(self) -> str:
        """Its path below the destination (only built for messages)."""
        names: list[str] = []
        node: _Node | None = self
        while node is not None and node.parent is not None:
            names.append(node.name)
            node = node.parent
        return "/".join(reversed(names))


@dataclass
class _Location:
    """Where a walk is: a node of the link tree, plus names below it the tree does not hold."""

    stack: list[_Node]
    below: list[str] = field(default_factory=list)


class TarFilterRehearsal:
    """Feed one archive's entries in order; `refusal` is the first one the filter refuses.

    Entries after a refusal are ignored: the real extraction never reaches them.
    """

    def __init__(self) -> None:
        self._root = _Node(None, "")
        self.refusal: FilterRefusal | None = None

    def feed(self, entry: TarEntry) -> FilterRefusal | None:
        """Judge one entry; returns the refusal that stops the archive (once), else None."""
        if self.refusal is not None:
            return None
        name = entry.raw_name.lstrip("/")
        components = name.split("/")
        try:
            _check_name_lengths(name, components)
            self._resolve(components)  # the filter's check: realpath of the name
            if entry.type is EntryType.SYMLINK:
                self._record_symlink(components, entry.link)
        except _Outside as outside:
            self.refusal = FilterRefusal(entry.raw_name, outside.reason)
            return self.refusal
        return None

    def _record_symlink(self, components: list[str], target: str) -> None:
        """Remember a new link where it physically lands: its parent resolved, its own name not.

        tarfile unlinks whatever is at the (unresolved) name and creates the
        link there, so a second link of the same name replaces the first.
        """
        meaningful = [c for c in components if c not in ("", ".")]
        if not meaningful or meaningful[-1] == "..":
            return
        parent = self._resolve(meaningful[:-1])
        node = parent.stack[-1]
        for name in [*parent.below, meaningful[-1]]:
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = _Node(node, name)
            node = child
        node.link = target

    def _resolve(self, components: list[str]) -> _Location:
        """Physical location of `components` below the destination, like realpath."""
        location = _Location([self._root])
        self._walk(location, components, [0])
        return location

    def _walk(self, location: _Location, components: list[str], hops: list[int]) -> None:
        for component in components:
            if component in ("", "."):
                continue
            if component == "..":
                if location.below:
                    location.below.pop()
                elif len(location.stack) > 1:
                    location.stack.pop()
                else:
                    raise _Outside("its path climbs out of the destination with '..'")
                continue
            if location.below:
                location.below.append(component)  # no link lies below a name the tree lacks
                continue
            child = location.stack[-1].children.get(component)
            if child is None:
                location.below.append(component)
            elif child.link is None:
                location.stack.append(child)
            else:
                self._follow(location, child, hops)

    def _follow(self, location: _Location, link: _Node, hops: list[int]) -> None:
        """Continue the walk through the symbolic link `link` (its target is relative to here)."""
        target = link.link or ""
        hops[0] += 1
        if hops[0] > MAX_SYMLINK_HOPS:
            raise _Outside("its path runs through a loop of symbolic links")
        if target.startswith("/"):
            raise _Outside(
                f"its path runs through the symbolic link '{link.path()}' "
                f"(extracted earlier from the same archive), which points to {target}"
            )
        try:
            self._walk(location, target.split("/"), hops)
        except _Outside as outside:
            if "symbolic link" in outside.reason:
                raise
            raise _Outside(
                f"its path runs through the symbolic link '{link.path()}' "
                f"(extracted earlier from the same archive), which leads out of the "
                f"destination ({target})"
            ) from None


def _check_name_lengths(name: str, components: list[str]) -> None:
    """Refuse a name no Linux file system can create (ENAMETOOLONG stops extractall)."""
    encoded = len(name.encode("utf-8", "surrogateescape"))
    if encoded + DESTINATION_PREFIX_BYTES >= PATH_MAX_BYTES:
        raise _Outside(
            f"its name is {encoded:,} bytes long, more than Linux allows in a path "
            f"({PATH_MAX_BYTES:,} bytes with the restore folder), so creating it fails"
        )
    for component in components:
        if len(component.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
            raise _Outside(
                f"one of its names is longer than the {NAME_MAX_BYTES} bytes Linux allows, "
                "so creating it fails"
            )
