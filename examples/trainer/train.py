#!/usr/bin/python3
"""A small MLP on scikit-learn's bundled 8x8 digits, in numpy alone.

The example trainer of docs/backends.md: one trial of a sweep. It learns for
real (val_acc around 95-98 % at good settings), in about a second, and a
learning rate that is too high for its batch size really diverges: the loss
turns NaN and it exits non-zero with "NaN loss detected at epoch N", which the
example workspace classifies as transient (retried with the rate halved).

Contract (docs/backends.md): one JSON line per epoch on stdout
({"epoch":..,"train_loss":..,"val_acc":..}); at the end the metrics
({"val_acc":..,"train_loss":..}) as the last line on stdout AND in --metrics-file
(default metrics.json in the current folder, the job's folder); exit 0. On
failure: a message on stderr and a non-zero exit (2 bad arguments, 3 NaN loss).
Deterministic given --seed.
"""
import argparse
import json
import math
import sys
import time

import importlib.util
import os

import numpy as np


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--learning-rate", type=float, required=True)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metrics-file", default="metrics.json")
    p.add_argument("--epoch-seconds", type=float, default=0,
                   help="sleep this long after each epoch (a slower run, for watching progress)")
    a = p.parse_args(argv)
    if not (a.learning_rate > 0 and math.isfinite(a.learning_rate)):
        p.error("--learning-rate must be a number > 0")
    if a.batch_size < 1:
        p.error("--batch-size must be a positive integer")
    if not 0 <= a.dropout < 1:
        p.error("--dropout must be in [0, 1)")
    if a.epochs < 1 or a.hidden < 1:
        p.error("--epochs and --hidden must be positive")
    return a


def digits():
    """scikit-learn's bundled digits: its CSV read directly (importing
    sklearn costs a second per trial), else through load_digits."""
    spec = importlib.util.find_spec("sklearn")
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz") if spec else ""
    if os.path.exists(path):
        a = np.loadtxt(path, delimiter=",")
        return a[:, :-1], a[:, -1]
    from sklearn.datasets import load_digits
    d = load_digits()
    return d.data, d.target


def data(seed):
    """The 1,797 digits, pixels scaled to [0, 1], split 80/20 by a fixed
    permutation (the same for every trial, so trials compare)."""
    x, y = digits()
    x = x.astype(np.float64) / 16.0
    y = y.astype(np.int64)
    order = np.random.default_rng(12345).permutation(len(y))
    x, y = x[order], y[order]
    n_val = len(y) // 5
    return x[n_val:], y[n_val:], x[:n_val], y[:n_val]


def main(argv):
    a = parse_args(argv)
    xt, yt, xv, yv = data(a.seed)
    rng = np.random.default_rng(a.seed)
    n_in, n_out = xt.shape[1], 10
    w1 = rng.normal(0, math.sqrt(2.0 / n_in), (n_in, a.hidden))
    b1 = np.zeros(a.hidden)
    w2 = rng.normal(0, math.sqrt(2.0 / a.hidden), (a.hidden, n_out))
    b2 = np.zeros(n_out)
    onehot = np.eye(n_out)
    loss = float("nan")
    # Momentum SGD on the summed (not averaged) batch loss: the step grows
    # with the batch, so a rate that is fine at 32 can blow up at 128, the
    # way the scenario's NaN-loss failures do.
    mom = 0.9
    vw1, vb1, vw2, vb2 = (np.zeros_like(p) for p in (w1, b1, w2, b2))
    with np.errstate(all="ignore"):
        for epoch in range(1, a.epochs + 1):
            perm = rng.permutation(len(yt))
            total, seen = 0.0, 0
            for k in range(0, len(yt), a.batch_size):
                idx = perm[k:k + a.batch_size]
                x, t = xt[idx], onehot[yt[idx]]
                h = np.maximum(x @ w1 + b1, 0)
                if a.dropout > 0:
                    mask = (rng.random(h.shape) >= a.dropout) / (1 - a.dropout)
                    h = h * mask
                # The plain softmax, as a first model often has it: once
                # the logits pass ~700, exp overflows and the loss is NaN.
                p = np.exp(h @ w2 + b2)
                p /= p.sum(axis=1, keepdims=True)
                total += float(-np.sum(t * np.log(p)))
                seen += len(idx)
                dz = p - t
                gw2, gb2 = h.T @ dz, dz.sum(axis=0)
                dh = (dz @ w2.T) * (h > 0)
                if a.dropout > 0:
                    dh = dh * mask
                gw1, gb1 = x.T @ dh, dh.sum(axis=0)
                for v, g, w in ((vw1, gw1, w1), (vb1, gb1, b1), (vw2, gw2, w2), (vb2, gb2, b2)):
                    v *= mom
                    v -= a.learning_rate * g
                    w += v
            loss = total / seen
            if not math.isfinite(loss) or not np.all(np.isfinite(w1)):
                print(f"NaN loss detected at epoch {epoch} (learning_rate {a.learning_rate:g}, "
                      f"batch_size {a.batch_size})", file=sys.stderr)
                return 3
            hv = np.maximum(xv @ w1 + b1, 0)
            acc = float(np.mean(np.argmax(hv @ w2 + b2, axis=1) == yv)) * 100
            print(json.dumps({"epoch": epoch, "train_loss": round(loss, 4), "val_acc": round(acc, 2)}), flush=True)
            if a.epoch_seconds > 0:
                time.sleep(a.epoch_seconds)
    metrics = {"val_acc": round(acc, 2), "train_loss": round(loss, 4)}
    with open(a.metrics_file, "w") as f:
        json.dump(metrics, f)
        f.write("\n")
    print(json.dumps(metrics), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
