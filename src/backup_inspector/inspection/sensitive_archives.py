"""Archives whose content is a secret of the whole system, not of one app or folder.

`supervisor.tar.gz` holds the Supervisor's network-storage mounts and Docker
registry logins with their passwords (restore-rules.md §3, the
`sensitive-archive` note). Extracted into `/share`, every app that maps the
share folder can read them. So taking it out needs an explicit yes: a
confirmation in the page, `--confirm-sensitive` on the command line.
"""

from __future__ import annotations

from collections.abc import Iterable

from .backup_overview import InnerArchive

SENSITIVE_KINDS = frozenset({"supervisor"})


def sensitive_archives(archives: Iterable[InnerArchive]) -> list[InnerArchive]:
    """The archives among `archives` that hold system credentials."""
    return [archive for archive in archives if archive.kind in SENSITIVE_KINDS]


def sensitive_warning(archives: Iterable[InnerArchive], who_can_read: str) -> str:
    """Why extracting these archives needs a confirmation; `who_can_read` says where they land."""
    names = ", ".join(archive.file_name for archive in archives)
    return (
        f"{names} holds the Supervisor's network-storage mounts and Docker registry logins, "
        f"with their passwords. {who_can_read} Extract it only if you need those settings, "
        "and delete the files when you are done."
    )
