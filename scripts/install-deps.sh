#!/usr/bin/env bash
# Makes a Debian 12 machine ready to build and test sibyl: Debian packages, the
# cJSON and libyaml sources for the wasm builds (never committed: fetched with
# `apt-get source` into third_party/, which git ignores), and the npm packages
# pinned by package-lock.json. Idempotent: a second run only checks.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

PACKAGES=(
  build-essential cmake ninja-build pkg-config dpkg-dev
  clang-16 lld-16 llvm-16 libclang-rt-16-dev libclang-rt-16-dev-wasm32 wasi-libc
  emscripten binaryen wabt
  libcjson-dev libyaml-dev libcurl4-openssl-dev libmicrohttpd-dev
  nodejs npm
  python3-numpy python3-sklearn
  slurm-wlm slurmctld slurmd slurm-client munge
  chromium fonts-dejavu-core
  help2man fakeroot bash-completion jq man-db
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodesource's nodejs ships npm itself; do not ask apt for Debian's npm then.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm/}")
fi
want=()
for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done

srcfile=/etc/apt/sources.list.d/sibyl-deb-src.sources
updated=0
if [ ! -f "$srcfile" ]; then
  echo "install-deps: adding deb-src entries ($srcfile)"
  $SUDO tee "$srcfile" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO apt-get update -q || true
  updated=1
fi

if [ ${#want[@]} -gt 0 ]; then
  echo "install-deps: installing ${want[*]}"
  [ $updated -eq 1 ] || { $SUDO apt-get update -q || true; updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${want[@]}"
fi

# Sources for the wasm builds (cJSON, libyaml), unpacked by dpkg-source.
mkdir -p third_party
for pkg in cjson libyaml; do
  if ! ls -d third_party/"$pkg"-*/ >/dev/null 2>&1; then
    echo "install-deps: apt-get source $pkg"
    [ $updated -eq 1 ] || { $SUDO apt-get update -q || true; updated=1; }
    (cd third_party && apt-get source -q "$pkg")
  fi
done

# npm packages (pinned by package-lock.json).
if [ -f package-lock.json ] && [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# External MCP peers for the tests (the official conformance suite with the
# Node 22 it needs, and the official TypeScript SDK), pinned by their own lock
# file in a folder of their own: the Node 22 binary they bring must not
# shadow the machine's node for anything else.
peers=tests/interop
if [ ! -d $peers/node_modules ] || [ $peers/package-lock.json -nt $peers/node_modules ]; then
  echo "install-deps: npm ci in $peers"
  npm ci --prefix $peers --no-audit --no-fund --loglevel=error
fi
echo "install-deps: ready"
