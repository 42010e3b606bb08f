"""Sweep throughput: the paper preset through Hydra's joblib launcher on every core.

Runs ``cem-train -m experiment=paper_synthetic hydra/launcher=joblib`` (3 datasets × 9 models ×
5 seeds = 135 runs, 500 epochs) into a fresh sweep directory, then reports wall time, runs per
minute and CPU utilisation (busy share of all cores over the sweep, from /proc/stat: run it on
an otherwise idle machine), and prints the ``cem-report`` table it produced.

    python benchmarks/sweep.py                                  # the full preset
    python benchmarks/sweep.py --experiment quick               # 27 runs, 30 epochs
    python benchmarks/sweep.py --extra trainer.max_epochs=100   # any extra overrides
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot (Linux /proc/stat)."""
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--experiment", default="paper_synthetic")
    p.add_argument("--out", default="outputs/bench_sweep")
    p.add_argument("--extra", nargs="*", default=[], help="extra Hydra overrides")
    args = p.parse_args()
    out = Path(args.out) / args.experiment
    if out.exists():
        shutil.rmtree(out)  # a fresh sweep: nothing may be skipped as already completed
    bindir = Path(sys.executable).parent
    cmd = [
        str(bindir / "cem-train"),
        "-m",
        f"experiment={args.experiment}",
        "hydra/launcher=joblib",
        f"hydra.sweep.dir={out}",
        *args.extra,
    ]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    busy0, total0 = cpu_times()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    busy1, total1 = cpu_times()
    if proc.returncode:
        sys.exit(f"cem-train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    utilisation = (busy1 - busy0) / (total1 - total0)
    runs = sum(1 for _ in out.rglob("metrics.json"))
    cores = os.cpu_count() or 1
    report = subprocess.run([str(bindir / "cem-report"), str(out)], capture_output=True, text=True)
    print(report.stdout)
    print("| experiment | runs | wall | runs/min | CPU utilisation | cores |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.experiment} | {runs} | {wall / 60:.1f} min | {runs / (wall / 60):.2f} | "
        f"{100 * utilisation:.0f}% | {cores} |"
    )


if __name__ == "__main__":
    main()
