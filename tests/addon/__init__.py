"""Proof of the add-on package without Docker (issue 4), plus the options module.

Helpers shared by the tests in this folder: where the repository is, how to
read its YAML files, where the lint tools from requirements-test.txt live, and
how to read the Dockerfile and the s6 run script the way Docker and bash do.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
S6_RC_DIR = REPOSITORY_ROOT / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"
SERVICE_DIR = S6_RC_DIR / "backup-inspector"


def load_yaml(relative_path: str) -> Any:
    """Parse one YAML file of the repository."""
    return yaml.safe_load((REPOSITORY_ROOT / relative_path).read_text(encoding="utf-8"))


def lint_tool(name: str) -> str:
    """Path of a lint binary installed by requirements-test.txt (hadolint, shellcheck, …).

    The pip packages put them next to the interpreter that runs the tests
    (.venv/bin). A missing tool is an install error, so this fails, not skips.
    """
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    assert found, f"{name} is not installed: pip install -r requirements-test.txt"
    return found


def run_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a lint tool in the repository root and capture what it says."""
    return subprocess.run(
        argv, cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def join_continuations(text: str) -> str:
    """Join backslash-continued lines, as Docker and the shell read them."""
    return re.sub(r"\\\n", " ", text)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, comments dropped."""
    lines = [
        line
        for line in (REPOSITORY_ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    instructions = []
    for line in join_continuations("\n".join(lines)).splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def run_script_exec_argv() -> list[str]:
    """The command line that the s6 `run` script hands the service to."""
    text = join_continuations((SERVICE_DIR / "run").read_text(encoding="utf-8"))
    exec_lines = [line.strip() for line in text.splitlines() if line.strip().startswith("exec ")]
    assert len(exec_lines) == 1, "the run script must end in exactly one exec line"
    return shlex.split(exec_lines[0])[1:]
