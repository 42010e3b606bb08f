"""Wall and CPU times of the representation metrics on a paper-sized test set (600 points).

CAS (50 k-medoids clusterings per concept, Espinosa Zarlenga et al., NeurIPS 2022) for k = 2, 3
concepts with scalar (m = 1) and 16-/128-dim representations, with our clustering (BUILD +
alternate, the default), with PAM swaps added (``clustering="pam"``, k = 3) and with the public
code's (``clustering="public"``, k = 3); OIS (the oracle's probes not cached) and NIS
(Espinosa Zarlenga et al., AAAI 2023) for k = 3 with the same representation sizes. The
representations are synthetic, shaped like a trained model's: a noisy sigmoid probability per
concept (m = 1), or a noisy mixture of two per-concept prototype embeddings (m > 1, as a
CEM's ĉ_i). The best of ``--repeats`` runs is reported (wall and process CPU seconds; other jobs
on the machine inflate wall times).

    python benchmarks/metrics_speed.py
    python benchmarks/metrics_speed.py --n 600 --repeats 3
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from cem.metrics import impurity
from cem.metrics.alignment import concept_alignment_score
from cem.metrics.impurity import niche_impurity_score, oracle_impurity_score


def representations(c: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """(n, k, m) per-concept representations of the binary concepts ``c`` (n, k)."""
    n, k = c.shape
    if m == 1:
        logit = 3.0 * (2 * c - 1) + 1.5 * rng.normal(size=(n, k))
        return (1.0 / (1.0 + np.exp(-logit)))[:, :, None]
    pos, neg = rng.normal(size=(2, k, m))
    mix = np.where(c[:, :, None] == 1, pos[None], neg[None])
    return mix + 0.7 * rng.normal(size=(n, k, m))


def uncached_ois(reps: np.ndarray, c: np.ndarray) -> float:
    """OIS as the first model of a sweep pays it: the oracle's probes trained too."""
    impurity._oracle_matrix.cache_clear()
    return oracle_impurity_score(reps, c)


def timed(fn: Callable[[], float], repeats: int) -> tuple[float, float, float]:
    """Best wall and CPU seconds over ``repeats`` calls, and the value of the last call."""
    best_wall = best_cpu = float("inf")
    value = float("nan")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        value = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="test points (paper: 600)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    n = args.n
    c3 = rng.integers(0, 2, size=(n, 3))
    reps = {m: representations(c3, m, rng) for m in (1, 16, 128)}

    cases: list[tuple[str, int, str, Callable[[], float]]] = []
    for k in (2, 3):
        for m in (1, 16, 128):
            cases.append(
                (
                    "CAS",
                    k,
                    f"{k} x ({n}, {m})",
                    lambda k=k, m=m: concept_alignment_score(reps[m][:, :k], c3[:, :k])["cas"],
                )
            )
    for m in (1, 16, 128):
        cases.append(
            (
                "CAS pam",
                3,
                f"3 x ({n}, {m})",
                lambda m=m: concept_alignment_score(reps[m], c3, clustering="pam")["cas"],
            )
        )
    for m in (1, 16, 128):
        cases.append(
            (
                "CAS public",
                3,
                f"3 x ({n}, {m})",
                lambda m=m: concept_alignment_score(reps[m], c3, clustering="public")["cas"],
            )
        )
    for m in (1, 16, 128):
        cases.append(("OIS", 3, f"3 x ({n}, {m})", lambda m=m: uncached_ois(reps[m], c3)))
    for m in (1, 16, 128):
        # Niches of whole concept representations (groups), as for a CEM's (n, k, m) bottleneck.
        cases.append(("NIS", 3, f"({n}, 3, {m})", lambda m=m: niche_impurity_score(reps[m], c3)))

    print(f"n = {n} points, best of {args.repeats} run(s)")
    print("| metric | k | input | wall s | cpu s | value |")
    print("|---|---|---|---|---|---|")
    for name, k, shape, fn in cases:
        wall, cpu, value = timed(fn, args.repeats)
        print(f"| {name} | {k} | {shape} | {wall:.2f} | {cpu:.2f} | {value:.3f} |", flush=True)


if __name__ == "__main__":
    main()
