#!/usr/bin/env bash
# Builds the Debian package sibyl_<version>_<arch>.deb from the release tree
# (configured with the release preset when missing) and sibyl.wasm from the
# wasi tree, building only what an install needs (target sibyl_installables,
# not the tests and benchmarks), then runs CPack.
#   scripts/package.sh [OUTDIR]       default OUTDIR: build/packages
# Prints the path of the .deb as its last line. Environment: SIBYL_JOBS
# (default: the number of CPUs). docs/packaging.md describes the package.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$here"
out=$(mkdir -p "${1:-build/packages}" && cd "${1:-build/packages}" && pwd)
jobs=${SIBYL_JOBS:-$(nproc 2>/dev/null || echo 2)}

die() {
  echo "package: FAILED: $*" >&2
  exit 1
}
for p in wasi release; do
  if [ ! -f "build/$p/CMakeCache.txt" ]; then
    echo "package: configuring $p -> build/$p" >&2
    cmake --preset "$p" >/dev/null || die "configuring $p (cmake --preset $p)"
  fi
done
echo "package: building sibyl.wasm (build/wasi)" >&2
cmake --build build/wasi -j "$jobs" --target sibyl >&2 || die "building sibyl.wasm"
echo "package: building the installed programs and man pages (build/release)" >&2
cmake --build build/release -j "$jobs" --target sibyl_installables >&2 || die "building build/release"
grep -q '^SIBYL_HELP2MAN:FILEPATH=/' build/release/CMakeCache.txt || die "help2man is missing (scripts/install-deps.sh)"

echo "package: cpack -> $out" >&2
(cd build/release && cpack -G DEB -B "$out" >&2) || die "cpack"
rm -rf "$out/_CPack_Packages"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' build/release/CMakeCache.txt)
deb="$out/sibyl_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || die "cpack did not write $deb"
echo "$deb"
