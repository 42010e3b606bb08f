"""The sweeper's settings and the search space: every bad value refused in one line."""

from __future__ import annotations

import pytest

from cem.errors import CemError
from cem.sweep.pareto import default_params, override_value
from cem.sweep.settings import check_space, resolve_dimension, resolve_sweeper

GOOD = {
    "model.concept_loss_weight": {"low": 0.001, "high": 10, "log": True},
    "model.extractor.hidden": {"type": "int", "low": 16, "high": 256, "repeat": 2},
    "model.intervention_granularity": {"type": "choice", "choices": ["sample", "batch"]},
}


def test_a_good_space_is_checked_and_filled() -> None:
    space = check_space(GOOD)
    assert space["model.concept_loss_weight"]["type"] == "float"
    assert (
        space["model.extractor.hidden"]["low"] == 16 and space["model.extractor.hidden"]["repeat"]
    )
    settings = resolve_sweeper({"params": {"model": "cem,cbm_sigmoid"}, "search": {"space": GOOD}})
    assert settings["search"]["n_trials"] >= 1 and settings["params"]["model"] == "cem,cbm_sigmoid"
    assert resolve_sweeper({})["search"] is None  # a grid


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"serch": {}}, r"^hydra.sweeper.serch is unknown; allowed: max_batch_size, params"),
        ({"progress": "loud"}, r"^hydra.sweeper.progress='loud' is unknown; allowed: auto, bar"),
        (
            {"search": {"space": GOOD, "sampler": "x"}},
            r"search.sampler='x' is unknown; allowed: gp",
        ),
        ({"search": {"space": GOOD, "n_trials": 0}}, r"search.n_trials=0 is invalid; allowed: an"),
        ({"search": {"space": {}}}, r"^hydra.sweeper.search.space is empty"),
        (
            {"search": {"space": {"model.emb_sise": {"low": 1, "high": 2}}}},
            r"^hydra.sweeper.search.space.model.emb_sise is not a setting to search; allowed: "
            r"model.emb_size, ",
        ),
        (
            {"search": {"space": {"trainer.max_epochs": {"low": 1, "high": 2}}}},
            r"space.trainer.max_epochs is not a setting to search",  # a model's settings only
        ),
    ],
)
def test_bad_sweeper_settings(values: dict, message: str) -> None:
    with pytest.raises(CemError, match=message):
        resolve_sweeper(values)


@pytest.mark.parametrize(
    ("dim", "message"),
    [
        ({"low": 1}, r"^s.high is missing; allowed: a finite number"),
        ({"low": 2, "high": 1}, r"^s.high=1.0 is invalid; allowed: a number > low \(2.0\)"),
        ({"low": 0, "high": 1, "log": True}, r"^s.low=0.0 is invalid; allowed: a number > 0"),
        ({"type": "int", "low": 1.5, "high": 3}, r"^s.low=1.5 is invalid; allowed: a whole"),
        ({"type": "choice", "choices": []}, r"^s.choices=\[\] is invalid; allowed: a non-empty"),
        ({"type": "choice", "choices": ["a", "a"]}, r"allowed: a non-empty list of distinct"),
        ({"type": "choice", "choices": ["a"], "low": 1}, r"^s.low is not a setting of a choice"),
        ({"low": 0, "high": 1, "choices": [1]}, r"^s.choices is a setting of type: choice"),
        ({"type": "cube"}, r"^s.type='cube' is unknown; allowed: choice, float, int"),
        ({"low": 0, "high": 1, "step": 2}, r"^s.step is unknown; allowed: type, low, high"),
        ({"low": 0, "high": 1, "repeat": 0}, r"^s.repeat=0 is invalid; allowed: null, or an"),
    ],
)
def test_bad_dimensions(dim: dict, message: str) -> None:
    with pytest.raises(CemError, match=message):
        resolve_dimension("s", dim)


def test_defaults_and_override_values() -> None:
    space = check_space(GOOD)
    config = {
        "model": {
            "concept_loss_weight": 1.0,
            "extractor": {"hidden": [128, 128]},
            "intervention_granularity": "sample",
        }
    }
    assert default_params(config, space) == {
        "model.concept_loss_weight": 1.0,
        "model.extractor.hidden": 128,
        "model.intervention_granularity": "sample",
    }
    config["model"]["extractor"]["hidden"] = [128, 64]  # not two copies of one width
    config["model"]["concept_loss_weight"] = 50.0  # out of the range
    assert set(default_params(config, space)) == {"model.intervention_granularity"}
    assert override_value(64, 2) == "[64,64]" and override_value(1e-05, None) == "1e-05"
    assert override_value("it's", None) == "'it\\'s'" and override_value(True, None) == "true"
