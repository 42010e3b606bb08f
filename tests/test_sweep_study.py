"""The Pareto search's first trials: a scrambled Sobol design over its space."""

from __future__ import annotations

import math

import pytest

from cem.sweep.settings import check_space
from cem.sweep.study import sobol_design

SPACE = check_space(
    {
        "model.concept_loss_weight": {"low": 0.001, "high": 10, "log": True},
        "model.optimizer.lr": {"low": 0.001, "high": 0.05},
        "model.emb_size": {"type": "int", "low": 4, "high": 11},
        "model.extractor.hidden": {"type": "int", "low": 16, "high": 256, "log": True, "repeat": 2},
        "model.concept_weights": {"type": "choice", "choices": ["none", "balanced"]},
    }
)


def test_the_design_is_in_bounds_typed_and_seeded() -> None:
    points = sobol_design(SPACE, 16, seed=3)
    assert len(points) == 16 and all(list(p) == list(SPACE) for p in points)
    for p in points:
        assert 0.001 <= p["model.concept_loss_weight"] <= 10
        assert 0.001 <= p["model.optimizer.lr"] <= 0.05
        assert isinstance(p["model.emb_size"], int) and 4 <= p["model.emb_size"] <= 11
        assert isinstance(p["model.extractor.hidden"], int)
        assert 16 <= p["model.extractor.hidden"] <= 256
        assert p["model.concept_weights"] in ("none", "balanced")
    assert sobol_design(SPACE, 16, seed=3) == points
    assert sobol_design(SPACE, 16, seed=4) != points
    assert sobol_design(SPACE, 5, seed=3) == points[:5]  # a longer design starts the same
    assert sobol_design(SPACE, 0, seed=3) == []


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_first_eight_points_fill_every_eighth_of_every_dimension(seed: int) -> None:
    # What a space-filling design gives that 8 random draws rarely do (8!/8^8 = 0.2%).
    points = sobol_design(SPACE, 8, seed=seed)
    alpha = [math.log(p["model.concept_loss_weight"] / 0.001) / math.log(1e4) for p in points]
    lr = [(p["model.optimizer.lr"] - 0.001) / 0.049 for p in points]
    assert sorted(int(8 * u) for u in alpha) == list(range(8))  # on the log scale
    assert sorted(int(8 * u) for u in lr) == list(range(8))
    assert sorted(p["model.emb_size"] for p in points) == list(range(4, 12))  # each value once
    assert sorted(p["model.concept_weights"] for p in points) == ["balanced"] * 4 + ["none"] * 4


def _shapes(model: str, **overrides: object) -> list[tuple[int, ...]]:
    from cem.models.registry import build_model, resolve

    net = build_model(resolve({"name": model, **overrides}), 7, 3, 2)
    return [tuple(p.shape) for p in net.parameters()]


@pytest.mark.parametrize("model", ["cbm_sigmoid", "cbm_bool", "cbm_hybrid_sigmoid", "dnn", "cem"])
def test_a_search_leaves_alone_what_a_model_does_not_read(model: str) -> None:
    from cem.models.registry import get_kind, resolve
    from cem.sweep.settings import searchable, used_by

    used = used_by({"name": model})
    assert "model.concept_loss_weight" in used and "model.optimizer.lr" in used
    assert ("model.emb_size" in used) == (model not in ("cbm_sigmoid", "cbm_bool"))
    assert ("model.training_intervention_prob" in used) == (model == "cem")
    resolved = resolve({"name": model})
    kind = get_kind(resolved["kind"])
    ignored = sorted(set(searchable(kind.name)) - set(used))
    # What the search leaves alone really is left alone: other values build the same network.
    for key in ignored:
        leaf = key.removeprefix("model.")
        if leaf == "emb_size":
            assert _shapes(model, emb_size=4) == _shapes(model, emb_size=64)
        elif leaf == "extractor.out":
            assert _shapes(model, extractor={"out": 4}) == _shapes(model, extractor={"out": 64})
        else:
            raise AssertionError(f"{model}: no check for the ignored {key}")
    # ... and what it searches changes it where it is a width.
    if "model.emb_size" in used:
        assert _shapes(model, emb_size=4) != _shapes(model, emb_size=64)
