# Backup Inspector app image: one Dockerfile for aarch64, amd64 and armv7.
#
# aarch64 and amd64 build FROM the current official multi-arch base-python
# image, pinned to its dated tag (docker-base release 2026.06.1). Every runtime
# dependency installs from a musllinux wheel: no compiler is needed.
#
# armv7 builds FROM ghcr.io/home-assistant/armv7-base:3.22-2025.11.1 (build.yaml
# passes it as BUILD_FROM). What was found, and how sure it is:
# * docker-base release notes: 2025.11.1 (#326) "Add release-suffixed tags to
#   Docker images for version pinning"; 2025.11.2 (#324) "Drop deprecated
#   architectures"; 2025.11.0 (#322) dropped Alpine 3.19. So 2025.11.1 is the
#   last release that built armv7, and the only one whose armv7 images carry a
#   dated tag; Alpine 3.22 was the newest Alpine it built. This agrees with the
#   removal commit 57fa69e of 2025-11-21. Sure.
# * The tag spelling "armv7-base:3.22-2025.11.1" is seen pinned in third-party
#   scripts; the registry itself could not be queried from here. Fairly sure;
#   a failed pull names this line. (2025.11.3, #331, fixed "incorrect
#   version-suffixed tags of Python images", one more reason to take the plain
#   Alpine base and not armv7-base-python on this architecture.)
# * There is no musllinux armv7 wheel of cryptography, so armv7 takes Alpine
#   3.22's own builds of aiohttp, cryptography and PyNaCl (and with them
#   Alpine's python3 3.12, which they are built for), and pip installs only the
#   pure-Python awesomeversion, securetar and voluptuous. Each Alpine package
#   may be any version from the tested one (Alpine 3.22's index when this was
#   written) up to, not including, its next major: a security update in 3.22
#   that moves to a new upstream release still builds, a new major (an API
#   break) fails the build here. apk keeps one constraint per package (a
#   second "apk add" of the same name replaces the first), so the range is two
#   adds: ">=tested", then "<next major", which re-checks what is installed
#   against the upper bound. python3 stays "~3.12": the AppArmor profile and
#   the compiled packages name that exact interpreter.
#   tests/addon/test_dependency_pins.py lists this exception.
ARG BUILD_FROM=ghcr.io/home-assistant/base-python:3.14-alpine3.24-2026.06.1
# hadolint ignore=DL3006
FROM ${BUILD_FROM}

ARG BUILD_ARCH=amd64

ENV \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/opt/backup_inspector \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY requirements.txt requirements-fast.txt /tmp/

RUN \
    if [ "${BUILD_ARCH}" = "armv7" ]; then \
        apk add --no-cache \
            python3~3.12 \
            "py3-pip>=25.1" \
            "py3-aiohttp>=3.11.15" \
            "py3-cryptography>=44.0.3" \
            "py3-pynacl>=1.5.0" \
        && apk add --no-cache \
            "py3-pip<26" \
            "py3-aiohttp<4" \
            "py3-cryptography<45" \
            "py3-pynacl<2" \
        && pip3 install \
            --no-cache-dir \
            --no-deps \
            --only-binary=:all: \
            --root-user-action=ignore \
            --break-system-packages \
            awesomeversion==25.8.0 \
            securetar==2026.10.0 \
            voluptuous==0.16.0 \
        && apk del --no-cache py3-pip; \
    else \
        pip3 install \
            --no-cache-dir \
            --only-binary=:all: \
            --root-user-action=ignore \
            -r /tmp/requirements.txt \
            -r /tmp/requirements-fast.txt; \
    fi \
    && rm -f /tmp/requirements.txt /tmp/requirements-fast.txt \
    && find /usr/local/lib /usr/lib -depth -type d \
        \( -name __pycache__ -o -name tests \) -path "*/python3*" \
        -exec rm -rf {} +

COPY src/backup_inspector /opt/backup_inspector/backup_inspector
COPY rootfs /

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--show-error", "http://127.0.0.1:8099/healthz"]

ARG BUILD_VERSION
LABEL \
    io.hass.name="Backup Inspector" \
    io.hass.description="Check, browse and extract Home Assistant backups" \
    io.hass.type="app" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.version="${BUILD_VERSION}" \
    org.opencontainers.image.title="Backup Inspector" \
    org.opencontainers.image.description="Check, browse and extract Home Assistant backups" \
    org.opencontainers.image.source="https://github.com/example/backup-inspector" \
    org.opencontainers.image.licenses="Apache-2.0" \
    org.opencontainers.image.version="${BUILD_VERSION}"
