"""The Pareto search against the tradeoff grid, with the same number of runs, over replicates.

For each dataset and model (default: Dot and Trig, the joint Sigmoid CBM and CEM), runs (or
reuses) the ``tradeoff`` preset's alpha grid (6 runs) and the ``pareto`` preset's search
(6 trials: as many), both at the tradeoff schedule (200 epochs), and compares the hypervolume
of each on the validation split (the area of task x concept accuracy the runs dominate,
reference point (0, 0)).

One such pair is one replicate. A validation split of 300 samples moves a run's accuracy in
steps of 0.0033, and another training seed moves a hypervolume by about as much, so one pair
says little where grid and search are close: replicate ``r`` trains every run of both with
seed ``42 + r`` and seeds the search's sampler with ``r``. The target is judged on the mean
over replicates; each replicate's table is printed too, and the 95% interval of the mean
difference (paired by replicate) says which rows differ by more than the noise.

    python benchmarks/pareto.py                        # 6 replicates: outputs/bench_pareto/r0..r5
    python benchmarks/pareto.py --replicates 1 --datasets dot --models cem
    python benchmarks/pareto.py --search-extra hydra.sweeper.search.sampler=tpe --out outputs/tpe

Rerunning reuses finished runs and resumes the searches (each study is in r<k>/search/study.db);
``--fresh`` starts them all again.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cem.metrics.pareto import hypervolume
from cem.report.pareto import VAL, fronts, grids
from cem.report.runs import collect

Key = tuple[str, str]
# Student's t, 97.5% quantile, 1 to 30 degrees of freedom (a table of a known distribution;
# beyond, the normal's 1.96 is within 2%): scipy is not a dependency of ours.
# fmt: off
T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
    2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
    2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)
# fmt: on


def sweep(bindir: Path, args: list[str]) -> float:
    """Run ``cem-train -m args``; its wall time in seconds (exit on failure)."""
    cmd = [str(bindir / "cem-train"), "-m", *args]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"cem-train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("[pareto]", "  trial"))]
    print("\n".join(lines), flush=True)
    return time.perf_counter() - t0


def volumes(folder: Path, search: bool) -> tuple[dict[Key, float], dict[Key, int]]:
    """(dataset, model) -> hypervolume of the completed runs in ``folder`` on the validation
    split (a search's front: its trials), and -> how many runs completed."""
    rows = collect(folder)
    by = fronts(rows) if search else grids(rows)
    runs: dict[Key, int] = {}
    for r in rows:
        if r.get("status") == "completed":
            key = (str(r["dataset"]), str(r["model"]))
            runs[key] = runs.get(key, 0) + 1
    hv = {k: hypervolume([[r[v] for v in VAL] for r in rs]) for k, rs in by.items() if rs}
    return hv, runs


def _mean_sd(xs: list[float]) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.fmean(xs):.4f} ± {sd:.4f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--datasets", default="dot,trig")
    p.add_argument("--models", default="cbm_sigmoid,cem")
    p.add_argument("--replicates", type=int, default=6, help="grid and search pairs (default 6)")
    p.add_argument("--out", default="outputs/bench_pareto")
    p.add_argument("--extra", nargs="*", default=[], help="extra overrides for both sweeps")
    p.add_argument(
        "--search-extra",
        nargs="*",
        default=[],
        help="extra overrides for the search, e.g. hydra.sweeper.search.sampler=tpe",
    )
    p.add_argument("--fresh", action="store_true", help="remove earlier results first")
    args = p.parse_args()
    if args.replicates < 1:
        sys.exit("--replicates must be at least 1")
    out = Path(args.out)
    if args.fresh and out.exists():
        shutil.rmtree(out)
    bindir = Path(sys.executable).parent
    common = [f"dataset={args.datasets}", f"model={args.models}", "hydra/launcher=joblib"]
    grid_hv: dict[Key, list[float]] = {}
    search_hv: dict[Key, list[float]] = {}
    walls = []
    for r in range(args.replicates):
        folder = out / f"r{r}"
        both = [*common, f"seed={42 + r}", *args.extra]
        print(f"\n## replicate {r}: training seed {42 + r}, search seed {r}", flush=True)
        t_grid = sweep(bindir, ["experiment=tradeoff", *both, f"hydra.sweep.dir={folder / 'grid'}"])
        t_search = sweep(
            bindir,
            [
                "experiment=pareto",
                *both,
                f"hydra.sweeper.search.seed={r}",
                *args.search_extra,
                f"hydra.sweep.dir={folder / 'search'}",
            ],
        )
        walls.append((t_grid, t_search))
        g, g_runs = volumes(folder / "grid", search=False)
        s, s_runs = volumes(folder / "search", search=True)
        print("\n| dataset | model | grid runs | grid | search trials | search | search >= grid |")
        print("|---|---|---|---|---|---|---|")
        for key in sorted(set(g) | set(s)):
            hg, hs = g.get(key, float("nan")), s.get(key, float("nan"))
            grid_hv.setdefault(key, []).append(hg)
            search_hv.setdefault(key, []).append(hs)
            print(
                f"| {key[0]} | {key[1]} | {g_runs.get(key, 0)} | {hg:.4f} | "
                f"{s_runs.get(key, 0)} | {hs:.4f} | {'yes' if hs >= hg else 'NO'} |"
            )
    n = args.replicates
    print(f"\n## over {n} replicate{'s' if n > 1 else ''}: validation hypervolume, mean ± sd")
    print(
        "\n| dataset | model | grid | search | search - grid | 95% interval of the difference "
        "| replicates search >= grid |"
    )
    print("|---|---|---|---|---|---|---|")
    met, worse = True, []
    for key in sorted(set(grid_hv) | set(search_hv)):
        g, s = grid_hv.get(key, []), search_hv.get(key, [])
        diffs = [b - a for a, b in zip(g, s, strict=False)]
        diff = statistics.fmean(diffs) if diffs else float("nan")
        low, high = _interval(diffs)
        met &= diff >= 0
        if high < 0:
            worse.append(f"{key[0]} {key[1]}")
        print(
            f"| {key[0]} | {key[1]} | {_mean_sd(g)} | {_mean_sd(s)} | {diff:+.4f} | "
            f"[{low:+.4f}, {high:+.4f}] | {sum(d >= 0 for d in diffs)} of {len(diffs)} |"
        )
    t_grid = sum(w[0] for w in walls) / 60
    t_search = sum(w[1] for w in walls) / 60
    print(
        f"\nvalidation split; reference point (0, 0); the interval: paired by replicate, "
        f"Student's t; wall time in all: grid {t_grid:.1f} min, search {t_search:.1f} min "
        "(both include reused runs)"
    )
    print(
        "target (mean search hypervolume >= mean grid on every row):", "met" if met else "NOT met"
    )
    print(
        "search below the grid beyond the noise (the whole interval below 0):",
        ", ".join(worse) or "on no row",
    )


def _interval(diffs: list[float]) -> tuple[float, float]:
    """The 95% confidence interval of the mean of ``diffs`` (Student's t; NaN with fewer than
    two)."""
    if len(diffs) < 2:
        return float("nan"), float("nan")
    df = len(diffs) - 1
    t = T975[df - 1] if df <= len(T975) else statistics.NormalDist().inv_cdf(0.975)
    half = t * statistics.stdev(diffs) / len(diffs) ** 0.5
    mean = statistics.fmean(diffs)
    return mean - half, mean + half


if __name__ == "__main__":
    main()
