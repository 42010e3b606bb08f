"""Training speed: cem-bench's Lightning path against a bare PyTorch loop (the compute floor).

For each dataset × model, one full paper-settings run (default 500 epochs, batch 256, paper data)
through ``cem.train.run`` is timed against a loop written here with plain PyTorch: the same
network, the same data order (the same seeded permutations), batch size, loss and step count.
Each measurement runs in a fresh subprocess, so peak RSS is its own. The host's load moves wall
times on these shared machines by ±30% from one run to the next, so a repeat runs the two of a
pair *on the same core at the same time* (the OS interleaves them every few milliseconds, so both
see the same machine) and times each by its own CPU time (``time.process_time``; both are single
threaded). The ratio is the median over repeats of each repeat's ours/bare; ms/step is the
median CPU time per optimisation step of each side. Repeats run side by side, one pair per core.

    python benchmarks/speed.py                       # full table (~45 min on 2 cores)
    python benchmarks/speed.py --epochs 50 --repeats 1 --datasets xor --models cem cbm_sigmoid
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

from cem.models.registry import model_names

DATASETS = ["xor", "trig", "dot"]
CLOCK = time.process_time  # CPU time of this (single-threaded) process


def bare(dataset: str, model: str, epochs: int, seed: int) -> tuple[float, int]:
    """Plain PyTorch training with the same network, data order and losses; returns (s, steps).

    The loss of a step is the model's own objective (``Objective.training_loss``: the same
    computation whatever drives it), so every model of the registry is timed, with no code here
    per model; what differs from ``ours`` is only the loop around it.
    """
    import torch

    from cem.data.datamodule import ConceptDataModule
    from cem.models.registry import build_model, build_objective, resolve

    torch.manual_seed(seed)
    dm = ConceptDataModule.from_config(name=dataset, protocol="paper", batch_size=256, seed=seed)
    cfg = resolve({"name": model})
    net = build_model(cfg, dm.n_features, dm.n_concepts, 1)
    objective = build_objective(cfg, dm.n_concepts)
    x_all, c_all, y_all = dm.tensors["train"]
    gen = torch.Generator().manual_seed(seed)
    steps = 0
    t0 = CLOCK()
    for stage in objective.stages:
        params = objective.trainable(net, stage)
        trained = {id(p) for p in params}
        for p in net.parameters():
            p.requires_grad_(id(p) in trained)
        opt = torch.optim.Adam(params, lr=0.01)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=10)
        for _ in range(epochs):
            order = torch.randperm(len(x_all), generator=gen)
            xs, cs, ys = x_all[order], c_all[order], y_all[order]
            total = torch.zeros(())
            n_batches = 0
            for s in range(0, len(xs), 256):
                x, c, y = xs[s : s + 256], cs[s : s + 256], ys[s : s + 256]
                loss = objective.training_loss(net, x, c, y, stage)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach()
                n_batches += 1
                steps += 1
            sched.step(float(total / n_batches))
        objective.on_train_end(net, (x_all, c_all, y_all))
    return CLOCK() - t0, steps


def ours(dataset: str, model: str, epochs: int, seed: int) -> tuple[float, int]:
    """The full ``cem.train.run`` (Trainer set-up, validation every 30 epochs, final
    whole-split accuracy and AUC), without the evaluation extras."""
    import hydra.utils  # noqa: F401  (imports are not part of the run: bare() does its before t0)

    from cem.train import run

    t0 = CLOCK()
    cfg = {
        "dataset": {"name": dataset, "protocol": "paper"},
        "model": {"name": model},
        "trainer": {"max_epochs": epochs, "progress": "none", "accelerator": "cpu"},
        # Training speed: the post-training evaluation (curves, CAS, OIS/NIS) is left out.
        "evaluation": {"interventions": False, "alignment": False, "impurity": False},
        "seed": seed,
    }
    result = run(cfg)
    steps = result.metrics["epochs"] * 9  # 2100 / 256 -> 9 batches an epoch
    return CLOCK() - t0, steps


def worker(args: argparse.Namespace) -> None:
    import logging

    import torch

    warnings.filterwarnings("ignore")
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    torch.set_num_threads(args.threads)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if args.core is not None and args.core in cores:
        os.sched_setaffinity(0, {args.core})
    fn = bare if args.impl == "bare" else ours
    seconds, steps = fn(args.datasets[0], args.models[0], args.epochs, args.seed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms_per_step": seconds / steps * 1e3, "peak_mb": peak_mb}))


def measure_pair(
    ds: str, model: str, args: argparse.Namespace, repeat: int, core: int
) -> dict[str, subprocess.Popen[str]]:
    """Start one repeat: bare and ours at the same time, both pinned to ``core``."""
    return {
        impl: subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--impl",
                impl,
                "--core",
                str(core),
                "--seed",
                str(repeat),
                "--epochs",
                str(args.epochs),
                "--threads",
                str(args.threads),
                "--datasets",
                ds,
                "--models",
                model,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for impl in ("bare", "ours")
    }


def measure(ds: str, model: str, args: argparse.Namespace) -> list[dict]:
    """All repeats of one row, one pair per core at a time."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    results = []
    for wave in range(0, args.repeats, len(cores)):
        repeats = range(wave, min(wave + len(cores), args.repeats))
        running = [measure_pair(ds, model, args, r, cores[i]) for i, r in enumerate(repeats)]
        for procs in running:
            results.append(
                {
                    impl: json.loads(p.communicate()[0].strip().splitlines()[-1])
                    for impl, p in procs.items()
                }
            )
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument("--datasets", nargs="+", default=DATASETS)
    p.add_argument("--models", nargs="+", default=model_names(), help="default: every model")
    p.add_argument("--impl", choices=["bare", "ours"], help=argparse.SUPPRESS)
    p.add_argument("--core", type=int, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.impl:
        return worker(args)
    print(
        f"epochs={args.epochs} batch=256 paper data, median of {args.repeats}, "
        f"{args.threads} torch thread(s), CPU; ms/step = CPU time per optimisation step, each pair "
        "sharing one core\n"
    )
    print("| dataset | model | bare ms/step | ours ms/step | ratio | bare peak MB | ours peak MB |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for ds in args.datasets:
        for model in args.models:
            runs = measure(ds, model, args)
            res = {
                impl: {
                    "ms_per_step": statistics.median(x[impl]["ms_per_step"] for x in runs),
                    "peak_mb": max(x[impl]["peak_mb"] for x in runs),
                }
                for impl in ("bare", "ours")
            }
            ratio = statistics.median(
                x["ours"]["ms_per_step"] / x["bare"]["ms_per_step"] for x in runs
            )
            worst = max(worst, ratio)
            print(
                f"| {ds} | {model} | {res['bare']['ms_per_step']:.3f} | "
                f"{res['ours']['ms_per_step']:.3f} | {ratio:.2f}x | {res['bare']['peak_mb']:.0f} | "
                f"{res['ours']['peak_mb']:.0f} |",
                flush=True,
            )
    print(f"\nworst ratio {worst:.2f}x (target <= 1.12x): {'PASS' if worst <= 1.12 else 'FAIL'}")


if __name__ == "__main__":
    main()
