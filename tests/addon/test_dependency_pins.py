"""The image installs exactly the runtime pins of pyproject.toml (name and version).

aarch64 and amd64 install requirements.txt from wheels, so requirements.txt
must equal pyproject.toml's [project.dependencies].

armv7 is the documented exception: there is no musllinux armv7 wheel of
cryptography, and building it needs a Rust toolchain on the device. So armv7
takes three packages from Alpine 3.22 (the Alpine of the last official armv7
base image) at Alpine's versions, listed in ALPINE_EXCEPTIONS below, and pip
installs the rest at the pinned versions. The Alpine packages are ranges
(tested version up to the next major), so a security update of Alpine 3.22
does not break the build. The test fails when a pin changes in
one place only, when a new dependency is covered by neither route, and when an
exception is left behind after its dependency is gone.
"""

from __future__ import annotations

import re
import tomllib

from . import REPOSITORY_ROOT, dockerfile_instructions

# pyproject name → (Alpine 3.22 package, the tested upstream version: the lower bound).
# Why each one: no wheel for musllinux armv7 (cryptography: none at all;
# aiohttp and PyNaCl: pulled along so that every compiled module comes from one
# consistent set of Alpine builds for Alpine's python3). Versions from Alpine's
# package index for v3.22/community (py3-aiohttp 3.11.15-r0, py3-cryptography
# 44.0.3-r0, py3-pynacl 1.5.0-r6). securetar's own requirements are unpinned,
# so it accepts these; the web layer must not need aiohttp > 3.11 on armv7.
ALPINE_EXCEPTIONS: dict[str, tuple[str, str]] = {
    "aiohttp": ("py3-aiohttp", "3.11.15"),
    "cryptography": ("py3-cryptography", "44.0.3"),
    "pynacl": ("py3-pynacl", "1.5.0"),
}
# Alpine packages the armv7 branch needs besides the exceptions themselves:
# the interpreter those packages are built for, and pip (removed after use).
ALPINE_SUPPORT_PACKAGES = {"python3", "py3-pip"}

ARMV7_CONDITION = 'if [ "${BUILD_ARCH}" = "armv7" ]; then'


def normalise(name: str) -> str:
    """PEP 503 name: case and -_. do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(lines: list[str]) -> dict[str, str]:
    """`name==version` requirement lines → {normalised name: version}; anything else fails."""
    pins: dict[str, str] = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)", line.strip())
        assert match, f"not an exact pin: {line!r}"
        assert normalise(match[1]) not in pins, f"listed twice: {match[1]}"
        pins[normalise(match[1])] = match[2]
    return pins


def pyproject_pins() -> dict[str, str]:
    """[project.dependencies] of pyproject.toml."""
    pyproject = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return parse_pins(pyproject["project"]["dependencies"])


def requirements_pins() -> dict[str, str]:
    """requirements.txt, comments and blank lines dropped."""
    text = (REPOSITORY_ROOT / "requirements.txt").read_text(encoding="utf-8")
    return parse_pins(
        [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    )


def install_branches() -> tuple[str, str]:
    """The Dockerfile's RUN that installs the runtime, split into (armv7, other) branches."""
    runs = [arguments for name, arguments in dockerfile_instructions() if name == "RUN"]
    (install,) = [run for run in runs if ARMV7_CONDITION in run]
    armv7, separator, rest = install.partition(ARMV7_CONDITION)[2].partition(" else ")
    assert separator, "the install RUN needs an else branch for aarch64/amd64"
    other, separator, _ = rest.partition(" fi ")
    assert separator
    return armv7, other


def test_requirements_txt_equals_pyproject() -> None:
    """requirements.txt pins the same packages at the same versions as pyproject.toml."""
    assert requirements_pins() == pyproject_pins()


def fast_requirements_pins() -> dict[str, str]:
    """requirements-fast.txt, comments and blank lines dropped."""
    text = (REPOSITORY_ROOT / "requirements-fast.txt").read_text(encoding="utf-8")
    return parse_pins(
        [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    )


def test_requirements_fast_txt_equals_pyproject_extra() -> None:
    """requirements-fast.txt pins exactly pyproject.toml's optional `fast` extra."""
    pyproject = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert fast_requirements_pins() == parse_pins(
        pyproject["project"]["optional-dependencies"]["fast"]
    )


def test_aarch64_and_amd64_install_requirements_txt_from_wheels() -> None:
    """The non-armv7 branch installs requirements.txt and requirements-fast.txt, nothing else."""
    armv7, other = install_branches()
    assert re.search(
        r"pip3 install .*--only-binary=:all: .*-r /tmp/requirements\.txt -r /tmp/requirements-fast\.txt;",
        other,
    )
    assert "==" not in other, "pin versions in requirements files, not in the Dockerfile"
    assert "requirements-fast" not in armv7, "no isal wheel exists for armv7"
    copies = [arguments for name, arguments in dockerfile_instructions() if name == "COPY"]
    assert "requirements.txt requirements-fast.txt /tmp/" in copies


def test_armv7_pip_pins_equal_pyproject() -> None:
    """The pure-Python packages armv7 gets from pip carry the pyproject versions."""
    armv7, _ = install_branches()
    pip_pins = parse_pins(re.findall(r"\S+==\S+", armv7))
    pins = pyproject_pins()
    for name, version in pip_pins.items():
        assert pins.get(name) == version, (
            f"armv7 installs {name}=={version}, pyproject has {pins.get(name)}"
        )
    assert "--no-deps" in armv7, "pip must not pull the wheel-less dependencies on armv7"


def test_armv7_covers_every_dependency_exactly_once() -> None:
    """Each pyproject dependency comes from pip or from a listed Alpine exception, not both."""
    armv7, _ = install_branches()
    from_pip = set(parse_pins(re.findall(r"\S+==\S+", armv7)))
    from_alpine = set(ALPINE_EXCEPTIONS)
    assert not from_pip & from_alpine
    assert from_pip | from_alpine == set(pyproject_pins())


def apk_constraints(armv7: str) -> list[dict[str, tuple[str, str]]]:
    """Each `apk add` of the armv7 branch as {package: (operator, version)}, in order."""
    adds = re.findall(r"apk add --no-cache (.*?)(?:&&|;|$)", armv7)
    assert adds, "the armv7 branch installs Alpine packages with apk add"
    return [
        {
            name: (operator, version)
            for name, operator, version in re.findall(
                r"\b((?:py3-|python3)[a-z0-9-]*)(~|>=|<=|<|>|=)([0-9][0-9.]*)", add
            )
        }
        for add in adds
    ]


def next_major(version: str) -> str:
    """The first version of the next upstream major release: 44.0.3 -> 45."""
    return str(int(version.split(".")[0]) + 1)


def test_armv7_alpine_packages_are_exactly_the_listed_exceptions() -> None:
    """apk installs the exceptions, plus python3 and pip only."""
    armv7, _ = install_branches()
    named = {name for add in apk_constraints(armv7) for name in add}
    assert named == {package for package, _ in ALPINE_EXCEPTIONS.values()} | ALPINE_SUPPORT_PACKAGES


def test_armv7_alpine_pins_are_ranges_from_tested_to_next_major() -> None:
    """Each Alpine library may move from the tested version up to, not into, its next major.

    Why: Alpine 3.22 keeps one version of each package in its index and
    replaces it on a security update, sometimes with a new upstream release
    (py3-aiohttp 3.11.15 -> 3.11.18, say). A `~3.11.15` pin then matches
    nothing and the armv7 build breaks; `>=3.11.15` keeps building, and
    `<4` still stops an API break. apk keeps one constraint per package (a
    second `apk add` of the same name replaces the first), so the range is
    two adds: the lower bounds first, then the upper bounds, which re-checks
    what is installed.
    """
    armv7, _ = install_branches()
    lower, upper = apk_constraints(armv7)
    for package, tested in ALPINE_EXCEPTIONS.values():
        assert lower[package] == (">=", tested), package
        assert upper[package] == ("<", next_major(tested)), package
    assert lower["py3-pip"][0] == ">="
    assert upper["py3-pip"] == ("<", next_major(lower["py3-pip"][1]))
    assert not any(operator == "~" and version.count(".") >= 2 for add in (lower, upper)
                   for operator, version in add.values()), "no patch-level ~ pins left"  # fmt: skip


def test_armv7_python_stays_on_one_minor() -> None:
    """python3 is pinned to its minor (~3.12): the profile and compiled packages name it."""
    armv7, _ = install_branches()
    lower, upper = apk_constraints(armv7)
    assert lower["python3"][0] == "~"
    assert lower["python3"][1].count(".") == 1
    assert "python3" not in upper
