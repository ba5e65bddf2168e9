"""Optuna's overhead per trial, for bench/optuna/run.sh.

What is timed: study.optimize() over N trials with a RandomSampler and the
default in-memory storage, on an objective that only draws its five
hyperparameters (the search space of bench/sweep: learning rate and weight
decay on a log scale, batch size and warmup steps as choices, dropout as a
float) and returns a constant. So each trial is Optuna deciding (sampling),
recording (creating the trial, storing parameters and the value, finishing
it) and scheduling (the optimize loop), with no work of the trial's own.
Prints one line: N, total seconds, microseconds per trial.
"""
import sys
import time

import optuna

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))


def objective(trial):
    trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
    trial.suggest_categorical("batch_size", [32, 64, 96, 128, 256])
    trial.suggest_float("dropout", 0.0, 0.5)
    trial.suggest_float("weight_decay", 1e-5, 1e-1, log=True)
    trial.suggest_categorical("warmup_steps", [0, 100, 200, 400, 600])
    return 0.0


t0 = time.perf_counter()
study.optimize(objective, n_trials=N)
t = time.perf_counter() - t0
assert len(study.trials) == N
print(f"optuna {optuna.__version__}: {N} trials in {t:.3f} s, {t * 1e6 / N:.1f} us per trial")
