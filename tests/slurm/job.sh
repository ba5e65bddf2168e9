#!/bin/sh
# The test job of the slurm tests: behaves as its arguments say, prints the
# metrics contract's last JSON line.
#   job.sh MODE SECONDS LR
#     ok     sleeps SECONDS, prints {"val_acc": ..., "train_loss": ...}
#     fail   sleeps SECONDS, "invalid config" on stderr, exit 1
#     nan    fails with "NaN loss detected at epoch 3" (transient) when LR >= 0.01, else as ok
#     file   as ok, but the metrics go to $SIBYL_METRICS_FILE only (on several lines)
#     epochs 10 epochs of SECONDS each, one {"epoch": k, "val_acc": ...} line per epoch, then the metrics
mode=$1 secs=$2 lr=$3
if [ "$mode" = epochs ]; then
  for k in 1 2 3 4 5 6 7 8 9 10; do
    sleep "$secs"
    printf '{"epoch": %s, "epochs": 10, "val_acc": %s}\n' "$k" "$((50 + k * 3))"
  done
  printf '{"val_acc": 80, "train_loss": 0.25}\n'
  exit 0
fi
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
