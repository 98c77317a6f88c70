#!/usr/bin/env bash
# Installs the Debian 12 packages that gorun needs to build, test and benchmark. Idempotent: it
# installs only what is missing, and does nothing (no apt-get at all) when everything is there.
# Not root: uses sudo if it may; otherwise prints the command to run as root and exits 1.
set -euo pipefail

packages=(
    clang-19 libclang-rt-19-dev g++ cmake ninja-build pkg-config
    liburing-dev libfmt-dev doctest-dev golang-go libasio-dev wrk linux-perf
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: dpkg-query not found; this script supports Debian 12 (bookworm)." >&2
    echo "install-deps: install the equivalents of: ${packages[*]}" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
    install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || { [[ -t 0 ]] && sudo -v; }; }; then
        as_root=(sudo)
    else
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: run this as root, then run me again:" >&2
        echo "    $install_cmd" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    "${as_root[@]}" apt-get update
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "install-deps: all ${#packages[@]} packages present"
fi

# CMakeLists.txt needs 3.21; Debian 12 ships 3.25. Another cmake earlier in PATH may be older.
cmake_version=$(cmake --version 2>/dev/null | sed -n '1s/^cmake version \([0-9][0-9.]*\).*/\1/p')
if [[ -z "$cmake_version" ]]; then
    echo "install-deps: warning: could not read the version of $(command -v cmake || echo cmake)" >&2
elif [[ "$(printf '%s\n' 3.21 "$cmake_version" | sort -V | head -n 1)" != 3.21 ]]; then
    echo "install-deps: warning: $(command -v cmake) is cmake $cmake_version; gorun needs 3.21 or newer" >&2
fi
