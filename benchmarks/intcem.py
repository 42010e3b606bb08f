"""IntCEM against CEM: task accuracy, and intervention curves per policy (Espinosa Zarlenga et al.,
"Learning to Receive Help: Intervention-Aware Concept Embedding Models", NeurIPS 2023).

Runs the ``intcem`` preset through ``cem-train`` (the many-concept dataset, Trig and Dot × CEM and
IntCEM × 5 model seeds 42..46, paper-protocol data, 500 epochs, every core) into ``--dir`` —
finished runs there are reused, so an interrupted call resumes — then prints, from the runs'
``metrics.json``:

- per dataset and model: test task and concept accuracy, and the area under the correct
  intervention curve of each policy (mean ± std over seeds; the area is the trapezoid over the
  fraction of concepts intervened on, so a flat curve at a scores a);
- the curves themselves, per number of concepts intervened on (mean over seeds);
- the targets, each PASS or MISS with its numbers: IntCEM's task accuracy without interventions
  within 1 point of CEM's (every dataset), and on ``many`` IntCEM's learned-policy area above
  CEM's random-policy area and at least CEM's uncertainty-policy area.

    python benchmarks/intcem.py                              # train what is missing, report
    python benchmarks/intcem.py --dir outputs/intcem --no-train
    python benchmarks/intcem.py --dir outputs/intcem_30 trainer.max_epochs=30   # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from cem.metrics.interventions import curve_area
from cem.report.runs import collect

DATASETS = ("many", "trig", "dot")
MODELS = ("cem", "intcem")
POLICIES = ("random", "uncertainty", "optimal_greedy", "learned")
ACC_TARGET = 1.0  # points


def mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def cell(values: list[float], scale: float = 100.0) -> str:
    if not values:
        return "–"
    m, s = mean_std(values)
    return f"{scale * m:.2f} ± {scale * s:.2f}"


def curves(run: dict[str, Any], policy: str) -> list[float] | None:
    inter = run["_curves"].get("interventions", {})
    return inter[policy]["correct"]["task_acc"] if policy in inter else None


def gather(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["status"] == "completed" and r["dataset"] in DATASETS and r["model"] in MODELS:
            runs.setdefault((r["dataset"], r["model"]), []).append(r)
    return runs


def area(runs: list[dict[str, Any]], policy: str) -> list[float]:
    return [curve_area(c) for r in runs if (c := curves(r, policy)) is not None]


def summary(runs: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print("\nTest split, mean ± std over seeds, %. Areas: under the correct intervention curve.\n")
    head = "| dataset | model | n | task acc | concept acc | " + " | ".join(
        f"area {p}" for p in POLICIES
    )
    print(head + " |")
    print("|" + "---|" * (5 + len(POLICIES)))
    for d in DATASETS:
        for m in MODELS:
            rs = runs.get((d, m), [])
            acc = [r["test/task_acc"] for r in rs]
            conc = [r["test/concept_acc"] for r in rs]
            areas = [cell(area(rs, p)) for p in POLICIES]
            print(f"| {d} | {m} | {len(rs)} | {cell(acc)} | {cell(conc)} | {' | '.join(areas)} |")


def curve_tables(runs: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    for d in DATASETS:
        columns = [
            (m, p)
            for m in MODELS
            for p in POLICIES
            if any(curves(r, p) is not None for r in runs.get((d, m), []))
        ]
        if not columns:
            continue
        means = {}
        for m, p in columns:
            cs = [c for r in runs[(d, m)] if (c := curves(r, p)) is not None]
            means[(m, p)] = [statistics.mean(v) for v in zip(*cs, strict=True)]
        n_points = len(next(iter(means.values())))
        print(f"\n{d}: task accuracy (%) after intervening on k concepts (mean over seeds)\n")
        print("| k | " + " | ".join(f"{m} {p}" for m, p in columns) + " |")
        print("|" + "---|" * (len(columns) + 1))
        for k in range(n_points):
            print(f"| {k} | " + " | ".join(f"{100 * means[c][k]:.2f}" for c in columns) + " |")


def targets(runs: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print("\nTargets\n")
    for d in DATASETS:
        cem, intcem = runs.get((d, "cem"), []), runs.get((d, "intcem"), [])
        if not cem or not intcem:
            print(f"- {d}: no runs of both models")
            continue
        a = 100 * statistics.mean(r["test/task_acc"] for r in cem)
        b = 100 * statistics.mean(r["test/task_acc"] for r in intcem)
        ok = abs(b - a) <= ACC_TARGET
        print(
            f"- {d}: IntCEM task accuracy {b:.2f}% vs CEM {a:.2f}% ({b - a:+.2f} points; "
            f"target within {ACC_TARGET:g}): {'PASS' if ok else 'MISS'}"
        )
    cem, intcem = runs.get(("many", "cem"), []), runs.get(("many", "intcem"), [])
    learned, rand, unc = area(intcem, "learned"), area(cem, "random"), area(cem, "uncertainty")
    if learned and rand and unc:
        lm, rm, um = (100 * statistics.mean(v) for v in (learned, rand, unc))
        print(
            f"- many: area of IntCEM's learned policy {lm:.2f} vs CEM random {rm:.2f} "
            f"(target: higher): {'PASS' if lm > rm else 'MISS'}; vs CEM uncertainty {um:.2f} "
            f"(target: at least): {'PASS' if lm >= um else 'MISS'}"
        )
        seeds = {r["seed"]: curve_area(c) for r in intcem if (c := curves(r, "learned"))}
        paired = [
            (seeds[r["seed"]], curve_area(curves(r, "uncertainty")))
            for r in cem
            if r["seed"] in seeds and curves(r, "uncertainty")
        ]
        wins = sum(a >= b for a, b in paired)
        print(f"  per seed, learned >= CEM uncertainty in {wins} of {len(paired)} seeds")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dir", default="outputs/intcem", help="the sweep directory")
    p.add_argument("--no-train", action="store_true", help="only report what --dir holds")
    p.add_argument("overrides", nargs="*", help="cem-train overrides (e.g. trainer.max_epochs=30)")
    args = p.parse_args()
    if not args.no_train:
        cmd = [
            str(Path(sys.executable).parent / "cem-train"),
            "-m",
            "experiment=intcem",
            "hydra/launcher=joblib",
            f"hydra.sweep.dir={args.dir}",
            *args.overrides,
        ]
        print("$ " + " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    runs = gather(collect(args.dir))
    summary(runs)
    curve_tables(runs)
    targets(runs)


if __name__ == "__main__":
    main()
