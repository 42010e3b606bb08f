"""What the sweep machinery costs (run locks, the manifest, progress, the summary): the same
preset swept by this tree and by an earlier commit, in interleaved pairs.

Each pair runs the earlier code (``--old``, a git ref, extracted with ``git archive``: nothing
in the repository changes) and this tree on the same preset into fresh folders, one after the
other, and records each sweep's wall time and CPU time (user + system of the sweep's process
and every worker it waited for). CPU time hardly moves with the load other programs put on the
machine, wall time does: on a shared machine, read the CPU ratio. The ratios are new / old,
median over the pairs.

    python benchmarks/sweep_overhead.py                             # quick preset, 3 pairs
    python benchmarks/sweep_overhead.py --experiment paper_synthetic --pairs 1 --launcher joblib
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN = "from cem.cli import train_main; raise SystemExit(train_main())"


def extract(ref: str, into: Path) -> None:
    """The tree of ``ref`` as plain files in ``into`` (no checkout, no worktree)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def timed_sweep(src: Path, args: list[str], out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one sweep run with the code in ``src``."""
    if out.exists():
        shutil.rmtree(out)
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-c", MAIN, "-m", *args, f"hydra.sweep.dir={out}"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=src, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"sweep failed ({proc.returncode}) with {src}:\n{proc.stderr.read()[-3000:]}")
    runs = len(list(out.rglob("metrics.json")))
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  {src.name:>5}: {runs} runs, wall {wall:7.1f} s, CPU {cpu:7.1f} s", flush=True)
    return wall, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--old", default="main", help="the git ref to compare with")
    p.add_argument("--experiment", default="quick")
    p.add_argument("--launcher", default="basic", help="basic: one process, the cleanest CPU time")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--out", default="outputs/bench_overhead")
    p.add_argument("--extra", nargs="*", default=[], help="extra overrides for both")
    args = p.parse_args()
    sweep = [f"experiment={args.experiment}", f"hydra/launcher={args.launcher}", *args.extra]
    out = Path(args.out).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        extract(args.old, old)
        new = Path(tmp) / "new"
        new.symlink_to(ROOT)
        ratios_wall, ratios_cpu = [], []
        for i in range(args.pairs):
            print(f"pair {i + 1}/{args.pairs}", flush=True)
            order = [old, new] if i % 2 == 0 else [new, old]  # alternate who goes first
            got = {src: timed_sweep(src, sweep, out / f"{src.name}_{i}") for src in order}
            ratios_wall.append(got[new][0] / got[old][0])
            ratios_cpu.append(got[new][1] / got[old][1])
    print(
        f"\n{args.experiment} through hydra/launcher={args.launcher}, {args.pairs} pairs "
        f"(this tree vs {args.old}): wall ratio median {statistics.median(ratios_wall):.3f} "
        f"(each: {', '.join(f'{r:.3f}' for r in ratios_wall)}); CPU ratio median "
        f"{statistics.median(ratios_cpu):.3f} (each: {', '.join(f'{r:.3f}' for r in ratios_cpu)})"
    )


if __name__ == "__main__":
    main()
