#!/usr/bin/env bash
# Installs what is missing, builds the three targets (native under ASan+UBSan,
# sibyl.wasm, the web module) and runs every test with ctest from the native
# tree; the wasm and web builds are exercised from there through Node.
# Ends with ctest's summary line ("100% tests passed, 0 tests failed out of N").
#   scripts/test.sh [CTEST ARGS...]      e.g. scripts/test.sh -R golden
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$here"

bash scripts/install-deps.sh
bash scripts/build-all.sh native wasi web

jobs=${SIBYL_JOBS:-$(nproc 2>/dev/null || echo 2)}
# ctest exits 8 when no test ran; a run without tests is a failure here too.
ctest --test-dir build/native --output-on-failure --no-tests=error -j "$jobs" "$@"
