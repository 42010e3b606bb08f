"""Progress output: Lightning's bar on a terminal, plain periodic lines in logs and CI."""

from __future__ import annotations

import sys
import time

import pytorch_lightning as pl


def use_progress_bar(mode: str) -> bool:
    """``auto`` shows the bar only when stdout is a terminal."""
    return mode == "bar" or (mode == "auto" and sys.stdout.isatty())


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
        dm = getattr(trainer, "datamodule", None)
        total = getattr(dm, "total_epochs", None)
        return total or (trainer.max_epochs or 1) * getattr(dm, "epochs_per_pass", 1)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._t0 = time.perf_counter()
        self._printed = 0
        if self.every is None:
            self.every = max(1, self._total(trainer) // 10)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        total = self._total(trainer)
        epoch = getattr(pl_module, "epochs_done", trainer.current_epoch + 1)
        every = self.every or 1
        last = epoch >= total or trainer.current_epoch + 1 == trainer.max_epochs
        if epoch // every == self._printed // every and not last:
            return
        self._printed = epoch
        m = dict(trainer.callback_metrics)
        if hasattr(pl_module, "epoch_loss"):  # this epoch's loss (train/loss is logged sparsely)
            m["train/loss"] = pl_module.epoch_loss
        parts = [f"epoch {epoch}/{total}"]
        for key in ("train/loss", "val/loss", "val/task_acc", "val/concept_acc"):
            if key in m:
                parts.append(f"{key}={float(m[key]):.4f}")
        parts.append(f"{time.perf_counter() - self._t0:.1f}s")
        prefix = f"[{self.label}] " if self.label else ""
        print(prefix + "  ".join(parts), flush=True)
