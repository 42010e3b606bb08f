"""Progress output: Lightning's bar on a terminal, plain periodic lines in logs and CI."""

from __future__ import annotations

import sys
import time

import pytorch_lightning as pl


def use_progress_bar(mode: str) -> bool:
    """``auto`` shows the bar only when stdout is a terminal."""
    return mode == "bar" or (mode == "auto" and sys.stdout.isatty())


class PlainProgress(pl.Callback):
    """Prints one line every ``every`` epochs (and at the end): epoch, losses, val accuracy."""

    def __init__(self, label: str = "", every: int | None = None) -> None:
        self.label, self.every = label, every
        self._t0 = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._t0 = time.perf_counter()
        if self.every is None:
            self.every = max(1, (trainer.max_epochs or 10) // 10)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch % (self.every or 1) and epoch != trainer.max_epochs:
            return
        m = dict(trainer.callback_metrics)
        if hasattr(pl_module, "epoch_loss"):  # this epoch's loss (train/loss is logged sparsely)
            m["train/loss"] = pl_module.epoch_loss
        parts = [f"epoch {epoch}/{trainer.max_epochs}"]
        for key in ("train/loss", "val/loss", "val/task_acc", "val/concept_acc"):
            if key in m:
                parts.append(f"{key}={float(m[key]):.4f}")
        parts.append(f"{time.perf_counter() - self._t0:.1f}s")
        prefix = f"[{self.label}] " if self.label else ""
        print(prefix + "  ".join(parts), flush=True)
