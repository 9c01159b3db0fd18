#!/usr/bin/env python3
"""Draw the add-on's icon.png (128x128) and logo.png (250x100) with the stdlib only.

The pictures are a magnifier over an archive box, in Home Assistant blue. Each
shape is a signed-distance function; every pixel is sampled SUPERSAMPLING squared
times for smooth edges, and the result is written as an RGBA PNG with zlib and
struct. Run from anywhere: `python3 scripts/draw_icons.py` rewrites both files
at the repository root, byte for byte the same each time.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
SUPERSAMPLING = 4

HA_BLUE = (0x03, 0xA9, 0xF4)
DARK_BLUE = (0x02, 0x77, 0xBD)
NAVY = (0x01, 0x45, 0x7A)
LENS_BLUE = (0xE1, 0xF5, 0xFE)
WHITE = (0xFF, 0xFF, 0xFF)
ROW_GREY = (0xB0, 0xBE, 0xC5)

Colour = tuple[int, int, int]
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, right, bottom
# A shape answers: how far is (x, y) outside me? Negative inside, in pixels.
Distance = Callable[[float, float], float]


@dataclass(frozen=True)
class Shape:
    """A filled region, its colour and opacity, and the box it fits in."""

    distance: Distance
    colour: Colour
    bounds: Box
    opacity: float = 1.0


def rounded_rectangle(box: Box, radius: float, colour: Colour, *, opacity: float = 1.0) -> Shape:
    """A rectangle with circular corners."""
    left, top, right, bottom = box
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = (right - left) / 2 - radius, (bottom - top) / 2 - radius

    def distance(x: float, y: float) -> float:
        dx, dy = abs(x - centre_x) - half_w, abs(y - centre_y) - half_h
        outside = math.hypot(max(dx, 0.0), max(dy, 0.0))
        return outside + min(max(dx, dy), 0.0) - radius

    return Shape(distance, colour, box, opacity)


def circle(centre: Point, radius: float, colour: Colour, *, opacity: float = 1.0) -> Shape:
    """A filled disc."""
    centre_x, centre_y = centre

    def distance(x: float, y: float) -> float:
        return math.hypot(x - centre_x, y - centre_y) - radius

    bounds = (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius)
    return Shape(distance, colour, bounds, opacity)


def ring(centre: Point, outer: float, inner: float, colour: Colour) -> Shape:
    """The band between two concentric circles."""
    centre_x, centre_y = centre
    middle, half_width = (outer + inner) / 2, (outer - inner) / 2

    def distance(x: float, y: float) -> float:
        return abs(math.hypot(x - centre_x, y - centre_y) - middle) - half_width

    bounds = (centre_x - outer, centre_y - outer, centre_x + outer, centre_y + outer)
    return Shape(distance, colour, bounds)


def capsule(start: Point, end: Point, half_width: float, colour: Colour) -> Shape:
    """A thick line with round ends."""
    (x0, y0), (x1, y1) = start, end
    length_sq = (x1 - x0) ** 2 + (y1 - y0) ** 2

    def distance(x: float, y: float) -> float:
        along = ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / length_sq
        along = min(max(along, 0.0), 1.0)
        return math.hypot(x - (x0 + along * (x1 - x0)), y - (y0 + along * (y1 - y0))) - half_width

    bounds = (
        min(x0, x1) - half_width,
        min(y0, y1) - half_width,
        max(x0, x1) + half_width,
        max(y0, y1) + half_width,
    )
    return Shape(distance, colour, bounds)


def emblem(offset_x: float, offset_y: float, size: float) -> list[Shape]:
    """The archive box with a magnifier, on a blue tile, drawn in a size x size square.

    Coordinates are written for a 128-pixel tile and scaled to `size`.
    """

    def at(value: float) -> float:
        return value * size / 128

    def point(x: float, y: float) -> Point:
        return offset_x + at(x), offset_y + at(y)

    def box(left: float, top: float, right: float, bottom: float) -> Box:
        return (*point(left, top), *point(right, bottom))

    lens_centre = point(84, 82)
    return [
        rounded_rectangle(box(4, 4, 124, 124), at(26), HA_BLUE),
        # the archive box: lid, body, handle slot
        rounded_rectangle(box(18, 28, 94, 46), at(5), WHITE),
        rounded_rectangle(box(23, 50, 89, 100), at(6), WHITE),
        rounded_rectangle(box(44, 59, 68, 67), at(4), DARK_BLUE),
        # the magnifier: a halo to part it from the box, lens, rim, handle
        circle(lens_centre, at(25), HA_BLUE),
        capsule(point(99, 97), point(107, 105), at(9), HA_BLUE),
        circle(lens_centre, at(15), LENS_BLUE, opacity=0.9),
        ring(lens_centre, at(20), at(14), NAVY),
        capsule(point(98, 96), point(107, 105), at(5.5), NAVY),
    ]


def file_rows(left: float, top: float) -> list[Shape]:
    """Three entries of a file list, the first one found (blue)."""
    shapes: list[Shape] = []
    for row, (bar_length, colour) in enumerate(
        [(96.0, HA_BLUE), (76.0, ROW_GREY), (86.0, ROW_GREY)]
    ):
        row_top = top + row * 26
        shapes.append(rounded_rectangle((left, row_top, left + 14, row_top + 18), 3, colour))
        bar = (left + 22, row_top + 5, left + 22 + bar_length, row_top + 13)
        shapes.append(rounded_rectangle(bar, 4, colour))
    return shapes


def render(width: int, height: int, shapes: list[Shape]) -> bytes:
    """Rasterise the shapes, back to front, into straight-alpha RGBA rows."""
    pixels = [[0.0, 0.0, 0.0, 0.0] for _ in range(width * height)]  # premultiplied
    step = 1 / SUPERSAMPLING
    offsets = [(i + 0.5) * step for i in range(SUPERSAMPLING)]
    for shape in shapes:
        left, top, right, bottom = shape.bounds
        for py in range(max(0, int(top) - 1), min(height, int(bottom) + 2)):
            for px in range(max(0, int(left) - 1), min(width, int(right) + 2)):
                inside = sum(
                    1 for oy in offsets for ox in offsets if shape.distance(px + ox, py + oy) <= 0
                )
                if not inside:
                    continue
                alpha = shape.opacity * inside / SUPERSAMPLING**2
                pixel = pixels[py * width + px]
                for channel in range(3):
                    pixel[channel] = shape.colour[channel] / 255 * alpha + pixel[channel] * (
                        1 - alpha
                    )
                pixel[3] = alpha + pixel[3] * (1 - alpha)
    rows = bytearray()
    for py in range(height):
        rows.append(0)  # PNG filter type: none
        for px in range(width):
            red, green, blue, alpha = pixels[py * width + px]
            if alpha > 0:
                red, green, blue = red / alpha, green / alpha, blue / alpha
            rows.extend(round(value * 255) for value in (red, green, blue, alpha))
    return bytes(rows)


def png_bytes(width: int, height: int, rgba_rows: bytes) -> bytes:
    """Wrap filtered RGBA rows into a PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


def write_images(output_dir: Path) -> None:
    """Write icon.png and logo.png into output_dir."""
    icon = render(128, 128, emblem(0, 0, 128))
    (output_dir / "icon.png").write_bytes(png_bytes(128, 128, icon))
    logo = render(250, 100, emblem(0, 0, 100) + file_rows(112, 17))
    (output_dir / "logo.png").write_bytes(png_bytes(250, 100, logo))


def main() -> None:
    """Rewrite icon.png and logo.png at the repository root."""
    write_images(REPOSITORY_ROOT)


if __name__ == "__main__":
    main()
