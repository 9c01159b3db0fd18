"""The s6-overlay v3 service: tree layout, executable bits, shellcheck, finish behaviour."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from . import REPOSITORY_ROOT, S6_RC_DIR, SERVICE_DIR, lint_tool, run_tool

SERVICE_TYPES = {"longrun", "oneshot", "bundle"}
BASHIO_SHEBANG = "#!/command/with-contenv bashio"
# s6-overlay provides these; a dependency on them needs no directory here.
S6_OVERLAY_SERVICES = {"base"}


def shell_scripts() -> list[Path]:
    """Every shell script in rootfs/, scripts/ and .ci/: what the image, a developer or CI runs."""
    candidates = [
        *sorted((REPOSITORY_ROOT / "rootfs").rglob("*")),
        *sorted((REPOSITORY_ROOT / "scripts").glob("*")),
        *sorted((REPOSITORY_ROOT / ".ci").glob("*")),
    ]
    scripts = []
    for path in candidates:
        if path.is_file() and path.stat().st_size:
            first_line = path.read_text(encoding="utf-8", errors="replace").partition("\n")[0]
            if first_line.startswith("#!") and ("bash" in first_line or first_line.endswith("/sh")):
                scripts.append(path)
    return scripts


def service_names() -> set[str]:
    """The s6-rc services this app defines (user is s6-overlay's bundle)."""
    return {path.name for path in S6_RC_DIR.iterdir() if path.is_dir() and path.name != "user"}


def is_executable_as_committed(path: Path) -> bool:
    """Mode 100755 in git when the file is tracked, else the x bit on disk."""
    relative = path.relative_to(REPOSITORY_ROOT).as_posix()
    listed = subprocess.run(
        ["git", "ls-files", "-s", "--", relative],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if listed.returncode == 0 and listed.stdout.strip():
        return listed.stdout.split()[0] == "100755"
    return os.access(path, os.X_OK)


def test_there_are_shell_scripts_to_check() -> None:
    """The run and finish scripts are found by the shell script scan."""
    assert {SERVICE_DIR / "run", SERVICE_DIR / "finish"} <= set(shell_scripts())


@pytest.mark.parametrize(
    "script", shell_scripts(), ids=lambda path: path.relative_to(REPOSITORY_ROOT).as_posix()
)
def test_shellcheck_passes(script: Path) -> None:
    """shellcheck -e SC1008 -s bash -x, as home-assistant/addons' CI runs it."""
    result = run_tool(lint_tool("shellcheck"), "-e", "SC1008", "-s", "bash", "-x", str(script))
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_tree_is_complete() -> None:
    """Each service has a valid type and what that type needs; names resolve."""
    names = service_names()
    assert names == {"backup-inspector"}
    for name in names:
        service = S6_RC_DIR / name
        service_type = (service / "type").read_text(encoding="utf-8").strip()
        assert service_type in SERVICE_TYPES, name
        if service_type == "longrun":
            assert (service / "run").is_file(), name
        if service_type == "oneshot":
            assert (service / "up").is_file(), name
        for dependency in (service / "dependencies.d").iterdir():
            assert dependency.name in names | S6_OVERLAY_SERVICES, dependency
            assert dependency.read_bytes() == b"", "dependency files are empty"
    enabled = {path.name for path in (S6_RC_DIR / "user" / "contents.d").iterdir()}
    assert enabled == names, "every service is enabled in the user bundle"


def test_backup_inspector_is_a_longrun_after_base() -> None:
    """The web UI is a long-running service started once s6-overlay's base is up."""
    assert (SERVICE_DIR / "type").read_text(encoding="utf-8") == "longrun\n"
    assert (SERVICE_DIR / "dependencies.d" / "base").is_file()


@pytest.mark.parametrize("name", ["run", "finish"])
def test_run_and_finish_are_executable(name: str) -> None:
    """s6 cannot start a script without its x bit: mode 100755 in git."""
    assert is_executable_as_committed(SERVICE_DIR / name)


@pytest.mark.parametrize("name", ["run", "finish"])
def test_scripts_use_bashio_with_the_container_environment(name: str) -> None:
    """with-contenv passes the container's environment (TZ, SUPERVISOR_TOKEN) to the service."""
    text = (SERVICE_DIR / name).read_text(encoding="utf-8")
    assert text.startswith(BASHIO_SHEBANG + "\n")
    assert "# shellcheck shell=bash" in text
    assert "\r" not in text


def test_run_reads_nothing_and_ends_in_exec() -> None:
    """run reads no option (the app reads options.json) and becomes the app."""
    lines = [
        line.strip()
        for line in (SERVICE_DIR / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not any("bashio::config" in line or "bashio::addon" in line for line in lines)
    exec_at = next(index for index, line in enumerate(lines) if line.startswith("exec "))
    assert all(line.endswith("\\") for line in lines[exec_at:-1]), "exec is the last command"
    assert not lines[-1].endswith("\\")
    assert lines[exec_at].startswith("exec python3 -m backup_inspector serve")


# --- finish: the exit-code convention of addon-platform.md §7.2 -------------

CONTAINER_EXIT_CODE_FILE = "/run/s6-linux-init-container-results/exitcode"
HALT_COMMAND = "/run/s6/basedir/bin/halt"


def run_finish(tmp_path: Path, container_code: int, *arguments: str) -> tuple[int, bool]:
    """Run finish against a fake container: returns (container exit code, halted?)."""
    exit_code_file = tmp_path / "exitcode"
    exit_code_file.write_text(f"{container_code}\n")
    halted_marker = tmp_path / "halted"
    halt = tmp_path / "halt"
    halt.write_text(f"#!/bin/sh\ntouch '{halted_marker}'\n")
    halt.chmod(0o755)

    script = (SERVICE_DIR / "finish").read_text(encoding="utf-8")
    assert CONTAINER_EXIT_CODE_FILE in script and HALT_COMMAND in script
    script = script.replace(CONTAINER_EXIT_CODE_FILE, str(exit_code_file))
    script = script.replace(HALT_COMMAND, str(halt))
    # bashio's strict mode, and a stand-in for its logger.
    test_script = tmp_path / "finish"
    test_script.write_text(
        "#!/bin/bash\nset -o errexit -o nounset -o pipefail\n"
        'bashio::log.info() { echo "$*"; }\n' + script.partition("\n")[2]
    )
    result = subprocess.run(
        ["bash", str(test_script), *arguments],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(exit_code_file.read_text()), halted_marker.exists()


def test_finish_after_a_clean_exit_changes_nothing(tmp_path: Path) -> None:
    """Exit code 0: no container exit code, no halt (s6 restarts or is stopping anyway)."""
    assert run_finish(tmp_path, 0, "0", "0") == (0, False)


def test_finish_without_a_signal_argument(tmp_path: Path) -> None:
    """s6 may pass only the exit code; the script must not trip over nounset."""
    assert run_finish(tmp_path, 0, "0") == (0, False)


def test_finish_after_sigterm_records_143_and_halts(tmp_path: Path) -> None:
    """Killed by SIGTERM (256, 15): 128+15 becomes the container's code, container halts."""
    assert run_finish(tmp_path, 0, "256", "15") == (143, True)


def test_finish_after_another_signal_records_it_without_halting(tmp_path: Path) -> None:
    """Killed by SIGKILL: 137 is recorded; s6 may restart the service."""
    assert run_finish(tmp_path, 0, "256", "9") == (137, False)


def test_finish_after_a_failure_records_it_and_halts(tmp_path: Path) -> None:
    """Non-zero exit: the code becomes the container's, and the container halts."""
    assert run_finish(tmp_path, 0, "3", "0") == (3, True)


def test_finish_keeps_the_first_failure(tmp_path: Path) -> None:
    """An earlier failure's code wins over a later one."""
    assert run_finish(tmp_path, 7, "3", "0") == (7, True)
