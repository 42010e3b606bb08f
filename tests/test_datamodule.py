"""The in-memory training loader: batches, seeded order, and blocks of whole epochs."""

from __future__ import annotations

import pytest
import torch

from cem.data.datamodule import ConceptDataModule
from cem.errors import CemError


def _dm() -> ConceptDataModule:
    return ConceptDataModule.from_config(
        name="xor", protocol="random", size=300, seed=0, batch_size=64
    )


def test_blocks_hold_the_same_batches_as_plain_epochs() -> None:
    plain, blocked = _dm(), _dm()
    epochs = [list(plain.batches("train")) for _ in range(7)]  # 7 epochs, one at a time
    blocked.set_epoch_blocks(3, 7)
    loader = blocked.train_dataloader()
    blocks = [next(iter(loader)) for _ in range(3)]
    assert [len(b) for b in blocks] == [3, 3, 1]  # the last block is cut at 7 epochs
    flat = [epoch for block in blocks for epoch in block]
    assert len(flat) == len(epochs)
    for got, want in zip(flat, epochs, strict=True):
        assert len(got) == len(want) == 4  # 210 training points in batches of 64
        for (xg, cg, yg), (xw, cw, yw) in zip(got, want, strict=True):
            assert torch.equal(xg, xw) and torch.equal(cg, cw) and torch.equal(yg, yw)
    # Every epoch is a fresh permutation of the whole training split.
    x = plain.tensors["train"][0]
    first = torch.cat([b[0] for b in flat[0]])
    assert first.shape == x.shape and not torch.equal(first, torch.cat([b[0] for b in flat[1]]))


def test_default_is_one_epoch_per_pass_without_end() -> None:
    loader = _dm().train_dataloader()
    assert len(loader) == 1
    assert all(len(next(iter(loader))) == 1 for _ in range(5))


def test_bad_block_size() -> None:
    with pytest.raises(CemError, match="epochs_per_pass"):
        _dm().set_epoch_blocks(0, 10)
