"""Reproduce the CEM paper's synthetic results (Espinosa Zarlenga et al., NeurIPS 2022, A.7).

Trains every model on the paper's exact XOR, Trig and Dot splits (paper protocol, data seed 42)
with 5 model seeds (42 + trial, as the public code) and the paper's settings (500 epochs, batch
256, Adam 0.01), then prints task and concept accuracy (mean ± std, 95% CI) beside the paper.

    python benchmarks/reproduce_paper.py                  # all 135 runs, 2 processes
    python benchmarks/reproduce_paper.py --epochs 50 --seeds 1 --models cem dnn   # a quick look

Finished runs are cached in ``--out`` (JSON lines), so an interrupted call resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

MODELS = [
    "dnn",
    "cbm_bool",
    "cbm_sigmoid",
    "cbm_logit",
    "cbm_hybrid_sigmoid",
    "cbm_hybrid_logit",
    "cbm_sequential",
    "cbm_independent",
    "cem",
]
DATASETS = ["xor", "trig", "dot"]
# Paper, Appendix A.7 (task accuracy %, mean of 5 seeds); REFERENCE §4.
PAPER_TASK = {
    "xor": {
        "dnn": 99.33,
        "cbm_bool": 51.33,
        "cbm_sigmoid": 51.42,
        "cbm_hybrid_sigmoid": 99.23,
        "cem": 99.17,
    },
    "trig": {
        "dnn": 98.47,
        "cbm_bool": 77.77,
        "cbm_sigmoid": 98.37,
        "cbm_hybrid_sigmoid": 98.67,
        "cem": 98.43,
    },
    "dot": {
        "dnn": 97.57,
        "cbm_bool": 48.00,
        "cbm_sigmoid": 48.17,
        "cbm_hybrid_sigmoid": 96.67,
        "cem": 97.13,
    },
}
CEILING = {"xor": 100.0, "trig": 81.8, "dot": 76.8}  # best accuracy of any function of c
TASK_TARGETS = ("cem", "cbm_hybrid_sigmoid", "dnn")  # within 1.5 points of the paper


def train_one(dataset: str, model: str, seed: int, epochs: int) -> dict:
    import logging

    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning.pytorch"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from cem.train import run

    cfg = {
        "dataset": {"name": dataset, "protocol": "paper"},
        "model": {"name": model},
        "trainer": {
            "max_epochs": epochs,
            "progress": "none",
            "num_threads": 1,
            "accelerator": "cpu",
        },
        "seed": seed,
    }
    m = run(cfg).metrics
    return {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "epochs": epochs,
        "task_acc": m["test/task_acc"],
        "task_auc": m["test/task_auc"],
        "concept_acc": m.get("test/concept_acc"),
        "wall_time_s": m["wall_time_s"],
    }


def ci95(values: list[float]) -> float:
    """Half-width of the Student-t 95% confidence interval of the mean."""
    if len(values) < 2:
        return float("nan")
    from scipy.stats import t

    return float(t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values)))


def fmt(values: list[float]) -> str:
    pct = [100 * v for v in values]
    sd = statistics.stdev(pct) if len(pct) > 1 else 0.0
    return f"{statistics.mean(pct):6.2f} ± {sd:4.2f} (±{ci95(pct):4.2f})"


def explain(
    dataset: str,
    model: str,
    task: float,
    cem_concept: float,
    concept: float | None,
    paper: float | None,
) -> str:
    """Why a row differs from the paper or from CEM's concept accuracy, where it does."""
    notes = []
    if model in TASK_TARGETS and paper is not None:
        notes.append("task OK" if abs(task - paper) <= 1.5 else f"task MISS ({task - paper:+.2f})")
    if model in ("cbm_bool", "cbm_sigmoid", "cbm_sequential", "cbm_independent"):
        if dataset == "xor":
            notes.append("a linear c2y cannot express XOR of two concepts")
        elif task <= CEILING[dataset] + 1.0 and model != "cbm_sigmoid":
            notes.append(f"capped by the concept-only ceiling {CEILING[dataset]}%")
        if dataset == "dot" and paper is not None and model in ("cbm_bool", "cbm_sigmoid"):
            notes.append("paper's 48% is the public code's logit>0.5 threshold bug")
        if model == "cbm_sigmoid" and dataset != "xor" and task > CEILING[dataset] + 1:
            notes.append("soft probabilities leak beyond the binary concepts")
    if model == "cem":
        notes.append("concepts OK" if concept is not None and concept >= 98.0 else "concepts MISS")
    elif concept is not None and concept < cem_concept - 2:
        if model in ("cbm_logit", "cbm_hybrid_logit", "cbm_hybrid_sigmoid"):
            notes.append("concept acc trades off against leakage through logits/free units")
        else:
            notes.append(f"concepts {concept - cem_concept:+.2f} vs CEM")
    return "; ".join(notes)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--seeds", type=int, default=5, help="trials; model seed = 42 + trial")
    p.add_argument("--datasets", nargs="+", default=DATASETS)
    p.add_argument("--models", nargs="+", default=MODELS)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="outputs/reproduce_paper/runs.jsonl")
    args = p.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done[(r["dataset"], r["model"], r["seed"], r["epochs"])] = r
    todo = [
        (d, m, 42 + s, args.epochs)
        for d in args.datasets
        for m in args.models
        for s in range(args.seeds)
        if (d, m, 42 + s, args.epochs) not in done
    ]
    t0 = time.perf_counter()
    print(f"{len(todo)} runs to train, {len(done)} cached; {args.jobs} processes", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(train_one, *job) for job in todo]
        for i, fut in enumerate(as_completed(futures), 1):
            r = fut.result()
            done[(r["dataset"], r["model"], r["seed"], r["epochs"])] = r
            with out.open("a") as f:
                f.write(json.dumps(r) + "\n")
            print(
                f"[{i}/{len(todo)}] {r['dataset']} {r['model']} seed {r['seed']}: "
                f"task {100 * r['task_acc']:.2f}  ({r['wall_time_s']:.0f}s)",
                flush=True,
            )
    print(f"\ntrained in {time.perf_counter() - t0:.0f}s\n")
    print(f"epochs={args.epochs}, seeds={args.seeds}; mean ± std (± 95% CI half-width), test split")
    print("| dataset | model | task acc % | paper | concept acc % | notes |")
    print("|---|---|---|---|---|---|")
    for d in args.datasets:
        rows = {
            m: [
                r
                for k, r in done.items()
                if k[0] == d and k[1] == m and k[3] == args.epochs and k[2] < 42 + args.seeds
            ]
            for m in args.models
        }
        cem_c = rows.get("cem") and statistics.mean(100 * r["concept_acc"] for r in rows["cem"])
        for m in args.models:
            rs = rows[m]
            if not rs:
                continue
            task = [r["task_acc"] for r in rs]
            conc = [r["concept_acc"] for r in rs if r["concept_acc"] is not None]
            paper = PAPER_TASK[d].get(m)
            mean_c = 100 * statistics.mean(conc) if conc else None
            note = explain(d, m, 100 * statistics.mean(task), cem_c or 0.0, mean_c, paper)
            print(
                f"| {d} | {m} | {fmt(task)} | {paper if paper is not None else '–'} | "
                f"{fmt(conc) if conc else '–'} | {note} |"
            )


if __name__ == "__main__":
    main()
