"""config.yaml and translations/en.yaml against rules that mirror the Supervisor's.

The Supervisor's schema (supervisor/apps/validate.py, 2026.08) cannot be
imported here (Python 3.14-only syntax, not a package), so these are its rules
written out as own code: addon-platform.md §2 and §11.1 rows 5, 6 and 11.
The Supervisor drops unknown keys silently and frenck's linter refuses keys
that restate a default; both are checked here too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from awesomeversion import AwesomeVersion, AwesomeVersionStrategy

from . import REPOSITORY_ROOT, load_yaml, run_script_exec_argv

CONFIG: dict[str, Any] = load_yaml("config.yaml")
TRANSLATIONS: dict[str, Any] = load_yaml("translations/en.yaml")

REQUIRED_KEYS = {"name", "version", "slug", "description", "arch"}
RE_SLUG = r"^[-_.A-Za-z0-9]+$"
ARCH_SUPPORTED = {"aarch64", "amd64"}
ARCH_DEPRECATED = {"armhf", "armv7", "i386"}  # accepted, with a warning (§4)
# issue 4: armv7 on purpose, for people on frozen 32-bit installs.
ARCH_WANTED = {"aarch64", "amd64", "armv7"}

# The keys of the Supervisor's app schema (addon-platform.md §2.2-2.4, plus its
# hardware and host keys). Anything else is dropped without a word, so a typo
# in config.yaml would silently do nothing.
KNOWN_KEYS = {
    "name", "version", "slug", "description", "arch", "machine", "url", "startup", "boot",
    "init", "advanced", "stage", "ports", "ports_description", "webui", "watchdog",
    "ingress", "ingress_port", "ingress_entry", "ingress_stream", "panel_icon",
    "panel_title", "panel_admin", "homeassistant", "host_network", "host_pid", "host_ipc",
    "host_uts", "host_dbus", "devices", "uart", "usb", "udev", "tmpfs", "environment",
    "privileged", "full_access", "apparmor", "auth_api", "homeassistant_api", "hassio_api",
    "hassio_role", "backup", "backup_pre", "backup_post", "backup_exclude", "options",
    "schema", "image", "timeout", "map", "realtime", "journald", "kernel_modules", "video",
    "audio", "gpio", "devicetree", "docker_api", "stdin", "legacy", "discovery", "services",
    "ulimits", "breaking_versions", "codenotary",
}  # fmt: skip
DEPRECATED_KEYS = {"advanced", "codenotary", "watchdog"}

# Schema defaults (addon-platform.md §2.5): writing any of these is noise that
# frenck's linter reports as an error.
DEFAULTS: dict[str, Any] = {
    "init": True, "ingress": False, "ingress_port": 8099, "ingress_stream": False,
    "panel_admin": True, "panel_icon": "mdi:puzzle", "boot": "auto",
    "startup": "application", "stage": "stable", "hassio_api": False,
    "hassio_role": "default", "homeassistant_api": False, "auth_api": False,
    "apparmor": True, "backup": "hot", "timeout": 10, "host_network": False,
    "host_pid": False, "host_ipc": False, "host_uts": False, "host_dbus": False,
    "full_access": False, "docker_api": False, "privileged": [], "devices": [],
    "map": [], "options": {}, "schema": {}, "ulimits": {}, "environment": {},
    "tmpfs": False, "uart": False, "usb": False, "udev": False, "gpio": False,
    "video": False, "audio": False, "kernel_modules": False, "realtime": False,
    "journald": False, "stdin": False, "legacy": False, "devicetree": False,
    "advanced": False, "backup_exclude": [], "breaking_versions": [],
}  # fmt: skip

MAP_TYPES = {
    "data", "config", "ssl", "backup", "share", "media", "homeassistant_config",
    "app_config", "all_app_configs", "local_apps",
    "addon_config", "all_addon_configs", "addons",
}  # fmt: skip

# The option grammar of supervisor/apps/options.py (addon-platform.md §2.7).
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"bool|email|url|port"
    r"|device(?:\(subsystem=(?P<subsystem>\w+)\))?"
    r"|(?P<type>str|password|int|float)(?:\((?P<min>-?\d+(?:\.\d+)?)?,(?P<max>-?\d+(?:\.\d+)?)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>[^|()]+(?:\|[^|()]+)*)\)"
    r")(?P<optional>\?)?$"
)
RE_MDI_ICON = r"^mdi:[a-z0-9]+(?:-[a-z0-9]+)*$"

# Security rating (supervisor/apps/utils.py::rating_security, §10.1).
HIGHEST_RATING_FOR_AN_INGRESS_APP = 8
RISKY_PRIVILEGES = {
    "BPF", "CHECKPOINT_RESTORE", "DAC_READ_SEARCH", "NET_ADMIN", "NET_RAW", "PERFMON",
    "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO",
}  # fmt: skip


def security_rating(config: dict[str, Any], has_apparmor_profile: bool) -> int:
    """The Supervisor's rating: start at 5, adjust, clamp to 1..8."""
    if config.get("docker_api") or config.get("full_access"):
        return 1
    rating = 5
    if config.get("apparmor") is False:
        rating -= 1
    elif has_apparmor_profile:
        rating += 1
    if config.get("ingress"):
        rating += 2
    elif config.get("auth_api"):
        rating += 1
    if RISKY_PRIVILEGES & set(config.get("privileged", [])) or config.get("kernel_modules"):
        rating -= 1
    rating -= {"manager": 1, "admin": 2}.get(config.get("hassio_role", "default"), 0)
    if config.get("host_network"):
        rating -= 1
    if config.get("host_pid"):
        rating -= 2
    if config.get("host_uts") and "SYS_ADMIN" in config.get("privileged", []):
        rating -= 1
    return max(1, min(8, rating))


def test_required_keys_are_present_and_well_formed() -> None:
    """name, version, slug, description and arch exist and have the Supervisor's forms."""
    assert CONFIG.keys() >= REQUIRED_KEYS
    assert isinstance(CONFIG["name"], str) and CONFIG["name"].strip()
    assert isinstance(CONFIG["description"], str) and CONFIG["description"].strip()
    assert re.match(RE_SLUG, CONFIG["slug"])
    assert isinstance(CONFIG["version"], str), "quote the version in config.yaml"
    version = AwesomeVersion(CONFIG["version"])
    assert version.valid
    assert version.strategy == AwesomeVersionStrategy.SEMVER, "use a semantic version"


def test_version_matches_the_python_package() -> None:
    """The add-on version is the package version, so users see one number."""
    pyproject = (REPOSITORY_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{CONFIG["version"]}"' in pyproject


def test_arch_lists_the_three_targets() -> None:
    """aarch64, amd64 and (deprecated but wanted) armv7, nothing else."""
    assert set(CONFIG["arch"]) == ARCH_WANTED
    assert len(CONFIG["arch"]) == len(set(CONFIG["arch"]))
    assert set(CONFIG["arch"]) <= ARCH_SUPPORTED | ARCH_DEPRECATED


def test_no_unknown_keys() -> None:
    """Every key is one the Supervisor knows; it would drop any other silently."""
    assert set(CONFIG) <= KNOWN_KEYS, set(CONFIG) - KNOWN_KEYS


def test_no_deprecated_or_obsolete_keys() -> None:
    """No advanced/codenotary/watchdog, no webui beside ingress, no tagged image."""
    assert not DEPRECATED_KEYS & CONFIG.keys()
    assert "webui" not in CONFIG
    assert ":" not in CONFIG.get("image", "").rpartition("/")[2], "image is named without a tag"


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_no_key_restates_its_default(key: str) -> None:
    """A key equal to its schema default is noise (frenck's linter: an error)."""
    if key in CONFIG:
        assert CONFIG[key] != DEFAULTS[key], f"{key!r} restates its default; remove it"


def test_panel_title_is_not_the_name() -> None:
    """panel_title defaults to name, so it is only written when it differs."""
    assert CONFIG["panel_title"] != CONFIG["name"]


def test_ingress_setup() -> None:
    """Ingress with streamed uploads, s6 as PID 1, an icon and a title for the panel."""
    assert CONFIG["ingress"] is True
    assert CONFIG["ingress_stream"] is True
    assert CONFIG["init"] is False
    assert re.match(RE_MDI_ICON, CONFIG["panel_icon"])
    assert isinstance(CONFIG["panel_title"], str) and CONFIG["panel_title"].strip()
    assert "ports" not in CONFIG, "the UI is reached through ingress only"


def test_ingress_port_is_the_port_the_service_listens_on() -> None:
    """The Supervisor proxies to ingress_port (default 8099); run starts the app there."""
    ingress_port = CONFIG.get("ingress_port", DEFAULTS["ingress_port"])
    assert isinstance(ingress_port, int)
    assert 1 <= ingress_port <= 65535, "0 (dynamic) needs host_network"
    argv = run_script_exec_argv()
    assert argv[argv.index("--port") + 1] == str(ingress_port)


def test_map_is_backup_and_share_read_write_and_config_read_only() -> None:
    """Dict-form map: /backup and /share writable (copies, extractions), the HA config read-only.

    /backup is writable only so that copies (issue 12) land where Home
    Assistant lists them; AppArmor still keeps existing backups read-only
    (test_apparmor). read_only is written out on both entries: for a mount
    that decides what the app can change, the reader should not need to
    know the default.
    """
    entries = CONFIG["map"]
    assert all(isinstance(entry, dict) for entry in entries), "one form only: dicts"
    for entry in entries:
        assert entry["type"] in MAP_TYPES
        assert isinstance(entry["read_only"], bool)
        assert set(entry) <= {"type", "read_only", "path"}
    assert {entry["type"]: entry["read_only"] for entry in entries} == {
        "backup": False,
        "share": False,
        "homeassistant_config": True,
    }


def test_supervisor_api_only_for_backups() -> None:
    """The Supervisor API with the backup role (POST /backups/reload after a copy), nothing more."""
    assert CONFIG["hassio_api"] is True
    assert CONFIG["hassio_role"] == "backup"


def test_no_other_api_access_or_host_privileges() -> None:
    """No auth API, no host access, no privileges (the Core API is for the watch, below)."""
    for key in (
        "auth_api", "host_network",
        "host_pid", "host_ipc", "host_uts", "host_dbus", "privileged", "devices",
        "full_access", "docker_api", "apparmor", "kernel_modules",
    ):  # fmt: skip
        assert key not in CONFIG, f"{key} is not needed by this app"


def test_security_rating_is_the_highest_for_an_ingress_app() -> None:
    """Ingress (+2) and a custom AppArmor profile (+1) on top of 5 give 8 of 8; the backup role costs nothing."""
    has_profile = (REPOSITORY_ROOT / "apparmor.txt").is_file()
    assert CONFIG["hassio_role"] == "backup"
    assert security_rating(CONFIG, has_profile) == HIGHEST_RATING_FOR_AN_INGRESS_APP


def test_supervisor_api_with_the_backup_role_keeps_the_rating_at_8() -> None:
    """hassio_api (/info, /host/info, /backups/reload) with the backup role costs no point."""
    has_profile = (REPOSITORY_ROOT / "apparmor.txt").is_file()
    assert CONFIG["hassio_api"] is True
    assert CONFIG["hassio_role"] == "backup"
    assert security_rating(CONFIG, has_profile) == HIGHEST_RATING_FOR_AN_INGRESS_APP
    # The same config with a role that rating_security does count loses points.
    assert security_rating({**CONFIG, "hassio_role": "manager"}, has_profile) == 7


def test_core_api_access_keeps_the_highest_rating() -> None:
    """homeassistant_api (the watch reports to Core) is on and costs no point: still 8 of 8."""
    assert CONFIG["homeassistant_api"] is True
    has_profile = (REPOSITORY_ROOT / "apparmor.txt").is_file()
    assert security_rating(CONFIG, has_profile) == HIGHEST_RATING_FOR_AN_INGRESS_APP
    without = {key: value for key, value in CONFIG.items() if key != "homeassistant_api"}
    assert security_rating(without, has_profile) == security_rating(CONFIG, has_profile)


def test_security_rating_model_penalises_what_it_should() -> None:
    """The rating helper is not constant: roles and host access cost points."""
    assert security_rating({**CONFIG, "hassio_role": "admin"}, True) == 6
    assert security_rating({**CONFIG, "hassio_role": "manager"}, True) == 7
    assert security_rating({**CONFIG, "host_network": True}, True) == 7
    assert security_rating({**CONFIG, "full_access": True}, True) == 1
    assert security_rating({**CONFIG, "ingress": False}, False) == 5


def test_url_is_a_full_url() -> None:
    """vol.Url() needs a scheme and a host."""
    assert re.match(r"^https://[^/\s]+/\S*$", CONFIG["url"])


@pytest.mark.parametrize("key", sorted(load_yaml("config.yaml")["schema"]))
def test_schema_element_follows_the_supervisor_grammar(key: str) -> None:
    """Each schema value is one of the Supervisor's option types."""
    element = RE_SCHEMA_ELEMENT.match(CONFIG["schema"][key])
    assert element, f"{key}: {CONFIG['schema'][key]!r} is not a Supervisor option type"
    if element["match"] is not None:
        re.compile(element["match"])


@pytest.mark.parametrize("key", sorted(load_yaml("config.yaml")["options"]))
def test_option_default_is_valid_for_its_schema(key: str) -> None:
    """Every default in options is in the schema and passes its own type."""
    assert key in CONFIG["schema"], f"option {key} has no schema entry"
    value = CONFIG["options"][key]
    element = RE_SCHEMA_ELEMENT.match(CONFIG["schema"][key])
    assert element
    spec = CONFIG["schema"][key]
    if spec.startswith("bool"):
        assert isinstance(value, bool)
    elif element["list"] is not None:
        assert value in element["list"].split("|")
    elif element["match"] is not None:
        assert re.match(element["match"], str(value))
    elif element["type"] == "int":
        assert isinstance(value, int) and not isinstance(value, bool)
        assert element["min"] is None or value >= int(element["min"])
        assert element["max"] is None or value <= int(element["max"])
    else:
        assert isinstance(value, str)


def test_every_schema_key_has_a_default() -> None:
    """No option is left for the user to fill in before the first start (optional ones may be empty)."""
    optional = {key for key, spec in CONFIG["schema"].items() if str(spec).endswith("?")}
    assert set(CONFIG["options"]) == set(CONFIG["schema"]) - optional
    assert optional == {"backup_password"}


def test_translations_cover_every_option() -> None:
    """translations/en.yaml names and describes each option, and nothing else."""
    assert set(TRANSLATIONS) <= {"configuration", "network"}
    assert set(TRANSLATIONS["configuration"]) == set(CONFIG["schema"])
    for key, entry in TRANSLATIONS["configuration"].items():
        assert set(entry) <= {"name", "description", "fields"}, key
        assert isinstance(entry["name"], str) and entry["name"].strip(), key
        assert isinstance(entry["description"], str) and entry["description"].strip(), key


def test_repository_yaml_names_the_repository() -> None:
    """A repository added by URL needs repository.yaml with a name."""
    repository = load_yaml("repository.yaml")
    assert isinstance(repository["name"], str) and repository["name"].strip()
    assert set(repository) <= {"name", "url", "maintainer"}
