"""axe-core, the accessibility auditor, run inside the page the e2e tests drive.

axe-core is the npm package, pinned in `axe-core.version` beside this file and
installed by scripts/test into `.cache/axe` (no download at test time). Its
source is evaluated in the page through the DevTools protocol, which the
page's Content-Security-Policy (script-src 'self') does not apply to, so the
page is audited exactly as it is served.

Serious and critical violations of the WCAG 2.0/2.1 A and AA rules fail the
test that found them; moderate and minor ones are listed in pytest's
terminal summary, so they stay visible without failing anything.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = (Path(__file__).with_name("axe-core.version")).read_text().strip()
AXE_PACKAGE = REPO_ROOT / ".cache" / "axe" / "node_modules" / "axe-core"
AXE_SCRIPT = AXE_PACKAGE / "axe.min.js"

#: The rules of WCAG 2.0 and 2.1, levels A and AA (axe-core's tag names).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Impacts that fail a test; the others are only listed.
FAILING_IMPACTS = frozenset({"serious", "critical"})

RUN_AXE = """async (tags) => {
    const results = await window.axe.run(document, {
        runOnly: { type: "tag", values: tags },
        resultTypes: ["violations"],
    });
    return results.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.map((node) => ({
            target: node.target.join(" "),
            summary: node.failureSummary,
        })),
    }));
}"""


def missing_axe() -> str:
    """Why the auditor cannot run here ("" when it can)."""
    package_json = AXE_PACKAGE / "package.json"
    if not AXE_SCRIPT.exists() or not package_json.exists():
        return f"axe-core {AXE_VERSION} is not installed in {AXE_PACKAGE} (run scripts/test)"
    installed = json.loads(package_json.read_text())["version"]
    if installed != AXE_VERSION:
        return f"axe-core {installed} is installed, {AXE_VERSION} is pinned (run scripts/test)"
    return ""


@dataclass(frozen=True)
class Violation:
    """One axe-core rule broken on one screen, with the elements that break it."""

    screen: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    @property
    def fails(self) -> bool:
        """Serious and critical violations fail the audit."""
        return self.impact in FAILING_IMPACTS

    def describe(self) -> str:
        """One line per element, for a failure message or the terminal summary."""
        where = "\n".join(f"      {target}" for target in self.targets)
        return f"  [{self.impact}] {self.screen}: {self.rule} – {self.help}\n{where}"


@dataclass
class AuditLog:
    """Every violation the session's audits found, and how many screens were audited."""

    violations: list[Violation] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Counter[str]]:
        """Per screen: how many violating elements of each impact."""
        table: dict[str, Counter[str]] = {screen: Counter() for screen in self.screens}
        for violation in self.violations:
            table[violation.screen][violation.impact] += len(violation.targets)
        return table


#: Filled by every audit of the session; read by the terminal summary in conftest.
AUDIT_LOG = AuditLog()


class Auditor:
    """Audits the screens one test visits; `assert_clean()` at its end fails on serious ones."""

    def __init__(self, label: str, log: AuditLog = AUDIT_LOG) -> None:
        self.label = label
        self.log = log
        self.found: list[Violation] = []
        self._source = AXE_SCRIPT.read_text(encoding="utf-8")

    def audit(self, root: Any, screen: str) -> list[Violation]:
        """Run axe-core on what `root` (a Page or a Frame) shows now; record and return its violations."""
        name = f"{screen} ({self.label})"
        if not root.evaluate("() => Boolean(window.axe)"):
            root.evaluate(self._source)
        assert root.evaluate("() => window.axe.version") == AXE_VERSION
        raw = root.evaluate(RUN_AXE, WCAG_TAGS)
        violations = [
            Violation(
                screen=name,
                rule=item["id"],
                impact=item["impact"] or "minor",
                help=item["help"],
                targets=tuple(node["target"] for node in item["nodes"]),
            )
            for item in raw
        ]
        self.log.screens.append(name)
        self.log.violations.extend(violations)
        self.found.extend(violations)
        return violations

    def assert_clean(self) -> None:
        """Fail, listing every one of them, when a screen had a serious or critical violation."""
        failing = [violation for violation in self.found if violation.fails]
        assert not failing, "axe-core found serious or critical violations:\n" + "\n".join(
            violation.describe() for violation in failing
        )


def summary_lines(log: AuditLog) -> list[str]:
    """The terminal summary: violations per screen, then every moderate or minor one."""
    if not log.screens:
        return []
    lines = [f"axe-core {AXE_VERSION}: {len(log.screens)} screens audited ({', '.join(WCAG_TAGS)})"]
    for screen, counter in log.counts().items():
        figures = ", ".join(
            f"{counter[impact]} {impact}" for impact in ("critical", "serious", "moderate", "minor")
        )
        lines.append(f"  {screen}: {figures}")
    listed = [violation for violation in log.violations if not violation.fails]
    if listed:
        lines.append("Moderate and minor violations (listed, not failing):")
        lines.extend(violation.describe() for violation in listed)
    return lines
