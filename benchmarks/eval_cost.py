"""What evaluation costs next to training, per preset: the target is that every preset's summed
evaluation time (intervention curves, CAS, OIS, NIS, measured after training) stays within 25% of
its summed training time.

For each preset it runs ``cem-train -m experiment=PRESET hydra/launcher=joblib`` into
``--dir/PRESET`` (or reads a finished sweep with ``--use PRESET=DIR``), then sums the
``train_time_s`` and ``eval_time_s`` that every run records in its ``metrics.json`` and prints
one table row per preset, plus the sweep's wall time when it ran here. Both times are wall
seconds of the same process, so load from other jobs inflates both alike; the ratio is what
to read.

    python benchmarks/eval_cost.py                                # quick, tradeoff, paper
    python benchmarks/eval_cost.py --presets quick                # the README's main job
    python benchmarks/eval_cost.py --use paper_synthetic=outputs/paper tradeoff=outputs/tradeoff
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGET = 0.25
PRESETS = ("quick", "tradeoff", "paper_synthetic")


def times(sweep: Path) -> tuple[int, float, float, dict[str, tuple[float, float]]]:
    """(runs, summed training s, summed evaluation s, per model (train, eval)) of a sweep."""
    n, train, evaluation = 0, 0.0, 0.0
    per_model: dict[str, tuple[float, float]] = {}
    for path in sweep.rglob("metrics.json"):
        record = json.loads(path.read_text())
        if record.get("status") != "completed":
            continue
        m = record["metrics"]
        n += 1
        train += m["train_time_s"]
        evaluation += m["eval_time_s"]
        t, e = per_model.get(record["model"], (0.0, 0.0))
        per_model[record["model"]] = (t + m["train_time_s"], e + m["eval_time_s"])
    return n, train, evaluation, per_model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--presets", nargs="*", default=list(PRESETS), choices=PRESETS)
    p.add_argument("--dir", default="outputs/eval_cost", help="where fresh sweeps go")
    p.add_argument("--use", nargs="*", default=[], help="PRESET=DIR: read a finished sweep")
    p.add_argument("--by-model", action="store_true", help="also print a row per model")
    args = p.parse_args()
    use = dict(item.split("=", 1) for item in args.use)
    bindir = Path(sys.executable).parent
    rows = []
    for preset in args.presets:
        wall = None
        if preset in use:
            sweep = Path(use[preset])
        else:
            sweep = Path(args.dir) / preset
            if sweep.exists():
                shutil.rmtree(sweep)  # a fresh sweep: nothing skipped as already completed
            cmd = [
                str(bindir / "cem-train"),
                "-m",
                f"experiment={preset}",
                "hydra/launcher=joblib",
                f"hydra.sweep.dir={sweep}",
            ]
            print("$ " + " ".join(cmd), flush=True)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode:
                sys.exit(f"cem-train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        rows.append((preset, wall, *times(sweep)))
    where = f"{platform.node()}, {os.cpu_count()} cores"
    print(f"\nmeasured on {where}; target: evaluation <= {TARGET:.0%} of training\n")
    print("| preset | runs | training s (sum) | evaluation s (sum) | eval / train | wall |")
    print("|---|---|---|---|---|---|")
    for preset, wall, n, train, evaluation, per_model in rows:
        ratio = evaluation / train if train else float("nan")
        flag = "" if ratio <= TARGET else " (over)"
        shown = "–" if wall is None else f"{wall:.0f} s"
        print(f"| {preset} | {n} | {train:.0f} | {evaluation:.0f} | {ratio:.1%}{flag} | {shown} |")
        if args.by_model:
            for model, (t, e) in sorted(per_model.items()):
                print(f"| {preset}: {model} | | {t:.0f} | {e:.0f} | {e / t:.1%} | |")


if __name__ == "__main__":
    main()
