"""The Pareto search's first trials: a scrambled Sobol design over its space; a log range that
holds 0 too (``zero``)."""

from __future__ import annotations

import math

import pytest

from cem.errors import CemError
from cem.sweep.settings import check_space
from cem.sweep.study import distributions, run_value, sobol_design

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


def test_zero_gives_a_log_range_a_decade_that_stands_for_zero() -> None:
    space = check_space(
        {"model.concept_loss_weight": {"low": 0.001, "high": 10, "log": True, "zero": True}}
    )
    dim = space["model.concept_loss_weight"]
    assert distributions(space)["model.concept_loss_weight"].low == pytest.approx(1e-4)
    points = [p["model.concept_loss_weight"] for p in sobol_design(space, 16, seed=0)]
    # 16 Sobol points over 5 decades: 16/5 of them in each, so 3 or 4 in the decade below low
    below = [v for v in points if v < 0.001]
    assert 3 <= len(below) <= 4 and all(v >= 1e-4 for v in below)
    assert {run_value(dim, v) for v in below} == {0.0}
    assert all(run_value(dim, v) == v for v in points if v >= 0.001)
    plain = check_space({"model.concept_loss_weight": {"low": 0.001, "high": 10, "log": True}})
    assert run_value(plain["model.concept_loss_weight"], 5e-4) == 5e-4  # no zero: as drawn


@pytest.mark.parametrize(
    "dim",
    [
        {"low": 0.001, "high": 10, "zero": True},
        {"type": "int", "low": 1, "high": 10, "log": True, "zero": True},
    ],
)
def test_zero_needs_a_float_on_a_log_scale(dim: dict[str, object]) -> None:
    with pytest.raises(
        CemError, match=r"\.zero=true is invalid with type: \w+, log: \w+; allowed: "
    ):
        check_space({"model.concept_loss_weight": dim})


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
