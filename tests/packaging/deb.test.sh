#!/usr/bin/env bash
# The Debian package: built with scripts/package.sh (which builds the release
# tree's installed programs and sibyl.wasm only when they are missing or
# stale), checked with dpkg-deb -I (name, version, architecture, Depends) and
# dpkg -x (contents, units, no build paths, the programs run from the
# extracted root), then, as root with every dependency already installed and
# no sibyl package present, a real `apt-get install ./sibyl_*.deb` and
# `apt-get purge`, leaving nothing behind. Otherwise that last part is
# skipped with a line saying why.
#   deb.test.sh REPO_ROOT VERSION
set -uo pipefail
repo=$1
version=$2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }

tmp=$(mktemp -d)
installed=
cleanup() {
  if [ -n "$installed" ]; then
    apt-get purge -y -q sibyl >/dev/null 2>&1 || dpkg --purge sibyl >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

deb=$(bash "$repo/scripts/package.sh" "$tmp/out" 2>"$tmp/package.log" | tail -1)
if [ ! -f "$deb" ]; then
  cat "$tmp/package.log" >&2
  echo "FAIL: scripts/package.sh wrote no package" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "sibyl_${version}_${arch}.deb" ] && ok "file name $(basename "$deb")" ||
  fail "file name $(basename "$deb"), expected sibyl_${version}_${arch}.deb"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = sibyl ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] && ok "Version: $version (the CMake project version)" || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for d in libc6 libcurl4 libyaml-0-2 libmicrohttpd12 nodejs; do
  grep -Eq "(^|, )$d( \(|,|$)" <<<"$depends" || fail "Depends lacks $d: $depends"
done
ok "Depends: $depends"
# (read whole first: with pipefail, grep -q leaving early would fail the pipe)
info=$(dpkg-deb -I "$deb")
for m in postinst prerm postrm; do
  grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$m " <<<"$info" || fail "$m is missing or not executable"
done

# Contents.
root=$tmp/root
dpkg -x "$deb" "$root" || { echo "FAIL: dpkg -x" >&2; exit 1; }
for f in usr/bin/sibyl usr/bin/sibyl-solver usr/bin/sibyl-conductor usr/bin/sibyl-wasm \
  usr/share/sibyl/sibyl.wasm usr/share/sibyl/run-wasi.mjs \
  usr/share/sibyl/schemas/workspace.schema.json usr/share/sibyl/schemas/pipelines.schema.json \
  usr/share/sibyl/examples/companies/vertex_foundry/config/workspace.yaml \
  usr/share/sibyl/examples/companies/vertex_foundry/config/pipelines.yaml \
  usr/share/doc/sibyl/README.md usr/share/man/man1/sibyl.1.gz usr/share/man/man1/sibyl-solver.1.gz \
  usr/share/man/man1/sibyl-conductor.1.gz usr/share/bash-completion/completions/sibyl \
  usr/lib/systemd/system/sibyl-solver.service usr/lib/systemd/system/sibyl-conductor.service; do
  [ -e "$root/$f" ] || fail "/$f is not in the package"
done
ok "contents: programs, sibyl.wasm, schemas, examples, docs, man pages, completion, units"
others=$(cd "$root" && find . -mindepth 1 -maxdepth 1 ! -name usr)
[ -z "$others" ] || fail "files outside /usr: $others"
grep -rlF "$repo" "$root" >"$tmp/leaks" && fail "build paths inside the package: $(cat "$tmp/leaks")"
[ -z "$(find "$root/etc" -path '*wants*' 2>/dev/null)" ] || fail "the package enables a unit"

# The units: loopback, an unprivileged dynamic user, hardened, not enabled.
for s in solver conductor; do
  u=$root/usr/lib/systemd/system/sibyl-$s.service
  grep -Eq "^ExecStart=sibyl-$s --host 127\.0\.0\.1 " "$u" || fail "$s unit: ExecStart does not bind 127.0.0.1"
  for k in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= IPAddressDeny=any; do
    grep -qx "$k" "$u" || fail "$s unit lacks $k"
  done
done
ok "units bind 127.0.0.1 with DynamicUser= and hardening"

# The extracted programs run (shared libraries resolve; examples found from
# the programs' own location inside the extracted root).
mkdir -p "$tmp/cwd"
(cd "$tmp/cwd" && env -i PATH=/usr/bin:/bin "$root/usr/bin/sibyl" workspace validate examples/companies/vertex_foundry/config/workspace.yaml) >"$tmp/o" 2>&1 &&
  ok "extracted /usr/bin/sibyl validates the installed example" || fail "extracted sibyl: $(cat "$tmp/o")"
(cd "$tmp/cwd" && env -i PATH=/usr/bin:/bin "$root/usr/bin/sibyl-wasm" workspace validate examples/companies/vertex_foundry/config/workspace.yaml) >"$tmp/o" 2>&1 &&
  ok "extracted /usr/bin/sibyl-wasm validates the installed example" || fail "extracted sibyl-wasm: $(cat "$tmp/o")"
for p in sibyl sibyl-solver sibyl-conductor; do
  v=$("$root/usr/bin/$p" --version 2>&1)
  [ "$v" = "$p $version" ] || fail "$p --version: $v"
done

# A real install and removal, where this machine allows it.
why=
if [ "$(id -u)" != 0 ]; then
  why="not root"
elif ! command -v apt-get >/dev/null; then
  why="no apt-get"
elif [[ $(dpkg-query -W -f '${Status}' sibyl 2>/dev/null) == *"install ok"* ]]; then
  why="a sibyl package is already installed (left alone)"
else
  for d in libc6 libcurl4 libyaml-0-2 libmicrohttpd12 nodejs; do
    [[ $(dpkg-query -W -f '${Status}' "$d" 2>/dev/null) == *"install ok installed"* ]] || why="$d is not installed (apt would download it)"
  done
fi
if [ -n "$why" ]; then
  echo "skip - apt-get install ./$(basename "$deb"): $why"
else
  installed=yes
  if apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "$deb" >"$tmp/apt.log" 2>&1; then
    ok "apt-get install ./$(basename "$deb")"
    v=$(/usr/bin/sibyl --version 2>&1)
    [ "$v" = "sibyl $version" ] || fail "installed sibyl --version: $v"
    (cd "$tmp/cwd" && env -i PATH=/usr/bin:/bin sibyl workspace validate examples/companies/vertex_foundry/config/workspace.yaml) >"$tmp/o" 2>&1 ||
      fail "installed sibyl: $(cat "$tmp/o")"
    [ "$(man -w sibyl 2>/dev/null)" = /usr/share/man/man1/sibyl.1.gz ] || fail "man -w sibyl: $(man -w sibyl 2>&1)"
    [ -z "$(find /etc/systemd/system -name 'sibyl-*' 2>/dev/null)" ] || fail "a unit was enabled by the install"
    ok "installed: sibyl --version, the example validates, man -w sibyl, units not enabled"
    if command -v systemd-analyze >/dev/null; then
      v=$(systemd-analyze verify /usr/lib/systemd/system/sibyl-solver.service /usr/lib/systemd/system/sibyl-conductor.service 2>&1)
      [ -z "$v" ] && ok "systemd-analyze verify: both units clean" || fail "systemd-analyze verify: $v"
    fi
  else
    fail "apt-get install: $(tail -20 "$tmp/apt.log")"
  fi
  if apt-get purge -y -q -o Dpkg::Use-Pty=0 sibyl >"$tmp/apt.log" 2>&1; then
    installed=
    left=$(ls -d /usr/bin/sibyl* /usr/share/sibyl /usr/share/doc/sibyl /usr/share/man/man1/sibyl* \
      /usr/lib/systemd/system/sibyl-* /usr/share/bash-completion/completions/sibyl* 2>/dev/null)
    [ -z "$left" ] && ok "apt-get purge sibyl leaves nothing behind" || fail "left after purge: $left"
  else
    fail "apt-get purge: $(tail -20 "$tmp/apt.log")"
  fi
fi

[ $fails -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo "all .deb checks passed"
