"""The Supervisor's SCHEMA_APP_BACKUP for an app archive's `addon.json`, mirrored.

`App.restore` (supervisor/apps/app.py) validates `addon.json` with
SCHEMA_APP_BACKUP after extracting the archive; invalid metadata raises
AppBackupMetadataInvalidError and that app is not restored on any system
(restore-rules.md §2.6). Mirrored from home-assistant/supervisor, August 2026:

* SCHEMA_APP_BACKUP, SCHEMA_APP_USER, SCHEMA_APP_SYSTEM and _SCHEMA_APP_CONFIG:
  `supervisor/apps/validate.py` (lines ~400–670), including the `_migrate`
  step that requires a non-empty `name` and a dict, and the `_warn` step's one
  hard rule (dynamic ingress port against a port in 62000–65000 — not
  mirrored: a backup written by the Supervisor passed it);
* `version_tag`, `uuid_match`, `token`, `network_port`, `docker_ports`:
  `supervisor/validate.py`; the enums: `supervisor/const.py` and
  `supervisor/apps/const.py`.

What is mirrored exactly: every required key, value types, the enums, the
`arch` list, the `machine` pattern and its uniqueness, the `slug` pattern,
ports, ranges. Simplified: `schema` (the options grammar: any dict or
False), `image` (any text without a tag), `url` (any text), `translations`
(any dict per language). The Supervisor
wrote those values itself when it made the backup, so they only fail in a
hand-edited file. `version_tag` accepts any value, like AwesomeVersion does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import voluptuous as vol

# supervisor/const.py
ARCH_ALL_COMPAT = ("aarch64", "amd64", "armhf", "armv7", "i386")
ROLE_ALL = ("default", "homeassistant", "backup", "manager", "admin")
APP_STATES = ("startup", "started", "stopped", "unknown", "error")
APP_BOOT = ("auto", "manual", "manual_only")  # AppBoot accepts "manual_only" as "manual"
APP_BOOT_CONFIG = ("auto", "manual", "manual_only")
APP_STARTUP = ("initialize", "system", "services", "application", "once")
APP_STARTUP_LEGACY = {"before": "services", "after": "application"}  # _migrate, 2018-03-30
APP_STAGE = ("stable", "experimental", "deprecated")
CAPABILITIES = (  # supervisor/docker/const.py Capabilities
    "BPF",
    "CHECKPOINT_RESTORE",
    "DAC_READ_SEARCH",
    "IPC_LOCK",
    "NET_ADMIN",
    "NET_RAW",
    "PERFMON",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
)
# supervisor/apps/const.py
MAPPING_TYPES = (
    "data",
    "config",
    "ssl",
    "local_apps",
    "backup",
    "share",
    "media",
    "homeassistant_config",
    "all_app_configs",
    "app_config",
    "addons",
    "all_addon_configs",
    "addon_config",
)
BACKUP_MODES = ("hot", "cold")
RE_SLUG_FIELD = re.compile(r"^[-_.A-Za-z0-9]+$")
# supervisor/apps/validate.py RE_MACHINE: a machine name, optionally negated with "!".
MACHINE_NAMES = (
    "intel-nuc",
    "khadas-vim3",
    "generic-aarch64",
    "generic-x86-64",
    "odroid-c2",
    "odroid-c4",
    "odroid-m1",
    "odroid-n2",
    "odroid-xu",
    "qemuarm-64",
    "qemuarm",
    "qemux86-64",
    "qemux86",
    "raspberrypi",
    "raspberrypi2",
    "raspberrypi3-64",
    "raspberrypi3",
    "raspberrypi4-64",
    "raspberrypi4",
    "raspberrypi5-64",
    "yellow",
    "green",
    "tinker",
)
# The Supervisor's pattern has an empty first alternative, so "" and "!" match too.
RE_MACHINE = re.compile(r"^!?(?:|" + "|".join(re.escape(m) for m in MACHINE_NAMES) + r")$")
RE_VOLUME = re.compile(
    r"^(data|config|ssl|local_apps|addons|backup|share|media|homeassistant_config"
    r"|all_app_configs|all_addon_configs|app_config|addon_config)(?::(rw|ro))?$"
)
RE_SERVICE = r"^(?P<service>mqtt|mysql):(?P<rights>provide|want|need)$"
MAX_ADDON_JSON_BYTES = 4 * 1024 * 1024  # real ones are a few KB; bounded so a check never balloons


def _version_tag(value: Any) -> Any:
    """supervisor/validate.py `version_tag`: AwesomeVersion(value) accepts anything; None stays None."""
    return value


def _one_of(values: tuple[str, ...]) -> Any:
    """vol.Coerce(SomeStrEnum): the value must be one of the enum's values."""
    return vol.In(values, msg=f"must be one of {', '.join(values)}")


def _text(value: Any) -> str:
    """Voluptuous `str`: a JSON string."""
    if not isinstance(value, str):
        raise vol.Invalid("expected text")
    return value


_network_port = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
_docker_port = vol.All(_text, vol.Match(r"^\d+(?:/tcp|/udp)?$"))
_docker_ports = vol.Schema({_docker_port: vol.Maybe(_network_port)})


def _docker_image(value: Any) -> str:
    """supervisor/validate.py `docker_image`, simplified: non-empty text without a tag."""
    if not isinstance(value, str) or not value:
        raise vol.Invalid("expected a non-empty Docker image name")
    if ":" in value.rsplit("/", 1)[-1]:
        raise vol.Invalid("Docker image must not contain a tag")
    return value


def _migrate_app_config(config: Any) -> Any:
    """The parts of `_migrate_app_config` that can refuse or rename (apps/validate.py)."""
    if not isinstance(config, dict):
        raise vol.Invalid("App config must be a dictionary!")
    if not config.get("name"):
        raise vol.Invalid("Invalid app config!")
    config = dict(config)
    if config.get("startup") in APP_STARTUP_LEGACY:
        config["startup"] = APP_STARTUP_LEGACY[config["startup"]]
    if "auto_uart" in config:
        config["uart"] = config.pop("auto_uart")
    if "devices" in config and isinstance(config["devices"], list):
        config["devices"] = [
            line.split(":")[0] if isinstance(line, str) else line for line in config["devices"]
        ]
    if "tmpfs" in config and not isinstance(config["tmpfs"], bool):
        config["tmpfs"] = True
    for old in ("snapshot_exclude", "snapshot_post", "snapshot_pre", "snapshot"):
        if old in config:
            config[old.replace("snapshot", "backup")] = config.pop(old)
    volumes: list[Any] = []
    for entry in config.get("map", []):
        if isinstance(entry, dict) and "type" in entry:
            volumes.append(entry)
        elif isinstance(entry, str) and (match := RE_VOLUME.match(entry)):
            volumes.append({"type": match.group(1), "read_only": match.group(2) != "rw"})
    config["map"] = volumes
    return config


_BOOLEAN = vol.Boolean()

_SCHEMA_APP_CONFIG = vol.Schema(
    {
        vol.Required("name"): _text,
        vol.Required("version"): _version_tag,
        vol.Required("slug"): vol.All(_text, vol.Match(RE_SLUG_FIELD)),
        vol.Required("description"): _text,
        vol.Required("arch"): [_one_of(ARCH_ALL_COMPAT)],
        vol.Optional("machine"): vol.All([vol.All(_text, vol.Match(RE_MACHINE))], vol.Unique()),
        vol.Optional("url"): _text,
        vol.Optional("startup"): _one_of(APP_STARTUP),
        vol.Optional("boot"): _one_of(APP_BOOT_CONFIG),
        vol.Optional("init"): _BOOLEAN,
        vol.Optional("advanced"): _BOOLEAN,
        vol.Optional("stage"): _one_of(APP_STAGE),
        vol.Optional("ports"): _docker_ports,
        vol.Optional("ports_description"): vol.Schema({_docker_port: _text}),
        vol.Optional("watchdog"): vol.All(
            _text, vol.Match(r"^(?:https?|\[PROTO:\w+\]|tcp):\/\/\[HOST\]:(\[PORT:\d+\]|\d+).*$")
        ),
        vol.Optional("webui"): vol.All(
            _text, vol.Match(r"^(?:https?|\[PROTO:\w+\]):\/\/\[HOST\]:\[PORT:\d+\].*$")
        ),
        vol.Optional("ingress"): _BOOLEAN,
        vol.Optional("ingress_port"): vol.Any(_network_port, vol.Equal(0)),
        vol.Optional("ingress_entry"): _text,
        vol.Optional("ingress_stream"): _BOOLEAN,
        vol.Optional("panel_icon"): _text,
        vol.Optional("panel_title"): _text,
        vol.Optional("panel_admin"): _BOOLEAN,
        vol.Optional("homeassistant"): _version_tag,
        vol.Optional("host_network"): _BOOLEAN,
        vol.Optional("host_pid"): _BOOLEAN,
        vol.Optional("host_ipc"): _BOOLEAN,
        vol.Optional("host_uts"): _BOOLEAN,
        vol.Optional("host_dbus"): _BOOLEAN,
        vol.Optional("devices"): [_text],
        vol.Optional("udev"): _BOOLEAN,
        vol.Optional("tmpfs"): _BOOLEAN,
        vol.Optional("map"): [
            vol.Schema(
                {
                    vol.Required("type"): _one_of(MAPPING_TYPES),
                    vol.Optional("read_only"): bool,
                    vol.Optional("path"): _text,
                }
            )
        ],
        vol.Optional("environment"): {vol.Match(r"\w*"): _text},
        vol.Optional("privileged"): [_one_of(CAPABILITIES)],
        vol.Optional("apparmor"): _BOOLEAN,
        vol.Optional("full_access"): _BOOLEAN,
        vol.Optional("audio"): _BOOLEAN,
        vol.Optional("video"): _BOOLEAN,
        vol.Optional("gpio"): _BOOLEAN,
        vol.Optional("usb"): _BOOLEAN,
        vol.Optional("uart"): _BOOLEAN,
        vol.Optional("devicetree"): _BOOLEAN,
        vol.Optional("kernel_modules"): _BOOLEAN,
        vol.Optional("realtime"): _BOOLEAN,
        vol.Optional("hassio_api"): _BOOLEAN,
        vol.Optional("hassio_role"): _one_of(ROLE_ALL),
        vol.Optional("homeassistant_api"): _BOOLEAN,
        vol.Optional("stdin"): _BOOLEAN,
        vol.Optional("legacy"): _BOOLEAN,
        vol.Optional("docker_api"): _BOOLEAN,
        vol.Optional("auth_api"): _BOOLEAN,
        vol.Optional("services"): [vol.All(_text, vol.Match(RE_SERVICE))],
        vol.Optional("discovery"): [_text],
        vol.Optional("backup_exclude"): [_text],
        vol.Optional("backup_pre"): _text,
        vol.Optional("backup_post"): _text,
        vol.Optional("backup"): _one_of(BACKUP_MODES),
        vol.Optional("options"): dict,
        vol.Optional("schema"): vol.Any(dict, False),
        vol.Optional("image"): _docker_image,
        vol.Optional("ulimits"): {
            _text: vol.Any(
                vol.Coerce(int),
                vol.Schema(
                    {vol.Required("soft"): vol.Coerce(int), vol.Required("hard"): vol.Coerce(int)}
                ),
            )
        },
        vol.Optional("timeout"): vol.All(vol.Coerce(int), vol.Range(min=10, max=300)),
        vol.Optional("journald"): _BOOLEAN,
        vol.Optional("breaking_versions"): [_version_tag],
    },
    extra=vol.REMOVE_EXTRA,
)

SCHEMA_APP_SYSTEM = vol.All(
    _migrate_app_config,
    _SCHEMA_APP_CONFIG.extend(
        {
            vol.Required("repository"): _text,
            vol.Optional("translations"): {_text: dict},
        }
    ),
)

SCHEMA_APP_USER = vol.Schema(
    {
        vol.Required("version"): _version_tag,
        vol.Optional("image"): _docker_image,
        vol.Optional("uuid"): vol.All(_text, vol.Match(r"^[0-9a-f]{32}$")),
        vol.Optional("access_token"): vol.All(_text, vol.Match(r"^[0-9a-f]{32,256}$")),
        vol.Optional("ingress_token"): _text,
        vol.Optional("options"): dict,
        vol.Optional("auto_update"): _BOOLEAN,
        vol.Optional("boot"): _one_of(APP_BOOT),
        vol.Optional("network"): _docker_ports,
        vol.Optional("audio_output"): vol.Maybe(_text),
        vol.Optional("audio_input"): vol.Maybe(_text),
        vol.Optional("protected"): _BOOLEAN,
        vol.Optional("ingress_panel"): _BOOLEAN,
        vol.Optional("watchdog"): _BOOLEAN,
        vol.Optional("system_managed"): _BOOLEAN,
        vol.Optional("system_managed_config_entry"): vol.Maybe(_text),
    },
    extra=vol.REMOVE_EXTRA,
)

SCHEMA_APP_BACKUP = vol.Schema(
    {
        vol.Required("user"): SCHEMA_APP_USER,
        vol.Required("system"): SCHEMA_APP_SYSTEM,
        vol.Required("state"): _one_of(APP_STATES),
        vol.Required("version"): _version_tag,
    },
    extra=vol.REMOVE_EXTRA,
)


def validate_addon_json(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """(validated data, "") or (None, why) for the bytes of an app archive's `addon.json`.

    The Supervisor reads the file with its JSON loader (a decode error there
    is an unknown error for that app, which is not restored either), then
    applies SCHEMA_APP_BACKUP.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "addon.json is not valid JSON"
    try:
        return SCHEMA_APP_BACKUP(data), ""
    except vol.MultipleInvalid as err:
        return None, "; ".join(_describe(problem) for problem in err.errors[:3])
    except vol.Invalid as err:
        return None, _describe(err)


def _describe(problem: vol.Invalid) -> str:
    """ "'system.arch[0]': must be one of …", never the value itself (it may be a token)."""
    path = ""
    for step in problem.path:
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else str(step))
    return f"'{path}': {problem.msg}" if path else problem.msg
