"""How often each search reports the true best configuration, and its mean
regret, over seeds and response surfaces, at the same budget. Not a test: it
prints figures (bench/README.md keeps a copy). Run it through run.sh.

Searches, each over the headline space (design.md section 8) and $500:
  fixed plan   the example pipeline with --input search=grid: plan_search_grid's
               18 of 27, run with retries (sibyl pipeline run, --seed S)
  adaptive     the example pipeline as it is: suggest_trials (sibyl pipeline run)
  random       18 distinct configurations drawn at random (seeded), run once each
  Optuna TPE   optuna.samplers.TPESampler(seed=S), 18 trials, categorical levels
The last two see the same simulated cluster through search_eval (the same
draws for the same seed and job id as sibyl's runs); 18 is the number of
trials the fixed plan fits in the budget, and neither retries a failure.
A run's reported best is its best completed trial by observed val_acc; its
regret is the noiseless val_acc of the true optimum minus that of the
reported best (0 when it found the optimum)."""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

SPACE = {"learning_rate": [0.0001, 0.001, 0.01], "batch_size": [32, 64, 128], "dropout": [0.3, 0.5, 0.7]}
SPACE_ARG = '{"learning_rate": [0.0001, 0.001, 0.01], "batch_size": [32, 64, 128], "dropout": [0.3, 0.5, 0.7]}'
SURFACES = {
    "headline (0.001, 64, 0.3)": {"learning_rate": 0.001, "batch_size": 64, "dropout": 0.3},
    "centre (0.001, 64, 0.5)": {"learning_rate": 0.001, "batch_size": 64, "dropout": 0.5},
    "corner (0.0001, 32, 0.7)": {"learning_rate": 0.0001, "batch_size": 32, "dropout": 0.7},
    "corner (0.01, 32, 0.3)": {"learning_rate": 0.01, "batch_size": 32, "dropout": 0.3},
    # Two corners the fixed plan leaves out, as it leaves out the headline optimum.
    "corner (0.0001, 32, 0.3)": {"learning_rate": 0.0001, "batch_size": 32, "dropout": 0.3},
    "corner (0.0001, 128, 0.7)": {"learning_rate": 0.0001, "batch_size": 128, "dropout": 0.7},
}
TRIALS = 18


class Eval:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.cache = {}

    def __call__(self, seed, sim, job_id, hp):
        key = (seed, json.dumps(sim, sort_keys=True), job_id, json.dumps(hp, sort_keys=True))
        if key not in self.cache:
            q = {"seed": seed, "simulation": sim, "job_id": job_id, "hyperparameters": hp}
            self.p.stdin.write(json.dumps(q) + "\n")
            self.p.stdin.flush()
            self.cache[key] = json.loads(self.p.stdout.readline())
        return self.cache[key]

    def truth(self, sim, hp):
        return self(1, sim, "job_001", hp)["true_val_acc"]


def combos():
    return [{"learning_rate": l, "batch_size": b, "dropout": d}
            for l in SPACE["learning_rate"] for b in SPACE["batch_size"] for d in SPACE["dropout"]]


def pipeline(args, ws, seed, search, tmp):
    cmd = [args.sibyl, "pipeline", "run", "hyperparameter_sweep", "--workspace", ws, "--config", args.config,
           "--input", "budget_usd=500", "--input", "param_space=" + SPACE_ARG, "--input", "target_metric=val_acc",
           "--seed", str(seed)]
    if search == "grid":
        cmd += ["--input", "search=grid"]
    r = subprocess.run(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"search_bench: {' '.join(cmd)}: exit {r.returncode}: {r.stderr[-500:]}")
    with open(os.path.join(tmp, "sweep_output.json")) as f:
        out = json.load(f)
    return out["best_hyperparameters"], out["total_cost"]


def random_search(ev, sim, seed):
    rng = random.Random(seed)
    best, best_hp = None, None
    for i, hp in enumerate(rng.sample(combos(), TRIALS)):
        r = ev(seed, sim, f"job_{i + 1:03d}", hp)
        if r["status"] == "completed" and (best is None or r["val_acc"] > best):
            best, best_hp = r["val_acc"], hp
    return best_hp


def optuna_search(optuna, ev, sim, seed):
    counter = [0]

    def objective(trial):
        hp = {k: trial.suggest_categorical(k, v) for k, v in SPACE.items()}
        counter[0] += 1
        r = ev(seed, sim, f"job_{counter[0]:03d}", hp)
        return float("nan") if r["status"] != "completed" else r["val_acc"]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=TRIALS)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        return None
    b = max(done, key=lambda t: t.value)
    return {k: b.params[k] for k in SPACE}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--sibyl", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--surfaces", type=int, default=len(SURFACES), help="how many of the surfaces, in order")
    ap.add_argument("--from-surface", type=int, default=1, help="the first surface to run (1-based)")
    args = ap.parse_args()
    args.sibyl, args.eval, args.repo = (os.path.abspath(p) for p in (args.sibyl, args.eval, args.repo))
    cfg = os.path.join(args.repo, "examples/companies/vertex_foundry/config")
    args.config = os.path.join(cfg, "pipelines.yaml")
    with open(os.path.join(cfg, "workspace.yaml")) as f:
        ws_text = f.read()
    try:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        import warnings
        warnings.filterwarnings("ignore")
        have_optuna = f"Optuna {optuna.__version__}"
    except ImportError:
        optuna = None
        have_optuna = None
    ev = Eval(args.eval)
    names = ["fixed plan (18 of 27)", "random subsets (18)", "sibyl adaptive", "Optuna TPE (18)"]
    print(f"{args.seeds} seeds per surface, $500 budget, space 3x3x3 (design.md section 8)")
    if not have_optuna:
        print("Optuna TPE: not run: python3-optuna is not installed for /usr/bin/python3 "
              "(apt-get install -y --no-install-recommends python3-optuna)")
    print(f"{'surface':28} {'search':24} {'found':>7} {'mean regret':>12} {'max spent':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for sname, opt in list(SURFACES.items())[args.from_surface - 1:args.surfaces]:
            sim = {"surface": {"optimum": opt}}
            ws = os.path.join(tmp, "workspace.yaml")
            with open(ws, "w") as f:
                f.write(ws_text.replace("simulation:\n", "simulation:\n  surface: {optimum: %s}\n" % json.dumps(opt), 1))
            top = ev.truth(sim, opt)
            for name in names:
                if name.startswith("Optuna") and not optuna:
                    continue
                found, regret, spent = 0, 0.0, None
                for s in range(1, args.seeds + 1):
                    if name.startswith("fixed"):
                        best, cost = pipeline(args, ws, s, "grid", tmp)
                        spent = max(spent or 0, cost)
                    elif name.startswith("sibyl"):
                        best, cost = pipeline(args, ws, s, "adaptive", tmp)
                        spent = max(spent or 0, cost)
                    elif name.startswith("random"):
                        best = random_search(ev, sim, s)
                    else:
                        best = optuna_search(optuna, ev, sim, s)
                    if best == opt:
                        found += 1
                    regret += top - (ev.truth(sim, best) if best else 0)
                print(f"{sname:28} {name:24} {100.0 * found / args.seeds:6.0f}% {regret / args.seeds:12.3f} "
                      f"{'' if spent is None else f'${spent:.2f}':>10}", flush=True)
    if have_optuna:
        print(f"({have_optuna}; random and Optuna run 18 trials without retries)")


if __name__ == "__main__":
    main()
