"""apparmor.txt: the Supervisor's one-profile rule, the parser, and what it allows.

Enforce mode on a real device is the only full proof (addon-platform.md §13);
these tests catch the mistakes that can be seen without one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from . import REPOSITORY_ROOT, dockerfile_instructions

PROFILE_PATH = REPOSITORY_ROOT / "apparmor.txt"
PROFILE = PROFILE_PATH.read_text(encoding="utf-8")
# supervisor/utils/apparmor.py: the profile name it renames to the slug.
RE_PROFILE = re.compile(r"^profile ([^ ]+)", re.MULTILINE)


def child_profile(name: str) -> str:
    """The text of one nested profile (between its header and its closing brace)."""
    match = re.search(
        rf"^\s+profile {name} [^\n]*\{{\n(?P<body>.*?)^\s+\}}$", PROFILE, re.DOTALL | re.MULTILINE
    )
    assert match, f"no child profile {name}"
    return match["body"]


def rules(text: str) -> list[str]:
    """The rule lines of a profile text, comments and blank lines dropped."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_exactly_one_top_level_profile() -> None:
    """The Supervisor needs exactly one line matching ^profile <name> at column 0."""
    assert RE_PROFILE.findall(PROFILE) == ["backup_inspector"]


def test_profile_parses() -> None:
    """apparmor_parser accepts the profile (syntax and rule conflicts)."""
    parser = shutil.which("apparmor_parser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if parser is None:
        pytest.skip(
            "apparmor_parser not installed (Debian: apt-get install apparmor); syntax not checked"
        )
    # -Q: no kernel load, -K: no cache, -S: write the compiled policy to stdout.
    result = subprocess.run(
        [parser, "-Q", "-K", "-S", str(PROFILE_PATH)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_python_runs_in_its_own_profile_for_each_interpreter() -> None:
    """Both interpreters the image can have switch to the confined python profile.

    aarch64/amd64: base-python's /usr/local/bin/python3.X (X from the base tag);
    armv7: Alpine's /usr/bin/python3.Y (Y from the python3~3.Y pin).
    """
    dockerfile = (REPOSITORY_ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = dict(
        arguments.partition("=")[::2]
        for name, arguments in dockerfile_instructions()
        if name == "ARG" and "=" in arguments
    )["BUILD_FROM"]
    base_python = re.search(r"base-python:(3\.\d+)-", base)
    alpine_python = re.search(r"\bpython3~(3\.\d+)\b", dockerfile)
    assert base_python and alpine_python
    outer = rules(PROFILE.split("profile python")[0])
    assert f"/usr/local/bin/python{base_python[1]} cx -> python," in outer
    assert f"/usr/bin/python{alpine_python[1]} cx -> python," in outer


def test_python_may_read_backups_but_not_change_them() -> None:
    """Existing backups stay read-only: only hidden .partial copies are writable, *.tar only linkable."""
    python_rules = rules(child_profile("python"))
    backup_rules = [rule for rule in python_rules if rule.startswith("/backup")]
    assert backup_rules == [
        "/backup/{,**} r,",
        "/backup/.*.partial rw,",
        "/backup/*.tar l,",
    ]


def test_python_may_read_todays_config_but_not_change_it() -> None:
    """The mapped HA config folder (/homeassistant) is read-only for the app (issue 13)."""
    python_rules = rules(child_profile("python"))
    assert [rule for rule in python_rules if rule.startswith("/homeassistant")] == [
        "/homeassistant/{,**} r,"
    ]


def test_python_may_write_share_and_data_only() -> None:
    """Write access: /share (extractions), /data (options, index), /tmp, copies being written, its log."""
    writable = {
        rule.split()[0]
        for rule in rules(child_profile("python"))
        if rule.startswith("/") and "w" in rule.split()[-1].rstrip(",")
    }
    assert writable == {
        "/share/{,**}",
        "/backup/.*.partial",
        "/data/{,**}",
        "/tmp/{,**}",
        "/run/service/s6-svscan-log/fifo",
        "/dev/tty",
    }


def test_python_may_execute_nothing() -> None:
    """No x permission in the python profile: the web app starts no programs."""
    for rule in rules(child_profile("python")):
        if rule.startswith("/"):
            assert "x" not in rule.split()[-1], rule


def test_no_blanket_permissions() -> None:
    """No bare `file,`, `capability,` or `network,`: every grant is named."""
    for rule in rules(PROFILE):
        assert rule not in {"file,", "capability,", "network,", "mount,", "ptrace,"}, rule
        assert not rule.startswith("capability"), rule
