"""Early stopping inside a budget (issue 16), at the same $500 on the
simulated surface with learning curves (simulation.epochs: 10), over seeds:
success rate (the reported best is the true optimum (0.001, 64, 0.3)), mean
regret, mean money spent, money per found optimum and trials run, for

  sibyl                  the example pipeline (adaptive search), early stopping off
  sibyl + asha           the same with --input early_stopping=true (asha, rungs 3 and 6)
  Optuna + Median        TPESampler(seed) with MedianPruner(n_startup_trials=3, n_warmup_steps=2)
  Optuna + SHA           TPESampler(seed) with SuccessiveHalvingPruner(min_resource=3, reduction_factor=3)

The Optuna studies see the same curves as sibyl's runs (search_eval: the same
draws for the same seed and job id; each trial reports val_acc at every
epoch it reaches). They run trials while the money spent plus the next
trial's estimate fits the $500; a pruned trial costs its epochs' share of
what the full run costs (of what it ran before failing, for a trial that
would have failed), a failed one what it ran. Not a test: it prints figures
(bench/README.md keeps a copy). Run it through run-early-stopping.sh."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from search_bench import SPACE, SPACE_ARG, Eval  # noqa: E402

BEST = {"learning_rate": 0.001, "batch_size": 64, "dropout": 0.3}
EPOCHS = 10
BUDGET = 500.0
ESTIMATE = {32: 25.2 * 1.15, 64: 25.2, 128: 25.2 * 0.85}


def sibyl_run(args, seed, on, workdir):
    cmd = [args.sibyl, "pipeline", "run", "hyperparameter_sweep", "--workspace", os.path.join(workdir, "workspace.yaml"),
           "--config", os.path.join(args.repo, "examples/companies/vertex_foundry/config/pipelines.yaml"),
           "--input", "budget_usd=500", "--input", "param_space=" + SPACE_ARG, "--input", "target_metric=val_acc",
           "--input", "early_stopping=" + ("true" if on else "false"), "--seed", str(seed)]
    r = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sibyl failed (seed {seed}): {r.stderr[-400:]}")
    res = json.load(open(os.path.join(workdir, "sweep_output.json")))
    with open(os.path.join(workdir, "sweep_output_stream.jsonl")) as f:
        trials = sum(1 for line in f if '"job_progress"' not in line)
    return res["best_hyperparameters"], res["total_cost"], trials


def optuna_run(ev, seed, pruner_name):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2) if pruner_name == "median"
              else optuna.pruners.SuccessiveHalvingPruner(min_resource=3, reduction_factor=3))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    dist = {k: optuna.distributions.CategoricalDistribution(v) for k, v in SPACE.items()}
    spent, n, best = 0.0, 0, None
    sim = {"seed": 7, "epochs": EPOCHS}
    while True:
        t = study.ask(dist)
        hp = {k: t.params[k] for k in SPACE}
        if spent + ESTIMATE[hp["batch_size"]] > BUDGET:
            study.tell(t, state=optuna.trial.TrialState.FAIL)
            break
        n += 1
        r = ev(seed, sim, f"job_{n:03d}", hp)
        curve = r["curve"]
        pruned_at = None
        for k, v in enumerate(curve[:-1] if r["status"] == "completed" else curve):
            t.report(v, k + 1)
            if t.should_prune():
                pruned_at = k + 1
                break
        if pruned_at is not None:
            share = pruned_at / (EPOCHS if r["status"] == "completed" else max(len(curve), 1))
            spent += round(r["cost_usd"] * min(share, 1.0), 2)
            study.tell(t, state=optuna.trial.TrialState.PRUNED)
        elif r["status"] == "completed":
            spent += r["cost_usd"]
            study.tell(t, r["val_acc"])
            if best is None or r["val_acc"] > best[0]:
                best = (r["val_acc"], hp)
        else:
            spent += r["cost_usd"]
            study.tell(t, state=optuna.trial.TrialState.FAIL)
    return (best[1] if best else None), spent, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--sibyl", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--repo", required=True)
    args = ap.parse_args()
    ev = Eval(args.eval)
    truth = lambda hp: ev(1, {"seed": 7, "surface": {"noise": 0}}, "job_001", hp)["true_val_acc"]  # noqa: E731
    best_true = truth(BEST)
    try:
        import optuna  # noqa: F401
        peers = [("Optuna + Median", "median"), ("Optuna + SHA", "sha")]
    except ImportError:
        print("bench/search: Optuna is not installed (apt-get install python3-optuna): its rows are left out")
        peers = []
    rows = {name: {"found": 0, "regret": 0.0, "money": 0.0, "trials": 0}
            for name in ["sibyl", "sibyl + asha"] + [p[0] for p in peers]}
    with tempfile.TemporaryDirectory() as d:
        ws = open(os.path.join(args.repo, "examples/companies/vertex_foundry/config/workspace.yaml")).read()
        ws = ws.replace("simulation:\n", f"simulation:\n  epochs: {EPOCHS}\n", 1)
        open(os.path.join(d, "workspace.yaml"), "w").write(ws)
        for seed in range(1, args.seeds + 1):
            results = [("sibyl", sibyl_run(args, seed, False, d)), ("sibyl + asha", sibyl_run(args, seed, True, d))]
            results += [(name, optuna_run(ev, seed, p)) for name, p in peers]
            for name, (hp, money, trials) in results:
                row = rows[name]
                row["found"] += hp == BEST
                row["regret"] += best_true - (truth(hp) if hp else 10.0)
                row["money"] += money
                row["trials"] += trials
    n = args.seeds
    print(f"early stopping at ${BUDGET:.0f}, headline surface with learning curves ({EPOCHS} epochs), {n} seeds")
    print(f"{'search':<18} {'success':>8} {'regret':>8} {'money':>9} {'$/found':>9} {'trials':>7}")
    for name, r in rows.items():
        per_found = f"{r['money'] / r['found']:.0f}" if r["found"] else "-"
        print(f"{name:<18} {100 * r['found'] / n:>7.0f}% {r['regret'] / n:>8.3f} {r['money'] / n:>9.2f} "
              f"{per_found:>9} {r['trials'] / n:>7.1f}")


if __name__ == "__main__":
    main()
