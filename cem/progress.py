"""Progress output of a run: a bar counting data epochs on a terminal (``epoch 120/500``),
plain periodic lines in logs and CI. (A sweep's own progress: :mod:`cem.sweep.progress`.)"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks.progress import ProgressBar

_quiet = False


@contextmanager
def quiet_progress(on: bool = True) -> Iterator[None]:
    """No bar and no lines while inside (``on``), whatever ``trainer.progress`` says: a sweep's
    runs under the sweep's own progress line on a terminal. The run's config is unchanged."""
    global _quiet
    before, _quiet = _quiet, _quiet or on
    try:
        yield
    finally:
        _quiet = before


def use_progress_bar(mode: str) -> bool:
    """``auto`` shows the bar only when stdout is a terminal."""
    if _quiet:
        return False
    return mode == "bar" or (mode == "auto" and sys.stdout.isatty())


def _total_epochs(trainer: pl.Trainer) -> int:
    """Data epochs of the whole fit (a Lightning epoch may hold a block of them)."""
    dm = getattr(trainer, "datamodule", None)
    total = getattr(dm, "total_epochs", None)
    return total or (trainer.max_epochs or 1) * getattr(dm, "epochs_per_pass", 1)


def _summary(trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
    """This epoch's training loss and the latest validation metrics."""
    m = dict(trainer.callback_metrics)
    if hasattr(pl_module, "epoch_loss"):  # this epoch's loss (train/loss is logged sparsely)
        m["train/loss"] = pl_module.epoch_loss
    keys = ("train/loss", "val/loss", "val/task_acc", "val/concept_acc")
    return {k: float(m[k]) for k in keys if k in m}


class DataEpochBar(ProgressBar):
    """A bar over the run's data epochs (``epoch 120/500``), whatever the block of data epochs
    that one Lightning epoch holds; its postfix shows the loss and the validation accuracies."""

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label
        self._enabled = True
        self._bar: Any = None

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._enabled:
            return
        from tqdm import tqdm

        self._bar = tqdm(
            total=_total_epochs(trainer),
            desc=f"[{self.label}] epoch" if self.label else "epoch",
            bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| {elapsed}<{remaining}{postfix}",
            dynamic_ncols=True,
            file=sys.stdout,
        )

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._bar is None:
            return
        done = getattr(pl_module, "epochs_done", trainer.current_epoch + 1)
        self._bar.update(max(0, min(done, self._bar.total) - self._bar.n))
        self._postfix(trainer, pl_module)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._bar is not None and not trainer.sanity_checking:
            self._postfix(trainer, pl_module)

    def _postfix(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        summary = _summary(trainer, pl_module)
        shown = {k.replace("train/", ""): f"{v:.4f}" for k, v in summary.items()}
        self._bar.set_postfix(shown, refresh=True)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class PlainProgress(pl.Callback):
    """Prints a line about every ``every`` data epochs (and at the end): epoch, losses, val
    accuracy. A Lightning epoch may hold a block of data epochs (``set_epoch_blocks``): lines
    then come at the first block end past each multiple of ``every``."""

    def __init__(self, label: str = "", every: int | None = None) -> None:
        self.label, self.every = label, every
        self._t0 = 0.0
        self._printed = 0

    @staticmethod
    def _total(trainer: pl.Trainer) -> int:
        return _total_epochs(trainer)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._t0 = time.perf_counter()
        self._printed = 0
        if self.every is None:
            self.every = max(1, self._total(trainer) // 10)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if _quiet:
            return
        total = self._total(trainer)
        epoch = getattr(pl_module, "epochs_done", trainer.current_epoch + 1)
        every = self.every or 1
        last = epoch >= total or trainer.current_epoch + 1 == trainer.max_epochs
        if epoch // every == self._printed // every and not last:
            return
        self._printed = epoch
        parts = [f"epoch {epoch}/{total}"]
        parts += [f"{k}={v:.4f}" for k, v in _summary(trainer, pl_module).items()]
        parts.append(f"{time.perf_counter() - self._t0:.1f}s")
        prefix = f"[{self.label}] " if self.label else ""
        print(prefix + "  ".join(parts), flush=True)
