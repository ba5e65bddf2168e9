#!/bin/sh
# The test job of the slurm tests: behaves as its arguments say, prints the
# metrics contract's last JSON line.
#   job.sh MODE SECONDS LR
#     ok     sleeps SECONDS, prints {"val_acc": ..., "train_loss": ...}
#     fail   sleeps SECONDS, "invalid config" on stderr, exit 1
#     nan    fails with "NaN loss detected at epoch 3" (transient) when LR >= 0.01, else as ok
#     file   as ok, but the metrics go to $SIBYL_METRICS_FILE only (on several lines)
mode=$1 secs=$2 lr=$3
sleep "$secs"
case "$mode" in
  fail) echo "invalid config: this job always fails" >&2; exit 1 ;;
  nan)
    if awk "BEGIN { exit !($lr >= 0.01) }"; then
      echo "epoch 3: loss nan" ; echo "NaN loss detected at epoch 3" >&2; exit 1
    fi ;;
  file) printf '{\n  "val_acc": 77.5,\n  "train_loss": 0.5\n}\n' >"$SIBYL_METRICS_FILE"; echo "done"; exit 0 ;;
esac
echo "epoch 1 loss 0.9"
printf '{"val_acc": %s, "train_loss": 0.25, "lr": %s}\n' "$(awk "BEGIN { print 80 + $lr * 100 }")" "$lr"
