"""Backup content shaped like a real Home Assistant installation, for benchmarks.

Speed figures mean little on backups of random bytes (they inflate at memory
speed) or of one repeated sentence (it inflates faster than anything real).
A real full backup is mostly four things, and each compresses differently:

* the recorder database, written by SQLite with rows like the recorder's
  (states, events, statistics, JSON attributes, the same entity ids again and
  again, 16-byte context ids): about 3-5 : 1 with gzip;
* camera recordings and photos in /media or /share: already compressed, so
  random payload inside plausible MP4/JPEG framing;
* configuration: YAML and the JSON files of `.storage`;
* app folders with thousands of small files (a node_modules tree).

`realistic_archives` plans a backup of a given content size from these,
as `ArchiveSpec`s for `write_backup`. Everything is streamed: the database
is written to a file in `workdir` and served from there by offset, media
are generated block by block, so a 10 GB backup costs no memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path

from backup_inspector.demo.entry_specs import (
    ArchiveSpec,
    ContentGenerator,
    Encryption,
    FileSpec,
    files_to_specs,
)
from backup_inspector.demo.recorder_database import FIRST_STATE_TIME, create_recorder_tables
from backup_inspector.demo.sample_content import addon_archive_entries

MIB = 1024 * 1024
_PAYLOAD_BLOCK = 1024 * 1024
_TEXT_BLOCK = 64 * 1024

#: Share of the content size per kind; what is left goes to the add-on's data.
RECORDER_SHARE = 0.35
RECORDINGS_SHARE = 0.30
PHOTOS_SHARE = 0.14
APP_FILES_SHARE = 0.10
#: An app with a node_modules tree in its data folder, like Node-RED or Zigbee2MQTT.
ADDON_SLUG = "a0d7b954_nodered"

_DOMAINS = {
    "sensor": ("temperature", "humidity", "power", "energy", "illuminance", "battery"),
    "binary_sensor": ("motion", "door", "window", "occupancy"),
    "light": ("ceiling", "desk", "hallway", "garden"),
    "switch": ("plug", "heater", "fan"),
    "climate": ("thermostat",),
    "device_tracker": ("phone",),
}
_ROOMS = ("living_room", "kitchen", "bedroom", "office", "hallway", "garage", "garden", "bath")
_UNITS = {"temperature": "°C", "humidity": "%", "power": "W", "energy": "kWh", "battery": "%"}
#: Share of state changes that are the weather entity's (large, changing JSON attributes).
WEATHER_CHANGES = 0.05
_EVENT_TYPES = ("state_changed", "call_service", "automation_triggered", "script_started")

_EXTRA_RECORDER_TABLES = """
ALTER TABLE states ADD COLUMN attributes_id INTEGER;
CREATE TABLE state_attributes (attributes_id INTEGER PRIMARY KEY, hash BIGINT, shared_attrs TEXT);
CREATE INDEX ix_state_attributes_hash ON state_attributes (hash);
CREATE TABLE event_types (event_type_id INTEGER PRIMARY KEY, event_type VARCHAR(64));
CREATE TABLE event_data (data_id INTEGER PRIMARY KEY, hash BIGINT, shared_data TEXT);
CREATE TABLE events (
    event_id INTEGER PRIMARY KEY, origin_idx SMALLINT, time_fired_ts FLOAT,
    context_id_bin BLOB, data_id INTEGER, event_type_id INTEGER);
CREATE INDEX ix_events_time_fired_ts ON events (time_fired_ts);
CREATE TABLE statistics_meta (
    id INTEGER PRIMARY KEY, statistic_id VARCHAR(255), source VARCHAR(32),
    unit_of_measurement VARCHAR(255), has_mean BOOLEAN, has_sum BOOLEAN, name VARCHAR(255));
CREATE TABLE statistics (
    id INTEGER PRIMARY KEY, created_ts FLOAT, metadata_id INTEGER, start_ts FLOAT,
    mean FLOAT, min FLOAT, max FLOAT, last_reset_ts FLOAT, state FLOAT, sum FLOAT);
CREATE UNIQUE INDEX ix_statistics_statistic_id_start_ts ON statistics (metadata_id, start_ts);
"""


def entity_ids() -> list[str]:
    """The entities of a mid-sized home: every domain's kinds in every room, then the weather."""
    return [
        *(
            f"{domain}.{room}_{kind}"
            for domain, kinds in _DOMAINS.items()
            for kind in kinds
            for room in _ROOMS
        ),
        "weather.home_forecast",
    ]


def _state_and_attributes(entity: str, chooser: random.Random) -> tuple[str, dict[str, object]]:
    """A state value and attributes like the recorder stores for this entity."""
    domain, _, name = entity.partition(".")
    kind = name.rsplit("_", 1)[-1]
    friendly = name.replace("_", " ").title()
    if domain == "sensor":
        attributes: dict[str, object] = {
            "state_class": "measurement",
            "unit_of_measurement": _UNITS.get(kind, ""),
            "device_class": kind,
            "friendly_name": friendly,
        }
        return f"{chooser.uniform(0, 100):.1f}", attributes
    if domain == "weather":
        return chooser.choice(("sunny", "cloudy", "rainy")), {
            "temperature": round(chooser.uniform(-5, 30), 1),
            "humidity": chooser.randrange(30, 100),
            "forecast": [
                {
                    "datetime": f"2026-11-{day:02d}T{hour:02d}:00:00+00:00",
                    "condition": chooser.choice(("sunny", "cloudy", "rainy", "partlycloudy")),
                    "temperature": round(chooser.uniform(-5, 30), 1),
                    "precipitation": round(chooser.uniform(0, 3), 1),
                    "wind_speed": round(chooser.uniform(0, 40), 1),
                }
                for day in range(1, 3)
                for hour in range(0, 24, 3)
            ],
            "friendly_name": friendly,
        }
    if domain in ("binary_sensor", "switch"):
        return chooser.choice(("on", "off")), {"device_class": kind, "friendly_name": friendly}
    if domain == "light":
        brightness = chooser.randrange(0, 256)
        return ("on" if brightness else "off"), {
            "supported_color_modes": ["brightness", "color_temp"],
            "color_mode": "color_temp",
            "brightness": brightness,
            "color_temp_kelvin": chooser.choice((2700, 3000, 4000)),
            "friendly_name": friendly,
            "supported_features": 40,
        }
    if domain == "climate":
        return "heat", {
            "hvac_modes": ["off", "heat", "auto"],
            "current_temperature": round(chooser.uniform(17, 24), 1),
            "temperature": 21.0,
            "friendly_name": friendly,
        }
    return chooser.choice(("home", "not_home")), {
        "source_type": "gps",
        "latitude": 52.37 + chooser.randrange(8) / 1000,
        "longitude": 4.89 + chooser.randrange(8) / 1000,
        "gps_accuracy": chooser.choice((5, 10, 20)),
        "friendly_name": friendly,
    }


def _ulid_bytes(moment: float, chooser: random.Random) -> bytes:
    """A 16-byte context id the way Core makes them: 48-bit milliseconds, 80 random bits."""
    return struct.pack(">Q", int(moment * 1000))[2:] + chooser.randbytes(10)


class _RecorderFiller:
    """Adds recorder rows in batches: states with deduplicated attributes, events, statistics."""

    def __init__(self, connection: sqlite3.Connection, seed: int) -> None:
        self.connection = connection
        self.chooser = random.Random(seed)  # noqa: S311 - test data, not security
        self.entities = entity_ids()
        self.attribute_ids: dict[str, int] = {}
        self.data_ids: dict[str, int] = {}
        self.row = 0
        self.start = FIRST_STATE_TIME.timestamp()
        connection.executescript(_EXTRA_RECORDER_TABLES)
        (last_id,) = connection.execute("SELECT MAX(metadata_id) FROM states_meta").fetchone()
        self.first_metadata_id = int(last_id or 0) + 1
        connection.executemany(
            "INSERT INTO states_meta (entity_id) VALUES (?)", [(e,) for e in self.entities]
        )
        connection.executemany(
            "INSERT INTO event_types (event_type) VALUES (?)", [(e,) for e in _EVENT_TYPES]
        )
        sensors = [e for e in self.entities if e.startswith("sensor.")]
        connection.executemany(
            "INSERT INTO statistics_meta (statistic_id, source, unit_of_measurement, has_mean,"
            " has_sum, name) VALUES (?, 'recorder', ?, 1, 0, NULL)",
            [(e, _UNITS.get(e.rsplit("_", 1)[-1], "")) for e in sensors],
        )
        self.statistic_ids = len(sensors)

    def _shared_id(self, table: str, column: str, text: str, ids: dict[str, int]) -> int:
        """The row id of `text` in a deduplicating table, inserting it the first time."""
        known = ids.get(text)
        if known is None:
            digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            cursor = self.connection.execute(
                f"INSERT INTO {table} (hash, {column}) VALUES (?, ?)",  # noqa: S608 - fixed names
                (digest, text),
            )
            known = ids[text] = int(cursor.lastrowid or 0)
        return known

    def add_batch(self, count: int) -> None:
        """`count` state changes (with their events), plus a statistics row every 60 of them."""
        states, events, statistics = [], [], []
        chooser = self.chooser
        for _ in range(count):
            self.row += 1
            moment = self.start + self.row * 2.5
            # One change in twenty is the weather entity, whose forecast attributes change every time.
            if chooser.random() < WEATHER_CHANGES:
                metadata = len(self.entities) - 1
            else:
                metadata = chooser.randrange(len(self.entities) - 1)
            value, attributes = _state_and_attributes(self.entities[metadata], chooser)
            attributes_id = self._shared_id(
                "state_attributes",
                "shared_attrs",
                json.dumps(attributes, separators=(",", ":")),
                self.attribute_ids,
            )
            context = _ulid_bytes(moment, chooser)
            # last_changed_ts is NULL when it equals last_updated_ts, as the recorder stores it.
            states.append(
                (value, None, moment, metadata + self.first_metadata_id, context, attributes_id)
            )
            if self.row % 4 == 0:
                data = json.dumps(
                    {
                        "domain": "light",
                        "service": "turn_on",
                        "service_data": {
                            "entity_id": self.entities[metadata],
                            "brightness_pct": chooser.randrange(101),
                            "transition": chooser.choice((0, 1, 2)),
                        },
                    },
                    separators=(",", ":"),
                )
                data_id = self._shared_id("event_data", "shared_data", data, self.data_ids)
                events.append((0, moment, context, data_id, 1 + self.row % len(_EVENT_TYPES)))
            if self.row % 60 == 0:
                mean = chooser.uniform(0, 100)
                statistics.append(
                    (
                        moment,
                        1 + (self.row // 60) % self.statistic_ids,
                        moment - 3600,
                        mean,
                        mean - chooser.uniform(0, 3),
                        mean + chooser.uniform(0, 3),
                    )
                )
        self.connection.executemany(
            "INSERT INTO states (state, last_changed_ts, last_updated_ts, metadata_id, "
            "context_id_bin, attributes_id) VALUES (?, ?, ?, ?, ?, ?)",
            states,
        )
        self.connection.executemany(
            "INSERT INTO events (origin_idx, time_fired_ts, context_id_bin, data_id, "
            "event_type_id) VALUES (?, ?, ?, ?, ?)",
            events,
        )
        self.connection.executemany(
            "INSERT OR IGNORE INTO statistics (created_ts, metadata_id, start_ts, mean, min, max)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            statistics,
        )


def write_recorder_database(path: Path, size_bytes: int, *, seed: int = 0) -> int:
    """Write a recorder database of at least `size_bytes` to `path` with sqlite3; its size.

    Written on disk (not in memory) so that gigabyte databases cost no RAM.
    The tables of `recorder_database` (what the full check reads) plus the
    recorder's attribute, event and statistics tables.
    """
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        create_recorder_tables(connection)
        filler = _RecorderFiller(connection, seed)
        while path.stat().st_size < size_bytes:
            connection.execute("BEGIN")
            filler.add_batch(max(1000, min(20_000, size_bytes // 2000)))  # ~1/20 of the size
            connection.execute("COMMIT")
    finally:
        connection.close()
    return path.stat().st_size


def file_region_content(path: Path) -> ContentGenerator:
    """A generator serving the bytes of an existing file by offset (for big files on disk)."""

    def generate(offset: int, length: int) -> bytes:
        """Read [offset, offset+length) of the file."""
        descriptor = os.open(path, os.O_RDONLY)
        try:
            return os.pread(descriptor, length, offset)
        finally:
            os.close(descriptor)

    return generate


def framed_random_content(seed: str, size: int, header: bytes, trailer: bytes) -> ContentGenerator:
    """`header`, then seed-determined random payload, then `trailer`: `size` bytes in all.

    The payload comes in 1 MiB blocks, the last one kept, so tarfile's small
    sequential reads cost one hash per block and not one per read.
    """
    body_end = size - len(trailer)
    cached: dict[int, bytes] = {}

    def payload_block(index: int) -> bytes:
        if index not in cached:
            cached.clear()
            cached[index] = hashlib.shake_256(f"{seed}:{index}".encode()).digest(_PAYLOAD_BLOCK)
        return cached[index]

    def byte_range(start: int, end: int) -> bytes:
        pieces = []
        position = start
        while position < end:
            if position < len(header):
                piece = header[position : min(end, len(header))]
            elif position < body_end:
                index, inside = divmod(position - len(header), _PAYLOAD_BLOCK)
                take = min(_PAYLOAD_BLOCK - inside, end - position, body_end - position)
                piece = payload_block(index)[inside : inside + take]
            else:
                piece = trailer[position - body_end : end - body_end]
            pieces.append(piece)
            position += len(piece)
        return b"".join(pieces)

    def generate(offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) of the framed file."""
        return byte_range(offset, offset + length)

    return generate


def jpeg_like(seed: str, size: int) -> ContentGenerator:
    """A photo: SOI, a JFIF APP0 and a baseline SOF0/SOS header, entropy-coded-like bytes, EOI."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08\x0b\x40\x0f\x00\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sos = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return framed_random_content(seed, size, b"\xff\xd8" + app0 + sof0 + sos, b"\xff\xd9")


def mp4_like(seed: str, size: int) -> ContentGenerator:
    """A camera recording: an ISO BMFF `ftyp` box, then one `mdat` box of compressed-like bytes."""
    ftyp = struct.pack(">I", 32) + b"ftypisom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41"
    mdat = struct.pack(">I", size - len(ftyp)) + b"mdat"
    return framed_random_content(seed, size, ftyp + mdat, b"")


def _split(total: int, count: int, chooser: random.Random, spread: float) -> list[int]:
    """`count` sizes that add up to `total`, each within ±spread of the mean."""
    weights = [1 + chooser.uniform(-spread, spread) for _ in range(count)]
    scale = total / sum(weights)
    sizes = [max(1, int(weight * scale)) for weight in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def media_files(
    folder: str, total: int, average: int, maker: Callable[[str, int], ContentGenerator]
) -> list[FileSpec]:
    """Files of about `average` bytes filling `total`, made by `jpeg_like` or `mp4_like`."""
    count = max(1, total // average)
    chooser = random.Random(folder)  # noqa: S311 - test data, not security
    extension = ".jpg" if maker is jpeg_like else ".mp4"
    specs = []
    for index, size in enumerate(_split(total, count, chooser, 0.5)):
        path = f"{folder}/{2026_11_01 + index // 24:08d}_{index % 24:02d}0000{extension}"
        specs.append(FileSpec(path, size=size, generator=maker(path, size)))
    return specs


_JS_WORDS = (
    "function", "return", "const", "module", "exports", "require", "this", "value",
    "options", "callback", "undefined", "prototype", "length", "error", "null", "if",
    "else", "for", "var", "let", "new", "Object", "Array", "string", "typeof",
)  # fmt: skip


def _javascript(seed: str, size: int) -> ContentGenerator:
    """Source-like text of `size` bytes: keywords, names and numbers on short lines.

    Made on demand from `seed` (tarfile reads a small file in one call), so a
    tree of a million files costs no memory.
    """

    def generate(offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) of the file."""
        chooser = random.Random(seed)  # noqa: S311 - test data, not security
        words: list[str] = []
        written = 0
        while written < size:
            if chooser.random() < 0.7:
                word = chooser.choice(_JS_WORDS)
            else:
                word = f"_{chooser.randrange(1 << 20):x}"
            words.append(word + (";\n" if chooser.random() < 0.1 else " "))
            written += len(words[-1])
        return "".join(words).encode()[offset : offset + length]

    return generate


def text_lines_content(seed: str, make_line: Callable[[random.Random], str]) -> ContentGenerator:
    """Lines from `make_line`, in seed-determined 64 KiB blocks: logs and JSON databases.

    Each block is made from its own seed, so any offset is reachable without
    what precedes it, and the last block is kept for tarfile's small reads.
    """
    cached: dict[int, bytes] = {}

    def text_block(index: int) -> bytes:
        if index not in cached:
            cached.clear()
            chooser = random.Random(f"{seed}:{index}")  # noqa: S311 - test data, not security
            lines: list[str] = []
            length = 0
            while length < _TEXT_BLOCK:
                lines.append(make_line(chooser) + "\n")
                length += len(lines[-1])
            cached[index] = "".join(lines).encode()[:_TEXT_BLOCK]
        return cached[index]

    def generate(offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) of the text."""
        pieces = []
        position = offset
        while position < offset + length:
            index, inside = divmod(position, _TEXT_BLOCK)
            piece = text_block(index)[inside : inside + offset + length - position]
            pieces.append(piece)
            position += len(piece)
        return b"".join(pieces)

    return generate


def node_modules_files(root: str, total: int) -> list[FileSpec]:
    """A node_modules-like tree under `root`: thousands of small JS and package.json files."""
    chooser = random.Random(root)  # noqa: S311 - test data, not security
    specs = [FileSpec(f"{root}/node_modules", type="dir")]
    written = 0
    package = 0
    while written < total:
        name = f"{root}/node_modules/pkg-{package:05d}"
        manifest = json.dumps(
            {"name": f"pkg-{package:05d}", "version": f"{package % 9}.{package % 13}.0",
             "main": "lib/module_0.js", "license": "MIT", "dependencies": {}},
            indent=2,
        ).encode()  # fmt: skip
        specs += [
            FileSpec(name, type="dir"),
            FileSpec(f"{name}/package.json", content=manifest),
            FileSpec(f"{name}/lib", type="dir"),
        ]
        written += len(manifest)
        for index in range(chooser.randrange(3, 12)):
            size = min(int(chooser.lognormvariate(8.0, 1.0)) + 64, 200_000)
            size = max(64, min(size, total - written))
            path = f"{name}/lib/module_{index}.js"
            specs.append(FileSpec(path, size=size, generator=_javascript(path, size)))
            written += size
        package += 1
    return specs


def configuration_files(total: int) -> dict[str, bytes]:
    """configuration.yaml, automations and the `.storage` registries (JSON), about `total` bytes."""
    entities = entity_ids()
    registry = {
        "version": 1,
        "minor_version": 16,
        "key": "core.entity_registry",
        "data": {
            "entities": [
                {"entity_id": e, "platform": "mqtt", "unique_id": hashlib.md5(e.encode()).hexdigest(),  # noqa: S324
                 "original_name": e.split(".")[1].replace("_", " ").title(), "disabled_by": None,
                 "area_id": e.split(".")[1].split("_")[0], "options": {"conversation": {"should_expose": False}}}
                for e in entities
            ]
        },
    }  # fmt: skip
    automation = (
        "- id: '{n}'\n  alias: Motion light {n}\n  triggers:\n  - trigger: state\n"
        "    entity_id: binary_sensor.hallway_motion\n    to: 'on'\n  actions:\n"
        "  - action: light.turn_on\n    target:\n      entity_id: light.hallway_ceiling\n"
    )
    files = {
        "data/configuration.yaml": b"default_config:\nfrontend:\n  themes: !include_dir_merge_named themes\n"
        b"automation: !include automations.yaml\nscript: !include scripts.yaml\n",
        "data/.storage/core.entity_registry": json.dumps(registry, indent=4).encode(),
    }
    count = max(1, (total - sum(len(v) for v in files.values())) // len(automation))
    files["data/automations.yaml"] = "".join(automation.format(n=n) for n in range(count)).encode()
    return files


def _device_line(chooser: random.Random) -> str:
    """One line of a Zigbee device database (JSON per line)."""
    return json.dumps(
        {"id": chooser.randrange(1, 200), "ieeeAddr": f"0x{chooser.getrandbits(64):016x}",
         "type": "EndDevice", "lastSeen": 1_790_000_000_000 + chooser.randrange(10**9),
         "linkquality": chooser.randrange(255)},
    )  # fmt: skip


def _log_line(chooser: random.Random) -> str:
    """One line of an add-on's log."""
    sensor = chooser.randrange(97)
    return (
        f"[2026-11-{chooser.randrange(1, 29):02d} {chooser.randrange(24):02d}:"
        f"{chooser.randrange(60):02d}:{chooser.randrange(60):02d}] info: z2m: MQTT publish: "
        f"topic 'zigbee2mqtt/sensor_{sensor}', payload '{{\"temperature\":"
        f'{chooser.randrange(150, 300) / 10},"linkquality":{chooser.randrange(255)}}}\''
    )


def addon_data_files(root: str, total: int) -> list[FileSpec]:
    """An add-on's data under `root`: a JSON-lines device database and its log, `total` bytes."""
    database = total // 3
    return [
        FileSpec(f"{root}/log", type="dir"),
        FileSpec(f"{root}/database.db", size=database,
                 generator=text_lines_content("devices", _device_line)),
        FileSpec(f"{root}/log/log.txt", size=total - database,
                 generator=text_lines_content("log", _log_line)),
    ]  # fmt: skip


def realistic_archives(
    workdir: Path, content_bytes: int, encryption: Encryption = "none"
) -> list[ArchiveSpec]:
    """The archives of a full backup with `content_bytes` of content shaped like a real one.

    homeassistant (recorder database and configuration), an add-on with a
    node_modules app and its data, share (camera recordings) and media
    (photos). The recorder database is written to `workdir` now; delete it
    after the backup is written.
    """
    database = workdir / "home-assistant_v2.db"
    database_size = write_recorder_database(database, int(content_bytes * RECORDER_SHARE))
    recordings = int(content_bytes * RECORDINGS_SHARE)
    photos = int(content_bytes * PHOTOS_SHARE)
    app_files = int(content_bytes * APP_FILES_SHARE)
    # Configuration is small in real backups; what the database did not take goes to add-on data.
    configuration = 2 * MIB
    addon_data = max(64 * 1024, content_bytes - database_size - recordings - photos - app_files
                     - configuration)  # fmt: skip
    homeassistant = [
        *files_to_specs(configuration_files(configuration)),
        FileSpec(
            "data/home-assistant_v2.db", size=database_size, generator=file_region_content(database)
        ),
    ]
    addon = [
        *addon_archive_entries(ADDON_SLUG),
        *node_modules_files("data", app_files),
        *addon_data_files("data", addon_data),
    ]
    return [
        ArchiveSpec("homeassistant", homeassistant, encryption=encryption),
        ArchiveSpec(ADDON_SLUG, addon, encryption=encryption),
        ArchiveSpec(
            "share", media_files("camera", recordings, 40 * MIB, mp4_like), encryption=encryption
        ),
        ArchiveSpec(
            "media", media_files("photos", photos, 3 * MIB, jpeg_like), encryption=encryption
        ),
    ]
