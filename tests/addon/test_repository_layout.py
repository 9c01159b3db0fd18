"""The repository as the Supervisor's store sees it: discovery, YAML style, images."""

from __future__ import annotations

import runpy
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from . import REPOSITORY_ROOT, lint_tool, run_tool

# supervisor/store/data.py::_find_app_configs: **/config.{yaml,yml,json},
# skipping any path with a part that starts with "." or is named "rootfs".
APP_CONFIG_NAMES = {"config.yaml", "config.yml", "config.json"}
IMAGE_SIZES = {"icon.png": (128, 128), "logo.png": (250, 100)}
# What the Supervisor reads from the app folder (addon-platform.md §3) that
# this task provides; DOCS.md, README.md and CHANGELOG.md come with the docs.
APP_FILES = ["config.yaml", "build.yaml", "Dockerfile", "apparmor.txt", "icon.png", "logo.png",
             "repository.yaml", "translations/en.yaml", "requirements.txt"]  # fmt: skip


def repository_files() -> list[Path]:
    """Files a clone would have: tracked plus untracked-but-not-ignored (git), else all."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPOSITORY_ROOT, capture_output=True, check=False,
    )  # fmt: skip
    if listed.returncode == 0:
        return [REPOSITORY_ROOT / name for name in listed.stdout.decode().split("\0") if name]
    return [path for path in REPOSITORY_ROOT.rglob("*") if path.is_file()]


def is_scanned_by_the_store(path: Path) -> bool:
    """Would the Supervisor's glob look at this path?"""
    parts = path.relative_to(REPOSITORY_ROOT).parts
    return not any(part.startswith(".") or part == "rootfs" for part in parts)


def png_header(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour_type


def png_pixels(data: bytes) -> bytes:
    """The decompressed image data of a PNG (all IDAT chunks)."""
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    return zlib.decompress(idat)


def test_only_the_app_config_is_discoverable() -> None:
    """A second config.yaml/yml/json outside dot-folders and rootfs would be a second app."""
    found = sorted(
        path.relative_to(REPOSITORY_ROOT).as_posix()
        for path in repository_files()
        if path.name in APP_CONFIG_NAMES and is_scanned_by_the_store(path)
    )
    assert found == ["config.yaml"]


@pytest.mark.parametrize("name", APP_FILES)
def test_app_file_exists(name: str) -> None:
    """Each file of the app package is present."""
    assert (REPOSITORY_ROOT / name).is_file()


def test_yamllint_passes() -> None:
    """Every YAML file passes yamllint in strict mode with the repository's .yamllint."""
    result = run_tool(lint_tool("yamllint"), "--strict", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(IMAGE_SIZES))
def test_images_have_the_store_sizes(name: str) -> None:
    """icon.png is 128 x 128 and logo.png 250 x 100, 8-bit RGBA."""
    width, height, depth, colour_type = png_header(REPOSITORY_ROOT / name)
    assert (width, height) == IMAGE_SIZES[name]
    assert (depth, colour_type) == (8, 6)


def test_images_are_what_the_drawing_script_makes(tmp_path: Path) -> None:
    """The committed PNGs are the output of scripts/draw_icons.py (pixels, not zlib bytes)."""
    draw_icons = runpy.run_path(str(REPOSITORY_ROOT / "scripts" / "draw_icons.py"))
    draw_icons["write_images"](tmp_path)
    for name in IMAGE_SIZES:
        drawn = png_pixels((tmp_path / name).read_bytes())
        committed = png_pixels((REPOSITORY_ROOT / name).read_bytes())
        assert drawn == committed, f"{name} is stale: run python3 scripts/draw_icons.py"


def test_one_version_everywhere() -> None:
    """config.yaml, the Python package and the newest CHANGELOG section name the same version.

    The store shows CHANGELOG.md's section for the version the Supervisor offers.
    """
    import re  # noqa: PLC0415 - only this test parses versions
    import tomllib  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    import backup_inspector  # noqa: PLC0415

    config = yaml.safe_load((REPOSITORY_ROOT / "config.yaml").read_text())["version"]
    project = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = re.search(
        r"^## (\S+)", (REPOSITORY_ROOT / "CHANGELOG.md").read_text(), re.MULTILINE
    )
    assert changelog is not None
    assert config == project == backup_inspector.__version__ == changelog.group(1)
