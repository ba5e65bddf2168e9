#!/bin/sh
# commands-h2m.sh SIBYL OUT: writes a help2man include file with a COMMANDS
# section holding `SIBYL COMMAND --help` for each command (and `pipeline run`, `pipeline resume`),
# verbatim, so the man page carries the same text as the program.
set -eu
sibyl=$1
out=$2
# roff: a backslash is written \e; a line starting with . or ' is guarded by \&.
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
{
  echo '[COMMANDS]'
  "$sibyl" --help | awk '/^commands:/ { c = 1; next } /^$/ { c = 0 } c { print $1 }' | while read -r cmd; do
    for words in "$cmd" $( [ "$cmd" = pipeline ] && echo "pipeline_run pipeline_resume" ); do
      set -- $(echo "$words" | tr _ ' ')
      echo ".SS \"sibyl $*\""
      echo '.nf'
      "$sibyl" "$@" --help | esc
      echo '.fi'
    done
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
