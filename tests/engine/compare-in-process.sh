#!/usr/bin/env bash
# One run's transcript (requests sent, events, result file) with answers as
# JSON text and with answers handed over as message values
# (SIBYL_FH_IN_PROCESS=1) must be the same, byte for byte.
#   compare-in-process.sh PROGRAM WORK_DIR
set -u
prog=$1 work=$2
mkdir -p "$work"
SIBYL_FH_IN_PROCESS=0 "$prog" >"$work/text.txt" || { echo "FAIL: the run with text answers failed (exit $?)" >&2; exit 1; }
SIBYL_FH_IN_PROCESS=1 "$prog" >"$work/in-process.txt" ||
  { echo "FAIL: the run with in-process answers failed (exit $?)" >&2; exit 1; }
if ! cmp -s "$work/text.txt" "$work/in-process.txt"; then
  echo "FAIL: the transcripts differ ($work/text.txt, $work/in-process.txt):" >&2
  diff "$work/text.txt" "$work/in-process.txt" | head -40 >&2
  exit 1
fi
echo "text and in-process transcripts agree: $(wc -l <"$work/text.txt") lines, $(wc -c <"$work/text.txt") bytes"
