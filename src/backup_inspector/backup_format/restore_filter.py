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

Simplification: climbing above the destination counts as leaving it, even
when a later component would come back in by the destination's own name
(the Supervisor extracts into a fresh temporary folder with a random name,
so that path cannot come back in there).
"""

from __future__ import annotations

from dataclasses import dataclass

from .tar_entry import EntryType, TarEntry

MAX_SYMLINK_HOPS = 40  # Linux follows at most 40 links in one lookup (ELOOP)


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


class _LinkNode:
    """One folder of a trie of the symlinks recorded so far; `target` set when it is a link.

    A trie, not a dict keyed by whole paths: a lookup by tuple key costs the
    length of the path at every level, so a 200 000-level name cost time with
    the square of its depth (issue 9, finding 3). Walking the trie costs one
    dict lookup per component.
    """

    __slots__ = ("children", "target")

    def __init__(self) -> None:
        self.children: dict[str, _LinkNode] = {}
        self.target: str | None = None


class TarFilterRehearsal:
    """Feed one archive's entries in order; `refusal` is the first one the filter refuses.

    Entries after a refusal are ignored: the real extraction never reaches them.
    """

    def __init__(self) -> None:
        self._links = _LinkNode()
        self.refusal: FilterRefusal | None = None

    def feed(self, entry: TarEntry) -> FilterRefusal | None:
        """Judge one entry; returns the refusal that stops the archive (once), else None."""
        if self.refusal is not None:
            return None
        components = entry.raw_name.lstrip("/").split("/")
        try:
            self._resolve(components)  # the filter's check: realpath of the whole name
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
        node = self._links
        for component in (*self._resolve(meaningful[:-1]), meaningful[-1]):
            node = node.children.setdefault(component, _LinkNode())
        node.target = target

    def _resolve(self, components: list[str]) -> list[str]:
        """Physical location of `components` below the destination, like realpath."""
        location: list[str] = []
        self._walk(location, [], components, [0])
        return location

    def _walk(
        self,
        location: list[str],
        nodes: list[_LinkNode | None],
        components: list[str],
        hops: list[int],
    ) -> None:
        """Move `location` (and its trie `nodes`, None off the trie) along `components`."""
        for component in components:
            if component in ("", "."):
                continue
            if component == "..":
                if not location:
                    raise _Outside("its path climbs out of the destination with '..'")
                location.pop()
                nodes.pop()
                continue
            parent = nodes[-1] if nodes else self._links
            node = None if parent is None else parent.children.get(component)
            if node is None or node.target is None:
                location.append(component)
                nodes.append(node)
                continue
            target = node.target
            hops[0] += 1
            if hops[0] > MAX_SYMLINK_HOPS:
                raise _Outside("its path runs through a loop of symbolic links")
            link_path = "/".join((*location, component))
            if target.startswith("/"):
                raise _Outside(
                    f"its path runs through the symbolic link '{link_path}' "
                    f"(extracted earlier from the same archive), which points to {target}"
                )
            try:
                self._walk(location, nodes, target.split("/"), hops)
            except _Outside as outside:
                if "symbolic link" in outside.reason:
                    raise
                raise _Outside(
                    f"its path runs through the symbolic link '{link_path}' "
                    f"(extracted earlier from the same archive), which leads out of the "
                    f"destination ({target})"
                ) from None
