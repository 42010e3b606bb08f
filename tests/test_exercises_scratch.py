"""The machinery shared by the from-scratch checkers: the reference loop is the library's own
training, and the call log sees what a training loop feeds its model."""

from __future__ import annotations

import pytest
import torch

from cem.exercises.scratch import CallLog, library_module, reference_train, seeded, trig
from cem.train import run

QUIET = {"interventions": False, "alignment": False, "impurity": False}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(
    "model",
    [{"name": "cbm_sigmoid"}, {"name": "cem", "emb_size": 8, "training_intervention_prob": 1.0}],
)
def test_the_reference_loop_trains_as_the_library_does(model: dict) -> None:
    """Same seed, same settings: reference_train gives the weights that cem.train.run trains
    (3 epochs, before the scheduler could act; RandInt with p = 1 is deterministic)."""
    seed, epochs = 5, 3
    result = run(
        {
            "dataset": {"name": "trig"},
            "model": model,
            "trainer": {
                "max_epochs": epochs,
                "accelerator": "cpu",  # the reference trains on the CPU, also on a GPU machine
                "progress": "none",
                "check_val_every_n_epoch": 1,
            },
            "evaluation": QUIET,
            "seed": seed,
        }
    )
    module = library_module(model, 7, 3, seed)
    with seeded(0):
        reference_train(module, trig("train"), epochs, 0.01, 256, seed)
    mine, theirs = module.net.state_dict(), result.module.net.state_dict()
    assert mine.keys() == theirs.keys()
    for key in mine:
        assert torch.allclose(mine[key], theirs[key], atol=1e-5), key


def test_the_call_log_records_training_calls_and_their_masks() -> None:
    module = library_module({"name": "cem", "emb_size": 4}, 7, 3)
    x, c, _ = trig("test")
    mask = torch.zeros_like(c, dtype=torch.bool)
    with CallLog(module.net) as log:
        module.net(x[:5])
        module.net(x[5:8], c[5:8], mask=mask[5:8])
        with torch.no_grad():  # evaluation: not a training call
            module.net(x)
    module.net(x[:2])  # after the block: not recorded
    assert log.sizes == [5, 3]
    assert log.masks[0] is None and torch.equal(log.masks[1], mask[5:8])
    assert torch.equal(log.keys[1], x[5:8, 0])
