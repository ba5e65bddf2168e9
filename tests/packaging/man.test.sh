#!/usr/bin/env bash
# The man pages, installed by `cmake --install` into a temporary prefix:
# each renders with `man -l`, names its program and the project version, and
# holds every option its program's --help lists (they are made from that
# text); `man sibyl` finds the page through the prefix's MANPATH.
#   man.test.sh BUILD_DIR VERSION
set -uo pipefail
build=$1
version=$2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; exit 1; }

for p in sibyl sibyl-solver sibyl-conductor; do
  page=$prefix/share/man/man1/$p.1.gz
  [ -f "$page" ] || { fail "$page is not installed (is help2man installed?)"; continue; }
  if ! MANWIDTH=200 man -l "$page" >"$tmp/page" 2>"$tmp/err" || [ -s "$tmp/err" ]; then
    fail "man -l $p.1.gz: $(cat "$tmp/err")"
    continue
  fi
  grep -q "^NAME" "$tmp/page" && grep -q "^ *$p - " "$tmp/page" && grep -q "$p $version" "$tmp/page" ||
    fail "$p.1: no NAME line for $p or no version $version"
  missing=
  helps=$("$prefix/bin/$p" --help)
  if [ $p = sibyl ]; then
    # and every command's own --help (the page's COMMANDS section)
    for c in "workspace" "pipeline" "pipeline run" "schema" "expr" "mcp"; do
      helps=$helps$'\n'$("$prefix/bin/sibyl" $c --help)
    done
  fi
  for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$helps" | sort -u); do
    grep -qF -- "$o" "$tmp/page" || missing="$missing $o"
  done
  [ -z "$missing" ] && ok "man -l $p.1.gz renders, with every option of $p --help (and its commands')" || fail "$p.1 lacks options of --help:$missing"
done
grep -q "hyperparameter_sweep" <(MANWIDTH=200 man -l "$prefix/share/man/man1/sibyl.1.gz" 2>/dev/null) ||
  fail "sibyl.1 has no EXAMPLES section with the scenario"

w=$(MANPATH=$prefix/share/man man -w sibyl 2>&1)
[ "$w" = "$prefix/share/man/man1/sibyl.1.gz" ] && ok "man sibyl finds the installed page" || fail "man -w sibyl: $w"

[ $fails -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo "all man page checks passed"
