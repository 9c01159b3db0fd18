"""The AppArmor profile allows every file access of a traced service run.

The kernel here has no AppArmor (no securityfs), so the profile cannot be
loaded in complain mode; test_profile_loads_in_complain_mode does that where
the kernel allows it. Instead the service is started from its s6 `run` line
under `strace -f -e trace=file`, a full check and an extraction (with a hard
link) are run through its API, and every path it opened, created, renamed,
linked or executed is mapped onto the image's layout and checked against
the profile's rules, abstractions/base included.

What this cannot see: s6-overlay and bashio (not installed here; the outer
profile's rules for them are checked by reading only), mmap (`m`, not a
file syscall) and accesses AppArmor does not mediate (stat, access,
readlink). Accesses that failed are left out: the program handled them.
traced_paths.txt holds the mapped list of one run, checked everywhere; the
live trace runs where strace is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from backup_inspector.demo.entry_specs import ArchiveSpec, FileSpec
from backup_inspector.demo.outer_tar import write_backup
from backup_inspector.demo.sample_content import homeassistant_archive_entries

from . import REPOSITORY_ROOT, load_yaml
from .apparmor_rules import file_rules, first_allowing, tunable_variables
from .test_service_start import (
    free_port,
    localised_command,
    prepare_folders,
    service_environment,
    wait_for_health,
)

PROFILE = (REPOSITORY_ROOT / "apparmor.txt").read_text(encoding="utf-8")
TRACED_PATHS = Path(__file__).with_name("traced_paths.txt")
IMAGE_PYTHON = "python3.14"
# Where s6-overlay v3 keeps the live service folders (the s6-rc init run has a unique suffix).
S6_SERVICE_FOLDER = "/run/s6-rc:s6-rc-init:aBcDeF/servicedirs/backup-inspector"
JOB_TIMEOUT_S = 60.0

# syscall -> (permission needed, indexes of its path arguments among the quoted strings).
OPEN_CALLS = {"open", "openat", "openat2", "creat"}
WRITE_CALLS = {
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "chmod", "fchmodat", "chown", "fchownat", "lchown", "utimensat", "utimes", "truncate",
    "symlink", "symlinkat",
}  # fmt: skip
LINK_CALLS = {"link", "linkat"}
EXEC_CALLS = {"execve", "execveat"}
RE_CALL = re.compile(r"^(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+)")
RE_PATH_ARGUMENT = re.compile(
    r'(?:(?:AT_FDCWD|\d+)<(?P<dir>[^>]*)>,\s*)?"(?P<path>(?:[^"\\]|\\.)*)"'
)

pytestmark = pytest.mark.skipif(
    not (Path("/etc/apparmor.d/abstractions/base")).exists(),
    reason="AppArmor's abstractions are not installed (apt-get install apparmor): "
    "the profile's #include <abstractions/base> cannot be read",
)


def outer_profile() -> str:
    """The top-level profile without its nested python profile."""
    return PROFILE.split("  profile python")[0]


def python_profile() -> str:
    """The nested python profile's body."""
    return PROFILE.split("  profile python")[1]


def profile_rules(text: str):
    """The file rules of one profile, with the tunables and abstractions of this machine."""
    return file_rules(text, tunable_variables())


def editable_source_folders() -> list[str]:
    """Folders on this interpreter's path that hold a backup_inspector package (editable installs)."""
    return [
        entry
        for entry in sys.path
        if entry
        and (Path(entry) / "backup_inspector").is_dir()
        and Path(entry) != REPOSITORY_ROOT / "src"
    ]


class ImageLayout:
    """Maps paths of this machine onto the image's: interpreter, stdlib, venv, app, folders."""

    def __init__(self, folders: Path) -> None:
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        self.prefixes = [
            (str(folders / "backup"), "/backup"),
            (str(folders / "share"), "/share"),
            (str(folders / "data"), "/data"),
            (str(REPOSITORY_ROOT / "src"), "/opt/backup_inspector"),
            # An editable install of the project (a .pth entry) is the app's code too.
            *((entry, "/opt/backup_inspector") for entry in editable_source_folders()),
            # The service's working directory: s6-supervise runs `run` in its service folder.
            (str(REPOSITORY_ROOT), S6_SERVICE_FOLDER),
            (sysconfig.get_paths()["purelib"], f"/usr/local/lib/{IMAGE_PYTHON}/site-packages"),
            (sysconfig.get_paths()["platlib"], f"/usr/local/lib/{IMAGE_PYTHON}/site-packages"),
            (str(stdlib), f"/usr/local/lib/{IMAGE_PYTHON}"),
            (str(stdlib.parent), "/usr/local/lib"),
        ]
        self.interpreter = os.path.realpath(sys.executable)
        self.venv_config = str(Path(sys.prefix) / "pyvenv.cfg")

    def to_image(self, path: str, pid: str) -> str | None:
        """The image path of a traced path (None for this machine's venv marker)."""
        if path == self.venv_config:
            return None  # only venvs have it; the image's Python is not one
        if path == self.interpreter:
            return f"/usr/local/bin/{IMAGE_PYTHON}"
        path = path.replace(
            f"/libpython{sys.version_info[0]}.{sys.version_info[1]}.", "/libpython3.14."
        )
        path = re.sub(r"^/proc/self(?=/|$)", f"/proc/{pid}", path)
        path = re.sub(r"^/proc/thread-self(?=/|$)", f"/proc/{pid}/task/{pid}", path)
        # Longest first: a virtualenv inside the checkout (.venv, as scripts/test makes
        # it) is site-packages, not the service folder the checkout stands for.
        for local, image in sorted(self.prefixes, key=lambda pair: len(pair[0]), reverse=True):
            if path == local or path.startswith(local + "/"):
                return image + path[len(local) :]
        return path


def needed_accesses(trace_dir: Path, layout: ImageLayout) -> set[tuple[str, str, str]]:
    """(profile, image path, permission) for every successful mediated file access traced."""
    accesses: set[tuple[str, str, str]] = set()
    for trace in sorted(trace_dir.glob("trace.*")):
        pid = trace.suffix.lstrip(".")
        first_exec = True
        for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
            match = RE_CALL.match(line)
            if not match or int(match["result"]) < 0:
                continue
            call, arguments = match["call"], match["args"]
            paths = [
                os.path.normpath(os.path.join(found["dir"] or str(REPOSITORY_ROOT), found["path"]))
                for found in RE_PATH_ARGUMENT.finditer(arguments)
            ]
            if not paths:
                continue
            for profile, path, permission in _classify(call, arguments, paths, first_exec):
                image_path = layout.to_image(path, pid)
                if image_path is not None:
                    accesses.add((profile, image_path, permission))
            first_exec = first_exec and call not in EXEC_CALLS
    return accesses


def _classify(call: str, arguments: str, paths: list[str], first_exec: bool):
    """(profile, path, permission) of one successful call."""
    if call in EXEC_CALLS:
        # The exec of the interpreter is the outer profile's cx; any other is the app's.
        yield ("outer" if first_exec else "python"), os.path.realpath(paths[0]), "x"
    elif call in OPEN_CALLS:
        if "O_PATH" in arguments:
            return
        suffix = "/" if "O_DIRECTORY" in arguments else ""
        permission = "r"
        if re.search(r"O_WRONLY|O_CREAT|O_TRUNC|O_APPEND", arguments):
            permission = "w"
        if "O_RDWR" in arguments:
            permission = "rw"
        yield "python", paths[0].rstrip("/") + suffix, permission
    elif call in LINK_CALLS:
        yield "python", paths[-1], "l"
    elif call in WRITE_CALLS:
        suffix = "/" if call.startswith(("mkdir", "rmdir")) else ""
        targets = paths[-1:] if call.startswith("symlink") else paths
        for path in targets:
            yield "python", path + suffix, "w"


def unallowed(accesses: set[tuple[str, str, str]]) -> list[str]:
    """The accesses no rule of the right profile allows, as readable lines."""
    rules = {"outer": profile_rules(outer_profile()), "python": profile_rules(python_profile())}
    return sorted(
        f"{profile}: {path} {permission}"
        for profile, path, permission in accesses
        if first_allowing(rules[profile], path, permission) is None
    )


def read_committed() -> set[tuple[str, str, str]]:
    """traced_paths.txt as (profile, path, permission); paths may hold spaces."""
    accesses = set()
    for line in TRACED_PATHS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            profile, rest = line.split(" ", 1)
            path, permission = rest.rsplit(" ", 1)
            accesses.add((profile, path, permission))
    return accesses


def post_json(port: int, path: str, body: dict[str, object]) -> dict[str, object]:
    """POST JSON to the service on loopback and return the decoded answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def get_json(port: int, path: str) -> dict[str, object]:
    """GET JSON from the service on loopback."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def wait_for_job(port: int, job_id: str) -> dict[str, object]:
    """Poll a job until it is no longer queued or running."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = get_json(port, f"/api/jobs/{job_id}")["job"]
        if job["state"] not in ("queued", "running"):  # type: ignore[index]
            return job  # type: ignore[return-value]
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not finish within {JOB_TIMEOUT_S} s")


def write_traced_backup(folder: Path) -> None:
    """A backup whose share archive holds a file and a hard link to it (extraction links)."""
    share = [
        FileSpec("notes", type="dir"),
        FileSpec("notes/a.txt", content=b"hello\n"),
        FileSpec("notes/b.txt", type="hardlink", link_target="notes/a.txt"),
    ]
    archives = [
        ArchiveSpec("homeassistant", homeassistant_archive_entries()),
        ArchiveSpec("share", share),
    ]
    write_backup(folder / "traced.tar", archives)


def traced_child(strace_pid: int) -> int:
    """The pid of the program strace started."""
    children = Path(f"/proc/{strace_pid}/task/{strace_pid}/children").read_text().split()
    assert children, "strace has no child"
    return int(children[0])


def trace_service(tmp_path: Path) -> set[tuple[str, str, str]]:
    """Start the service under strace, run a full check and an extraction, stop it."""
    options = {**load_yaml("config.yaml")["options"], "share_folder": "extracted"}
    prepare_folders(tmp_path, options)
    write_traced_backup(tmp_path / "backup")
    port = free_port()
    trace_dir = tmp_path / "trace"
    trace_dir.mkdir()
    command = [
        "strace", "-f", "-ff", "-qq", "-y", "-e", "trace=file,execve",
        "-o", str(trace_dir / "trace"), *localised_command(tmp_path, port),
    ]  # fmt: skip
    with (tmp_path / "service.log").open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPOSITORY_ROOT, env=service_environment(), stdout=log, stderr=log
        )
        try:
            wait_for_health(process, f"http://127.0.0.1:{port}/healthz")
            (backup,) = get_json(port, "/api/backups")["backups"]  # type: ignore[misc]
            backup_id = backup["id"]
            check = post_json(port, f"/api/backups/{backup_id}/checks", {"kind": "full"})
            assert wait_for_job(port, check["job"]["id"])["state"] == "succeeded"  # type: ignore[index]
            body = {"selections": [{"archive": "share", "paths": ["notes/a.txt", "notes/b.txt"]}]}
            extract = post_json(port, f"/api/backups/{backup_id}/extract", body)
            assert wait_for_job(port, extract["job"]["id"])["state"] == "succeeded"  # type: ignore[index]
            # strace does not pass SIGTERM on: stop the service itself, as s6 would.
            os.kill(traced_child(process.pid), signal.SIGTERM)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                # Killing strace would leave the service running: end the service first.
                for child in (
                    Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
                ):
                    os.kill(int(child), signal.SIGKILL)
                process.wait(timeout=10)
    extracted = [path for path in (tmp_path / "share").rglob("b.txt")]
    assert extracted and extracted[0].stat().st_nlink == 2, "the extraction made a hard link"
    return needed_accesses(trace_dir, ImageLayout(tmp_path))


def test_share_allows_links() -> None:
    """Extraction hard-links duplicates in /share: the python profile grants `l` there."""
    rules = profile_rules(python_profile())
    assert first_allowing(rules, "/share/extracted/notes/b.txt", "l") is not None
    assert first_allowing(rules, "/backup/x", "l") is None
    assert first_allowing(rules, "/backup/x", "w") is None


def test_glob_matcher_follows_apparmor_rules() -> None:
    """`*` stays in one component, `**` crosses them, `{,**}` includes the folder, @{pid} is digits."""
    rules = profile_rules("/a/* r,\n/b/{,**} r,\n@{PROC}/@{pid}/fd/ r,\n")
    assert first_allowing(rules, "/a/x", "r") and not first_allowing(rules, "/a/x/y", "r")
    assert first_allowing(rules, "/b/", "r") and first_allowing(rules, "/b/x/y", "r")
    assert first_allowing(rules, "/proc/4242/fd/", "r")
    assert not first_allowing(rules, "/proc/self/fd/", "r")
    assert not first_allowing(rules, "/a/x", "w")


def test_committed_traced_paths_are_allowed() -> None:
    """Every access of the committed traced run is allowed by the right profile."""
    accesses = read_committed()
    assert {path for _, path, _ in accesses} & {"/backup/traced.tar", "/data/options.json"}
    assert unallowed(accesses) == []


@pytest.mark.timeout(180)
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_live_traced_paths_are_allowed(tmp_path: Path) -> None:
    """A fresh trace of start, full check and extraction: every access is allowed."""
    try:
        accesses = trace_service(tmp_path)
    except (urllib.error.URLError, AssertionError):
        print((tmp_path / "service.log").read_text(errors="replace"))
        raise
    if not any(
        path.startswith("/share/") and permission == "l" for _, path, permission in accesses
    ):
        pytest.fail("the trace saw no hard link in /share")
    if os.environ.get("UPDATE_TRACED_PATHS"):
        lines = sorted(" ".join(access) for access in accesses)
        TRACED_PATHS.write_text(
            "# profile, image path, permission: made by UPDATE_TRACED_PATHS=1 pytest "
            "tests/addon/test_apparmor_traced_paths.py\n" + "\n".join(lines) + "\n",
            encoding="utf-8",
        )
    assert unallowed(accesses) == []


def test_profile_loads_in_complain_mode(tmp_path: Path) -> None:
    """apparmor_parser loads the profile into the kernel in complain mode, then removes it."""
    parser = shutil.which("apparmor_parser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if parser is None:
        pytest.skip("apparmor_parser is not installed")
    if not Path("/sys/kernel/security/apparmor/.load").exists():
        pytest.skip(
            "this kernel has no AppArmor interface (/sys/kernel/security/apparmor): the profile "
            "cannot be loaded here, so the traced-paths tests stand in for it"
        )
    renamed = tmp_path / "apparmor.txt"
    renamed.write_text(
        PROFILE.replace("profile backup_inspector ", "profile bi_test_backup_inspector ")
    )
    loaded = subprocess.run(
        [parser, "-C", "-K", "-r", str(renamed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    subprocess.run([parser, "-R", str(renamed)], capture_output=True, timeout=60, check=False)
    assert loaded.returncode == 0, loaded.stderr
