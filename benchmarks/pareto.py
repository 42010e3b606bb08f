"""The Pareto search against the tradeoff grid, with the same number of runs.

For each dataset and model (default: Dot and Trig, the joint Sigmoid CBM and CEM), runs (or
reuses) the ``tradeoff`` preset's alpha grid (6 runs) and the ``pareto`` preset's search
(6 trials: as many), both at the tradeoff schedule (200 epochs), then prints the hypervolume of
each on the validation split (the area of task x concept accuracy the runs dominate, reference
point (0, 0)) and whether the search's front reaches the grid's.

    python benchmarks/pareto.py                      # outputs/bench_pareto/{grid,search}
    python benchmarks/pareto.py --datasets dot --models cem --extra hydra.launcher.n_jobs=2
    python benchmarks/pareto.py --out outputs/seed1 --search-extra hydra.sweeper.search.seed=1

Rerunning reuses finished runs and resumes the search (its study is in search/study.db);
``--fresh`` starts both again.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cem.metrics.pareto import hypervolume
from cem.report.pareto import VAL, fronts, grids
from cem.report.runs import collect


def sweep(bindir: Path, args: list[str]) -> float:
    cmd = [str(bindir / "cem-train"), "-m", *args]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"cem-train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    print("\n".join(line for line in proc.stdout.splitlines() if "[HYDRA]" not in line)[-3000:])
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--datasets", default="dot,trig")
    p.add_argument("--models", default="cbm_sigmoid,cem")
    p.add_argument("--out", default="outputs/bench_pareto")
    p.add_argument("--extra", nargs="*", default=[], help="extra overrides for both sweeps")
    p.add_argument(
        "--search-extra",
        nargs="*",
        default=[],
        help="extra overrides for the search, e.g. hydra.sweeper.search.seed=1",
    )
    p.add_argument("--fresh", action="store_true", help="remove earlier results first")
    args = p.parse_args()
    out = Path(args.out)
    if args.fresh and out.exists():
        shutil.rmtree(out)
    bindir = Path(sys.executable).parent
    common = [
        f"dataset={args.datasets}",
        f"model={args.models}",
        "hydra/launcher=joblib",
        *args.extra,
    ]
    t_grid = sweep(bindir, ["experiment=tradeoff", *common, f"hydra.sweep.dir={out / 'grid'}"])
    search_args = ["experiment=pareto", *common, *args.search_extra]
    t_search = sweep(bindir, [*search_args, f"hydra.sweep.dir={out / 'search'}"])
    grid = grids(collect(out / "grid"))
    searched = collect(out / "search")
    search = fronts(searched)
    trials: dict[tuple[str, str], int] = {}
    for r in searched:
        if r.get("status") == "completed":
            key = (str(r["dataset"]), str(r["model"]))
            trials[key] = trials.get(key, 0) + 1
    print(
        "\n| dataset | model | grid runs | grid hypervolume | search trials | "
        "search front | search hypervolume | search >= grid |"
    )
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for key in sorted(set(grid) | set(search)):
        g = grid.get(key, [])
        s = search.get(key, [])
        hv_g = hypervolume([[r[k] for k in VAL] for r in g]) if g else float("nan")
        hv_s = hypervolume([[r[k] for k in VAL] for r in s]) if s else float("nan")
        good = hv_s >= hv_g
        ok &= good
        print(
            f"| {key[0]} | {key[1]} | {len(g)} | {hv_g:.4f} | {trials.get(key, 0)} | "
            f"{len(s)} | {hv_s:.4f} | {'yes' if good else 'NO'} |"
        )
    print(
        f"\nvalidation split; hypervolume reference point (0, 0); wall time: grid "
        f"{t_grid / 60:.1f} min, search {t_search / 60:.1f} min (both include reused runs)"
    )
    print("target (search front >= grid on every row):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
