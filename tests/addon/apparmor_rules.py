"""Enough of AppArmor's file rules to ask "does this profile allow this access?".

Used by test_apparmor_traced_paths.py, which cannot load the profile into
this machine's kernel. Rules are `PATH PERMISSIONS,` lines (an `owner`
prefix is ignored: the app owns what it touches); globs are AppArmor's
`{a,b}` alternation, `**` (any depth), `*` and `?` (within one path
component) and `[...]`; variables (`@{PROC}`, `@{pid}`, …) come from the
installed tunables. Includes are followed into /etc/apparmor.d, the way the
parser reads `#include <abstractions/base>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

APPARMOR_DIR = Path("/etc/apparmor.d")
RE_VARIABLE_DEFINITION = re.compile(r"^\s*@\{(\w+)\}\s*(\+?=)\s*(.*?)\s*$")
RE_INCLUDE = re.compile(r"^\s*#?include\s+(?:if exists\s+)?<([^>]+)>")
RE_FILE_RULE = re.compile(r"^\s*(?:owner\s+)?(/\S*|@\{\w+\}\S*)\s+([a-zA-Z]+)(?:\s+->\s+\S+)?\s*,")


@dataclass(frozen=True)
class FileRule:
    """One file rule: its glob, the compiled pattern, and its permission letters."""

    glob: str
    pattern: re.Pattern[str]
    permissions: str

    def allows(self, path: str, needed: str) -> bool:
        """Whether this rule matches `path` and grants every letter of `needed`."""
        granted = set(self.permissions)
        if granted & set("ipcuPCU"):
            granted.add("x")
        return self.pattern.fullmatch(path) is not None and set(needed) <= granted


@cache
def tunable_variables() -> dict[str, list[str]]:
    """@{name} -> values, from the installed tunables (what `#include <tunables/global>` reads)."""
    variables: dict[str, list[str]] = {}
    for path in sorted((APPARMOR_DIR / "tunables").rglob("*")):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = RE_VARIABLE_DEFINITION.match(line.split("#", 1)[0])
            if match:
                values = match[3].split()
                if match[2] == "+=":
                    variables.setdefault(match[1], []).extend(values)
                else:
                    variables[match[1]] = values
    return variables


def expand_variables(glob: str, variables: dict[str, list[str]]) -> str:
    """Replace each @{name} by an alternation of its values (recursively)."""
    for _ in range(10):
        # AppArmor folds repeated slashes: "@{PROC}/x" is /proc/x although @{PROC} is /proc/.
        expanded = re.sub(
            r"@\{(\w+)\}(/?)",
            lambda match: "{"
            + ",".join(value.rstrip("/") if match[2] else value for value in variables[match[1]])
            + "}"
            + match[2],
            glob,
        )
        if expanded == glob:
            return expanded
        glob = expanded
    raise ValueError(f"variables nest too deep in {glob!r}")


def glob_to_regex(glob: str) -> str:
    """The regular expression of an AppArmor path glob (variables already expanded)."""
    out: list[str] = []
    depth = 0
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{":
            out.append("(?:")
            depth += 1
        elif char == "}" and depth:
            out.append(")")
            depth -= 1
        elif char == "," and depth:
            out.append("|")
        elif char == "[":
            end = glob.index("]", index + 1)
            out.append("[" + glob[index + 1 : end].replace("\\", "\\\\") + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def compile_rule(glob: str, permissions: str, variables: dict[str, list[str]]) -> FileRule:
    """A FileRule from a glob as written in a profile."""
    return FileRule(glob, re.compile(glob_to_regex(expand_variables(glob, variables))), permissions)


def file_rules(
    text: str, variables: dict[str, list[str]], *, seen: set[str] | None = None
) -> list[FileRule]:
    """The file rules of a profile body, with includes from /etc/apparmor.d followed."""
    seen = set() if seen is None else seen
    rules: list[FileRule] = []
    for line in text.splitlines():
        include = RE_INCLUDE.match(line)
        if include:
            rules.extend(_included_rules(include[1], variables, seen))
            continue
        stripped = line.split("#", 1)[0]
        if stripped.strip().startswith(("deny ", "audit deny ")):
            continue  # no deny rules are used here; never read one as a grant
        match = RE_FILE_RULE.match(stripped)
        if match:
            try:
                rules.append(compile_rule(match[1], match[2], variables))
            except KeyError:
                continue  # a variable the tunables here do not define: that rule is left out
    return rules


def _included_rules(name: str, variables: dict[str, list[str]], seen: set[str]) -> list[FileRule]:
    if name in seen or name.startswith("tunables/"):
        return []
    seen.add(name)
    target = APPARMOR_DIR / name
    if target.is_dir():
        files = sorted(path for path in target.iterdir() if path.is_file())
    elif target.is_file():
        files = [target]
    else:
        return []
    rules: list[FileRule] = []
    for path in files:
        rules.extend(
            file_rules(path.read_text(encoding="utf-8", errors="replace"), variables, seen=seen)
        )
    return rules


def first_allowing(rules: list[FileRule], path: str, needed: str) -> FileRule | None:
    """The first rule that allows `needed` on `path`, if any."""
    return next((rule for rule in rules if rule.allows(path, needed)), None)
