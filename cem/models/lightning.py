"""The LightningModule that trains every concept model of the registry, knowing none of them.

It builds its network and the network's objective from the model config (so a checkpoint
reloads without the config file), uses manual optimisation so that a training step is exactly
zero_grad → loss → backward → step (no per-step closures, host syncs or metric computation), and
logs whole-split metrics under ``train/…``, ``val/…``, ``test/…``.

What a step computes, which stages a model trains in and which parameters each stage trains are
the objective's (:class:`cem.models.base.Objective`): this module only drives those hooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins.precision import Precision
from pytorch_lightning.strategies import SingleDeviceStrategy

from cem.errors import unknown
from cem.metrics.classification import concept_metrics, task_metrics
from cem.models.base import ConceptOutput
from cem.models.optim import build_optimizer, build_scheduler
from cem.models.registry import build_model, build_objective, resolve

# What each validation logs (per-concept accuracies are in the final whole-split metrics).
VAL_LOGGED = ("loss", "task_acc", "task_auc", "concept_acc", "concept_auc")


class ConceptLightningModule(pl.LightningModule):
    """Trains any model of the registry: its network (``net``) with its objective
    (``objective``: stages, loss, what each stage trains).

    Parameters
    ----------
    model : model config (see :mod:`cem.models.registry`); resolved and checked here unless
        ``resolved`` (``cem.train.run`` resolves the whole run config once)
    n_features, n_concepts, n_out : d, k and task logits (1 for binary tasks)
    supervised : (k,) which concepts have supervision (hidden concepts: False); default all
    pos_weight : (k,) BCE positive weights for imbalanced concepts (``concept_weights: balanced``)
    stage : the training stage to start in (default: the objective's first)
    """

    def __init__(
        self,
        model: Mapping[str, Any],
        n_features: int,
        n_concepts: int,
        n_out: int = 1,
        supervised: Sequence[bool] | None = None,
        pos_weight: Sequence[float] | None = None,
        stage: str | None = None,
        resolved: bool = False,
    ) -> None:
        super().__init__()
        model = dict(model) if resolved else resolve(model)
        self.save_hyperparameters(
            {
                "model": model,
                "n_features": n_features,
                "n_concepts": n_concepts,
                "n_out": n_out,
                "supervised": None if supervised is None else list(supervised),
                "pos_weight": None if pos_weight is None else list(pos_weight),
                "stage": stage,
            }
        )
        self.cfg = model
        self.net = build_model(model, n_features, n_concepts, n_out)
        self.objective = build_objective(model, n_concepts, supervised, pos_weight)
        self.automatic_optimization = False
        self.stage = self.objective.stages[0] if stage is None else stage
        self._outputs: list[tuple[ConceptOutput, torch.Tensor, torch.Tensor]] = []
        self.loss_history: dict[str, list[float]] = {}  # stage -> mean training loss per epoch

    # ---- stage ----
    @property
    def stages(self) -> tuple[str, ...]:
        """The model's training stages, in order (the objective's)."""
        return tuple(self.objective.stages)

    @property
    def stage(self) -> str:
        return self._stage

    @stage.setter
    def stage(self, value: str) -> None:
        if value not in self.objective.stages:
            raise unknown("stage", value, self.objective.stages)
        self._stage = value
        # What the stage does not train is frozen (a CBM's second stage: the extractor).
        trained = {id(p) for p in self.objective.trainable(self.net, value)}
        for p in self.net.parameters():
            p.requires_grad_(id(p) in trained)

    # ---- loss ----
    def loss(self, out: ConceptOutput, c: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The current stage's loss of an output and its batch (c (B, k), y (B,))."""
        return self.objective.loss(out, c, y, self.stage)

    def training_loss(self, x: torch.Tensor, c: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss of one optimisation step on x (B, d), c (B, k), y (B,) in the current stage
        (with the model's training-time interventions or rollouts)."""
        return self.objective.training_loss(self.net, x, c, y, self.stage)

    # ---- training ----
    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        return self.net(x, c_int, mask)

    def on_fit_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        self._data_on_device = dm is not None and hasattr(dm, "to")
        if self._data_on_device:
            dm.to(self.device)  # data moves to the device once, not per step
        self._loss_sum = torch.zeros((), device=self.device)
        self._steps = 0
        self._epoch_losses: list[torch.Tensor] = []
        # Plain fp32 on one device needs none of Lightning's backward/step plumbing (scalers,
        # gradient sync), so the step then calls autograd and the optimiser directly.
        self._direct = type(self.trainer.precision_plugin) is Precision and isinstance(
            self.trainer.strategy, SingleDeviceStrategy
        )

    def training_step(
        self, batch: tuple[torch.Tensor, ...] | list[list[tuple[torch.Tensor, ...]]], batch_idx: int
    ) -> None:
        """Optimisation steps, one per minibatch.

        ``batch`` is either one (x, c, y) minibatch (a plain loader: the epoch then ends in
        ``on_train_epoch_end``) or a block of whole epochs, each the list of its minibatches
        (:class:`cem.data.datamodule.InMemoryLoader`): each epoch of the block ends here.
        """
        opt = self.optimizers()
        if isinstance(batch, list):
            for epoch in batch:
                self._loss_sum = self._optimise(opt, epoch)
                self._steps = len(epoch)
                self._end_epoch()
        else:
            self._loss_sum = self._loss_sum + self._optimise(opt, [batch])
            self._steps += 1

    def _optimise(self, opt: Any, batches: list[tuple[torch.Tensor, ...]]) -> torch.Tensor:
        """zero_grad → forward → backward → step on each minibatch; the summed loss (0-dim)."""
        total = torch.zeros((), device=self.device)
        objective, net, stage = self.objective, self.net, self.stage
        for x, c, y in batches:
            loss = objective.training_loss(net, x, c, y, stage)
            if self._direct:
                opt.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                opt._on_before_step()  # keeps Lightning's step count (global_step) right
                opt.optimizer.step()
                opt._on_after_step()
            else:
                opt.zero_grad(set_to_none=True)
                self.manual_backward(loss)
                opt.step()
            total = total + loss.detach()
        return total

    def _end_epoch(self) -> None:
        """Close a data epoch: record its mean loss and step the LR scheduler."""
        mean = self._loss_sum / max(self._steps, 1)
        self._epoch_losses.append(mean)  # stays on the device: no host sync per epoch
        sched = self.lr_schedulers()
        if sched is not None:
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step(float(mean))  # one host sync per epoch, none per step
            else:
                sched.step()
        self._loss_sum = torch.zeros((), device=self.device)
        self._steps = 0

    def transfer_batch_to_device(
        self, batch: Any, device: torch.device, dataloader_idx: int
    ) -> Any:
        if getattr(self, "_data_on_device", False):
            return batch  # already there (on_fit_start): skip walking the block's batch lists
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    @property
    def epochs_done(self) -> int:
        """Data epochs run in the current stage (a Lightning epoch may hold several); an epoch
        whose steps have run counts even before Lightning's epoch end closes it."""
        return len(getattr(self, "_epoch_losses", ())) + bool(getattr(self, "_steps", 0))

    @property
    def epoch_loss(self) -> torch.Tensor:
        """Mean training loss of the epoch under way, else of the last one (0-dim).

        Callbacks' ``on_train_epoch_end`` run before the module's, so there it is the epoch's.
        """
        if getattr(self, "_steps", 0):
            return self._loss_sum / self._steps
        losses = getattr(self, "_epoch_losses", None)
        return losses[-1] if losses else torch.tensor(float("nan"))

    def on_train_epoch_end(self) -> None:
        if self._steps:  # a plain minibatch loader: the data epoch ends with Lightning's
            self._end_epoch()
        epoch = self.current_epoch + 1
        trainer = self.trainer
        # Lightning's log() costs ~1-2 ms a call, as much as a training step of these small
        # nets: train/loss goes to the logger at validation epochs and at the end only; every
        # epoch's loss is kept in ``loss_history``.
        if self._epoch_losses and (
            epoch % (trainer.check_val_every_n_epoch or 1) == 0 or epoch == trainer.max_epochs
        ):
            self.log("train/loss", self._epoch_losses[-1], prog_bar=True)
            self.log("epoch", float(self.epochs_done))  # the CSV's epoch: data, not Lightning

    def on_train_end(self) -> None:
        # Mean training loss of every epoch of this stage, read back in one transfer.
        losses = torch.stack(self._epoch_losses).tolist() if self._epoch_losses else []
        self.loss_history[self.stage] = losses
        dm = getattr(self.trainer, "datamodule", None)
        train = None
        if dm is not None and hasattr(dm, "tensors"):
            train = tuple(t.to(self.device) for t in dm.tensors["train"])
        self.objective.on_train_end(self.net, train)

    def configure_optimizers(self) -> Any:
        params = self.objective.trainable(self.net, self.stage)
        # Allow-listed classes by name (cem.models.optim): a config never calls code.
        optimizer = build_optimizer(self.cfg["optimizer"], params)
        if not self.cfg.get("scheduler"):
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": build_scheduler(self.cfg["scheduler"], optimizer),
        }

    # ---- evaluation: whole-split metrics ----
    def _eval_step(self, batch: tuple[torch.Tensor, ...]) -> None:
        x, c, y = batch
        self._outputs.append((self.net(x), c, y))

    def _eval_end(self, prefix: str) -> None:
        outs, self._outputs = self._outputs, []
        out = ConceptOutput(
            torch.cat([o.y_logits for o, _, _ in outs]),
            None if outs[0][0].c_logits is None else torch.cat([o.c_logits for o, _, _ in outs]),
            None,
        )
        c = torch.cat([b for _, b, _ in outs])
        y = torch.cat([b for _, _, b in outs])
        metrics = {"loss": float(self.loss(out, c, y)), **split_metrics(out, c, y)}
        logged = {f"{prefix}/{k}": v for k, v in metrics.items()}
        if prefix == "val":  # every few epochs: the summary only (each logged key costs ~1 ms)
            logged = {f"val/{k}": metrics[k] for k in VAL_LOGGED if k in metrics}
            logged["epoch"] = float(self.epochs_done)
        self.log_dict(logged, prog_bar=False)

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._eval_step(batch)

    def on_validation_epoch_end(self) -> None:
        self._eval_end("val")

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._eval_step(batch)

    def on_test_epoch_end(self) -> None:
        self._eval_end("test")


def split_metrics(out: ConceptOutput, c: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Task metrics, plus concept metrics when the model has concepts."""
    metrics = task_metrics(out.y_logits, y)
    if out.c_logits is not None:
        metrics.update(concept_metrics(out.c_logits, c))
    return metrics
