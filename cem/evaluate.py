"""Evaluation beyond accuracy for one trained model: intervention curves, concept alignment (CAS)
and impurity (OIS, NIS), on one split. Called by ``cem.train.run`` after training.

Representations (REFERENCE §3): CEM, each concept's m-dim mixed embedding; scalar CBMs, the
bottleneck value of each concept; Hybrid CBMs and the no-concept DNN, their free units split
into k chunks. NIS reads the whole bottleneck (the k representations side by side).

``cas_clustering: [public]`` adds ``{split}/cas_public``, CAS as the authors' code computes it
(``mateoespinosa/cem``, ``cem/metrics/cas.py``), to compare with published numbers: their
clustering (:func:`cem.metrics.kmedoids.kmedoids_public`) on what their models return as the
bottleneck, :func:`public_reps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from cem.metrics.interventions import POLICIES, concept_groups, intervention_curve
from cem.metrics.kmedoids import CLUSTERINGS
from cem.models.concept_models import ConceptBottleneckModel, ConceptModel
from cem.models.inference import predict
from cem.settings import (
    INT_MAX,
    Rule,
    choice,
    flag,
    integer,
    list_of,
    optional,
    resolve,
    setting,
)


def _one_or_many(names: Rule) -> Rule:
    """A list of names, or one name alone (``evaluation.cas_clustering=public``)."""

    def as_list(v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    return Rule(
        lambda v: names.ok(as_list(v)),
        names.allowed,
        lambda v: names.cast(as_list(v)),
        explain=lambda name, v: names.error(name, as_list(v)),
    )


@dataclass
class EvaluationSettings:
    """What is measured after training, on one split, beside accuracy."""

    split: str = setting("test", choice(("train", "val", "test")))
    interventions: bool = setting(True, flag(), "intervention curves, correct and incorrect")
    policies: list[str] = setting(
        list(POLICIES), list_of(choice(POLICIES), f"a list among {', '.join(POLICIES)}")
    )
    random_orders: int = setting(5, integer(1, 1000), "random policy: orders averaged")
    # concept groups intervened as a whole, e.g. [[0, 1], [2]]; null = one group per concept
    groups: list[list[int]] | None = setting(
        None,
        optional(
            list_of(
                list_of(integer(0), "", min_len=1),
                "a list of non-empty lists of concept indices",
                min_len=1,
            )
        ),
    )
    alignment: bool = setting(True, flag(), "Concept Alignment Score")
    # build (BUILD + alternate) -> {split}/cas; pam (+ PAM swaps) -> /cas_pam; public (the
    # authors' code's sklearn_extra KMedoids() defaults and representation) -> /cas_public
    cas_clustering: list[str] = setting(
        ["build"],
        _one_or_many(
            list_of(choice(CLUSTERINGS), f"one or a list among {', '.join(CLUSTERINGS)}", 1)
        ),
    )
    impurity: bool = setting(True, flag(), "Oracle and Niche Impurity Scores")
    seed: int = setting(0, integer(0, INT_MAX))


def resolve_evaluation(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults ⊕ cfg, every value checked (one-line ``CemError`` naming the key)."""
    return resolve(EvaluationSettings, cfg, "evaluation")


@torch.no_grad()
def public_reps(net: ConceptModel, x: torch.Tensor, reps: Any) -> Any:
    """Per-concept representations as the authors' CAS code clusters them.

    Their CBM returns its bottleneck *before* the Bool threshold (which only happens inside the
    label predictor's call), and their CAS function puts each concept's score beside *all* the
    free units when the bottleneck is wider than k. So: CEM, the mixed embeddings (``reps``, as
    ours); scalar CBMs, the score σ(ĉ_i) (ĉ_i for a Logit bottleneck; Bool: not the hard value);
    Hybrid CBMs and the DNN, ``[score_i, every free unit]``.

    x: (N, d); reps: (N, k, r), ours. Returns ``reps`` or a list of k arrays (N, 1 + n_extra).
    """
    if not isinstance(net, ConceptBottleneckModel):
        return reps
    was_training = net.training
    net.eval()
    try:
        _, score, free = net.scores(x.to(next(net.parameters()).device))
    finally:
        net.train(was_training)
    parts = [score.unsqueeze(-1)]
    if free is not None:
        parts.append(free.unsqueeze(1).expand(-1, score.shape[1], -1))
    return torch.cat(parts, dim=-1).cpu().numpy()  # (N, k, 1 + n_extra)


def evaluate_extras(
    net: ConceptModel,
    tensors: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    cfg: Mapping[str, Any],
    prefix: str = "test",
) -> tuple[dict[str, float], dict[str, Any]]:
    """Scalar metrics (``{prefix}/cas``, ``/ois``, ``/nis``) and curves for one split.

    tensors: (x (N, d), c (N, k), y (N,)). Returns (metrics, curves) where curves holds
    ``interventions[policy][correct|incorrect] = {n_groups, task_acc, task_auc}`` and
    ``cas = {rho, curve}`` (``cas_public`` too when ``cas_clustering`` asks for it).
    """
    x, c, y = tensors
    metrics: dict[str, float] = {}
    curves: dict[str, Any] = {}
    if cfg["interventions"] and net.has_concepts:
        groups = concept_groups(cfg["groups"], c.shape[1])
        curves["interventions"] = {
            policy: {
                kind: intervention_curve(
                    net,
                    x,
                    c,
                    y,
                    policy,
                    groups,
                    kind == "incorrect",
                    cfg["random_orders"],
                    cfg["seed"],
                )
                for kind in ("correct", "incorrect")
            }
            for policy in cfg["policies"]
        }
    if cfg["alignment"] or cfg["impurity"]:
        reps = predict(net, x).reps.detach().cpu().numpy()  # (N, k, r)
        conc = c.detach().cpu().numpy().astype(int)
        if cfg["alignment"]:
            from cem.metrics.alignment import concept_alignment_score

            for clustering in dict.fromkeys(cfg["cas_clustering"]):
                key = "cas" if clustering == "build" else f"cas_{clustering}"
                rep = public_reps(net, x, reps) if clustering == "public" else reps
                cas = concept_alignment_score(rep, conc, seed=cfg["seed"], clustering=clustering)
                metrics[f"{prefix}/{key}"] = float(cas["cas"])
                metrics.update(
                    {f"{prefix}/{key}_{i}": float(v) for i, v in enumerate(cas["per_concept"])}
                )
                curves[key] = {
                    "rho": [int(r) for r in cas["rho"]],
                    "curve": [[float(v) for v in row] for row in cas["curve"]],
                }
        if cfg["impurity"]:
            from cem.metrics.impurity import niche_impurity_score, oracle_impurity_score

            metrics[f"{prefix}/ois"] = float(oracle_impurity_score(reps, conc, seed=cfg["seed"]))
            metrics[f"{prefix}/nis"] = float(niche_impurity_score(reps, conc, seed=cfg["seed"]))
    return metrics, curves
