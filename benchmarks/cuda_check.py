"""The CUDA path of training and evaluation: every model trained on the GPU beside the CPU.

For each dataset × model, ``run()`` trains with ``trainer.accelerator=gpu`` and with ``cpu``
(same config, same seed) and measures everything the default evaluation measures (intervention
curves, CAS, OIS/NIS). It prints one row per pair — the GPU memory the GPU run allocated (the
CPU run must allocate none), accuracies on both devices, training and evaluation times — and
exits 1 when a GPU run fails, allocates nothing on the GPU, yields a non-finite metric, or lands
more than ``--tolerance`` away from the CPU run in task or concept accuracy (float order
differs between devices, so the two runs are close, not equal).

    python benchmarks/cuda_check.py                       # 3 datasets × 9 models, 30 epochs
    python benchmarks/cuda_check.py --datasets trig --models cem cbm_sigmoid --epochs 100

Needs a CUDA device; without one it says so and exits 2.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import torch

from cem.models.registry import VARIANTS
from cem.train import run


def one(dataset: str, model: str, accelerator: str, epochs: int) -> dict[str, Any]:
    # Lightning hands the module back on the CPU after fit, so the proof that a run used the GPU
    # is the memory it allocated there, above what earlier runs left allocated.
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = run(
        {
            "dataset": {"name": dataset},
            "model": {"name": model},
            "trainer": {"max_epochs": epochs, "accelerator": accelerator, "progress": "none"},
            "seed": 0,
        }
    )
    m = result.metrics
    return {
        "cuda_mb": (torch.cuda.max_memory_allocated() - base) / 2**20,
        "task": m["test/task_acc"],
        "concept": m.get("test/concept_acc", math.nan),
        "train_s": m["train_time_s"],
        "eval_s": m["eval_time_s"],
        "wall_s": time.perf_counter() - t0,
        "finite": all(
            math.isfinite(v) for k, v in m.items() if isinstance(v, float) and k.startswith("test/")
        ),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["xor", "trig", "dot"])
    p.add_argument("--models", nargs="+", default=list(VARIANTS))
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--tolerance", type=float, default=0.03, help="accuracy gap GPU vs CPU")
    args = p.parse_args()
    if not torch.cuda.is_available():
        print("cuda_check: no CUDA device here; nothing to check", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, {args.epochs} epochs")
    print(
        "| dataset | model | GPU MB | task cpu | task gpu | concept cpu | concept gpu "
        "| train s cpu | train s gpu | eval s gpu | ok |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for dataset in args.datasets:
        for model in args.models:
            try:
                cpu = one(dataset, model, "cpu", args.epochs)
                gpu = one(dataset, model, "gpu", args.epochs)
            except Exception as e:  # noqa: BLE001 - a failed pair is a row, not the end
                bad += 1
                print(f"| {dataset} | {model} | – | FAILED: {type(e).__name__}: {e} |")
                continue
            gaps = [abs(gpu[k] - cpu[k]) for k in ("task", "concept") if not math.isnan(cpu[k])]
            used_gpu = gpu["cuda_mb"] > 0 and cpu["cuda_mb"] == 0
            ok = used_gpu and gpu["finite"] and max(gaps) <= args.tolerance
            bad += not ok
            print(
                f"| {dataset} | {model} | {gpu['cuda_mb']:.0f} | {cpu['task']:.4f} "
                f"| {gpu['task']:.4f} | {cpu['concept']:.4f} | {gpu['concept']:.4f} "
                f"| {cpu['train_s']:.1f} | {gpu['train_s']:.1f} | {gpu['eval_s']:.1f} "
                f"| {'yes' if ok else 'NO'} |",
                flush=True,
            )
    print(f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
