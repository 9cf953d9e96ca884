#!/usr/bin/env bash
# Installs the Debian 12 system packages mogr needs to build.
#
# Idempotent and quick when everything is present: apt is only touched when `dpkg-query`
# reports a package missing, so CI runs on a prepared machine skip the network entirely.
# Usage: scripts/setup.sh [extra-package ...]
set -euo pipefail

# pkg-config + libheif-dev: libheif-sys links the system libheif (HEIF/AVIF, pulls x265, aom,
# dav1d, libde265); nasm: mozjpeg's SIMD; liblcms2-dev: CMYK/ICC conversion.
# fonts-dejavu-core + fonts-wqy-microhei: the Latin and CJK fonts text watermarks draw with.
# chromium: the headless browser the playground's end-to-end test drives (tests/playground,
# playwright-core).
PACKAGES=(pkg-config nasm libheif-dev liblcms2-dev fonts-dejavu-core fonts-wqy-microhei chromium "$@")

is_installed() {
    # `dpkg -s` alone succeeds for removed packages that left config files behind.
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# A program that renames a file over /dev/null (say, a tool writing its output "atomically" to
# `-o /dev/null`) leaves a plain file there; every later read of /dev/null then returns what
# was written to it, and cargo's own compiler probe fails with garbage input. Put the device
# back before anything builds.
if [[ ! -c /dev/null ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        echo "setup: /dev/null is not the null device; recreating it" >&2
        rm -f /dev/null && mknod -m 666 /dev/null c 1 3
    else
        echo "setup: /dev/null is not the null device; as root: rm /dev/null && mknod -m 666 /dev/null c 1 3" >&2
        exit 1
    fi
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup: not a Debian system; install by hand: ${PACKAGES[*]}" >&2
    exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || {
            echo "setup: need root to install: ${missing[*]}" >&2
            exit 1
        }
        SUDO=(sudo)
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found: install the Rust toolchain (rustup) first" >&2
    exit 1
fi
