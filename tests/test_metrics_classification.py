"""Whole-split task and concept metrics."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from cem.metrics.classification import binary_auc, concept_metrics, task_metrics


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(-3, 3)), min_size=2, max_size=40),
)
def test_binary_auc_matches_sklearn_with_ties(pairs: list[tuple[int, int]]) -> None:
    y = np.array([p[0] for p in pairs])
    score = np.array([p[1] for p in pairs], dtype=float) / 2  # few values: many ties
    if y.min() == y.max():
        assert math.isnan(binary_auc(y, score))
    else:
        assert math.isclose(binary_auc(y, score), roc_auc_score(y, score), rel_tol=1e-12)


def test_task_metrics_threshold_the_probability_not_the_logit() -> None:
    # Logit 0.3 is p = 0.57: predicted 1. The public code's logit >= 0.5 would say 0.
    logits = torch.tensor([[0.3], [-0.3], [2.0], [-2.0]])
    y = torch.tensor([1, 0, 1, 1])
    m = task_metrics(logits, y)
    assert m["task_acc"] == 0.75
    assert m["task_auc"] == np.float64(roc_auc_score(y.numpy(), logits[:, 0].numpy())).item()


def test_task_metrics_multiclass_argmax() -> None:
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    m = task_metrics(logits, torch.tensor([0, 1, 2, 2]))
    assert m["task_acc"] == 0.75
    assert 0.0 <= m["task_auc"] <= 1.0


def test_concept_metrics_per_concept_and_single_class_nan() -> None:
    c = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    logits = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0], [-2.0, -1.0]])
    m = concept_metrics(logits, c, prefix="test/")
    assert m["test/concept_acc_0"] == 0.75 and m["test/concept_acc_1"] == 0.75
    assert m["test/concept_acc"] == 0.75
    # Concept 1 holds one class only: its AUC is undefined and left out of the mean.
    assert m["test/concept_auc"] == np.float64(roc_auc_score(c[:, 0], logits[:, 0])).item()
