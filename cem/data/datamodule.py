"""A LightningDataModule over in-memory tensors.

The synthetic datasets are a few thousand rows, so there are no worker processes and no
``DataLoader``: a training batch is a slice of a seeded permutation of tensors that already sit on
the model's device (moved once, not per step).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from cem.data.checks import check_data
from cem.data.dataset import SPLITS, ConceptData, DataConfig, build
from cem.data.settings import DatasetSettings
from cem.errors import check
from cem.settings import defaults

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
DEFAULT_BATCH_SIZE: int = defaults(DatasetSettings)["batch_size"]


class InMemoryLoader:
    """Yields (x (B, d), c (B, k), y (B,)) slices of a fresh seeded permutation when shuffled.

    With ``epoch_batches=True`` each pass yields a single item, a *block* of whole epochs: a list
    of up to ``epochs_per_pass`` epochs, each the list of that epoch's batches (the last pass
    is cut so that ``total_epochs`` are served in all). The Lightning module runs a block in one
    ``training_step``, so Lightning's per-batch and per-epoch hooks are paid once a block
    instead of once a step (the data are tiny, so that overhead would otherwise dominate). The
    steps, their order and the permutations drawn are those of plain epoch-by-epoch batches.
    """

    def __init__(
        self,
        tensors: Batch,
        batch_size: int,
        shuffle: bool,
        generator: torch.Generator | None,
        epoch_batches: bool = False,
        epochs_per_pass: int = 1,
        total_epochs: int | None = None,
    ) -> None:
        self.tensors, self.batch_size, self.shuffle = tensors, batch_size, shuffle
        self.generator, self.epoch_batches = generator, epoch_batches
        self.epochs_per_pass, self.total_epochs = epochs_per_pass, total_epochs
        self.served = 0  # epochs yielded so far (block mode)

    def __len__(self) -> int:
        return 1 if self.epoch_batches else -(-len(self.tensors[0]) // self.batch_size)

    def __iter__(self) -> Iterator[Batch | list[list[Batch]]]:
        if self.epoch_batches:
            n = self.epochs_per_pass
            if self.total_epochs is not None:
                n = max(0, min(n, self.total_epochs - self.served))
            self.served += n
            yield [list(self._batches()) for _ in range(n)]
        else:
            yield from self._batches()

    def _batches(self) -> Iterator[Batch]:
        n = len(self.tensors[0])
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.tensors[0].device)
            data = tuple(t[order] for t in self.tensors)  # one gather per epoch, then views
        else:
            data = self.tensors
        for start in range(0, n, self.batch_size):
            yield tuple(t[start : start + self.batch_size] for t in data)  # type: ignore[misc]


class ConceptDataModule(pl.LightningDataModule):
    """Serves a :class:`ConceptData` as (x float32, c float32, y int64) batches.

    Build it from a generated dataset, a ``DataConfig`` / keyword settings, or a saved file::

        ConceptDataModule(build(name="xor"))
        ConceptDataModule.from_config(name="dot", protocol="paper")
        ConceptDataModule.from_file("dot.npz")

    Parameters
    ----------
    data : the splits and their metadata; every value is checked first
        (:func:`cem.data.checks.check_data`: finite x, c in {0, 1}, y in [0, n_classes), no
        empty split), so your own arrays get the same checks as a file
    batch_size : training batch size (default: the dataset settings' ``batch_size``; evaluation
        uses ``eval_batch_size``, default the whole split)
    seed : seed of the shuffling permutations (the same seed gives the same batch order)
    """

    def __init__(
        self,
        data: ConceptData,
        batch_size: int | None = None,
        seed: int = 0,
        eval_batch_size: int | None = None,
    ) -> None:
        super().__init__()
        batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
        check(
            isinstance(batch_size, int) and batch_size >= 1,
            "batch_size",
            batch_size,
            "an integer >= 1",
        )
        check_data(data)
        self.data, self.batch_size, self.seed = data, batch_size, seed
        self.eval_batch_size = eval_batch_size
        self.tensors: dict[str, Batch] = {
            s: (
                torch.as_tensor(data[s].x, dtype=torch.float32),
                torch.as_tensor(data[s].c, dtype=torch.float32),
                torch.as_tensor(data[s].y, dtype=torch.int64),
            )
            for s in SPLITS
        }
        self.generator = torch.Generator().manual_seed(seed)
        self.epochs_per_pass: int = 1
        self.total_epochs: int | None = None

    @classmethod
    def from_config(
        cls,
        cfg: DataConfig | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        **settings: object,
    ) -> ConceptDataModule:
        return cls(build(cfg, **settings), batch_size=batch_size, seed=seed)

    @classmethod
    def from_file(
        cls, path: str | Path, batch_size: int | None = None, seed: int = 0
    ) -> ConceptDataModule:
        from cem.data.io import load

        return cls(load(path), batch_size=batch_size, seed=seed)

    # ---- shapes the model needs ----
    @property
    def n_features(self) -> int:
        return self.tensors["train"][0].shape[1]

    @property
    def n_concepts(self) -> int:
        return self.tensors["train"][1].shape[1]

    @property
    def n_classes(self) -> int:
        """The task's classes, from the metadata (never from the largest label seen)."""
        return int(self.data.meta["n_classes"])

    @property
    def supervised(self) -> torch.Tensor:
        """(k,) bool: concepts with training supervision (hidden concepts are False)."""
        return torch.as_tensor(self.data.supervised)

    def concept_pos_weight(self) -> torch.Tensor:
        """(k,) n_negative / n_positive per concept on the training split (for imbalance)."""
        c = self.data["train"].c
        pos = np.clip(c.sum(0), 1, None)
        return torch.as_tensor((len(c) - c.sum(0)) / pos, dtype=torch.float32)

    def to(self, device: torch.device | str) -> ConceptDataModule:
        """Move every split to ``device`` once (a no-op when already there)."""
        self.tensors = {s: tuple(t.to(device) for t in ts) for s, ts in self.tensors.items()}  # type: ignore[misc]
        return self

    # ---- loaders ----
    def set_epoch_blocks(self, epochs_per_pass: int, total_epochs: int | None) -> None:
        """Serve training data in blocks of ``epochs_per_pass`` epochs (one Lightning epoch
        each), ``total_epochs`` in all (``None``: no cut); ``(1, None)`` is epoch by epoch."""
        check(epochs_per_pass >= 1, "epochs_per_pass", epochs_per_pass, "an integer >= 1")
        self.epochs_per_pass, self.total_epochs = epochs_per_pass, total_epochs

    def _eval_loader(self, split: str) -> InMemoryLoader:
        size = self.eval_batch_size or len(self.tensors[split][0])
        return InMemoryLoader(self.tensors[split], max(size, 1), False, self.generator)

    def batches(self, split: str = "train", shuffle: bool = True) -> InMemoryLoader:
        """Plain (x, c, y) minibatches of ``batch_size`` (for loops outside Lightning)."""
        return InMemoryLoader(self.tensors[split], self.batch_size, shuffle, self.generator)

    def train_dataloader(self) -> InMemoryLoader:
        """One item per Lightning epoch: a block of epochs, each a list of shuffled minibatches
        (see :meth:`set_epoch_blocks`; one epoch a block by default)."""
        return InMemoryLoader(
            self.tensors["train"],
            self.batch_size,
            True,
            self.generator,
            epoch_batches=True,
            epochs_per_pass=self.epochs_per_pass,
            total_epochs=self.total_epochs,
        )

    def val_dataloader(self) -> InMemoryLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> InMemoryLoader:
        return self._eval_loader("test")
