#!/usr/bin/env bash
# Writes the JSON Schemas of the two config files into schemas/, from the
# schema tables in core/config (via `sibyl schema workspace|pipelines`),
# pretty-printed so they read well and diff well in the repo.
#
#   scripts/gen-schemas.sh           regenerate schemas/*.schema.json
#   scripts/gen-schemas.sh --check   exit 1 if the committed files are stale
#
# SIBYL names the binary (default build/native/host-wasi/sibyl). Run it after
# changing a schema table; ctest's schema.published test runs --check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sibyl=${SIBYL:-build/native/host-wasi/sibyl}
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/gen-schemas.sh [--check]" >&2; exit 2 ;;
esac
if [ ! -x "$sibyl" ]; then
  echo "gen-schemas.sh: $sibyl not found (build it, or set SIBYL=...)" >&2
  exit 2
fi

pretty() {
  node -e 'const t = require("fs").readFileSync(0, "utf8");
           process.stdout.write(JSON.stringify(JSON.parse(t), null, 2) + "\n");'
}

stale=0
for kind in workspace pipelines; do
  file=schemas/$kind.schema.json
  tmp=$(mktemp)
  "$sibyl" schema "$kind" | pretty >"$tmp"
  if [ $check = 1 ]; then
    if ! cmp -s "$tmp" "$file"; then
      diff -u "$file" "$tmp" | head -40 >&2 || true
      echo "$file is out of date: run scripts/gen-schemas.sh" >&2
      stale=1
    fi
    rm -f "$tmp"
  else
    mv "$tmp" "$file"
    echo "wrote $file"
  fi
done
exit $stale
