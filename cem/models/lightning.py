"""The LightningModule that trains every concept model of the registry.

It builds its network from the model config (so a checkpoint reloads without the config file),
uses manual optimisation so that a training step is exactly zero_grad → forward → backward → step
(no per-step closures, host syncs or metric computation), and logs whole-split metrics under
``train/…``, ``val/…``, ``test/…``.

Training stages: ``joint`` (α·concept loss + task loss), and for Sequential / Independent CBMs
``concepts`` (x→c alone) followed by ``task_predicted`` (c2y on the frozen extractor's predicted
concepts) or ``task_true`` (c2y on the true concepts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins.precision import Precision
from pytorch_lightning.strategies import SingleDeviceStrategy
from torch.nn import functional as F

from cem.errors import unknown
from cem.metrics.classification import concept_metrics, task_metrics
from cem.models.concept_models import ConceptBottleneckModel, ConceptEmbeddingModel, ConceptOutput
from cem.models.optim import build_optimizer, build_scheduler
from cem.models.registry import VARIANTS, build_model, resolve

STAGES: tuple[str, ...] = ("joint", "concepts", "task_predicted", "task_true")
# What each validation logs (per-concept accuracies are in the final whole-split metrics).
VAL_LOGGED = ("loss", "task_acc", "task_auc", "concept_acc", "concept_auc")


def stages_for(model_name: str) -> list[str]:
    """The training stages of a model variant, in order."""
    training = VARIANTS[model_name].training
    return {
        "joint": ["joint"],
        "sequential": ["concepts", "task_predicted"],
        "independent": ["concepts", "task_true"],
    }[training]


class ConceptLightningModule(pl.LightningModule):
    """Trains a concept model (CBM family, CEM, no-concept DNN).

    Parameters
    ----------
    model : model config (see ``cem.models.registry.ModelSettings``); resolved and checked here
        unless ``resolved`` (``cem.train.run`` resolves the whole run config once)
    n_features, n_concepts, n_out : d, k and task logits (1 for binary tasks)
    supervised : (k,) which concepts have supervision (hidden concepts: False); default all
    pos_weight : (k,) BCE positive weights for imbalanced concepts (``concept_weights: balanced``)
    stage : first training stage (see module docstring)
    """

    def __init__(
        self,
        model: Mapping[str, Any],
        n_features: int,
        n_concepts: int,
        n_out: int = 1,
        supervised: Sequence[bool] | None = None,
        pos_weight: Sequence[float] | None = None,
        stage: str = "joint",
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
        self.automatic_optimization = False
        self.stage = stage
        variant = VARIANTS[model["name"]]
        self.alpha = float(model["concept_loss_weight"]) if variant.has_concepts else 0.0
        self.task_weight = float(model["task_loss_weight"])
        self.p_int = (
            float(model["training_intervention_prob"])
            if isinstance(self.net, ConceptEmbeddingModel)
            else 0.0
        )
        self.per_batch = model["intervention_granularity"] == "batch"
        sup = torch.ones(n_concepts) if supervised is None else torch.as_tensor(supervised).float()
        self.register_buffer("supervised", sup, persistent=False)
        pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32)
        self.register_buffer("pos_weight", pw, persistent=False)
        self._plain_concept_loss = pw is None and bool(sup.all())
        self._outputs: list[tuple[ConceptOutput, torch.Tensor, torch.Tensor]] = []
        self.loss_history: dict[str, list[float]] = {}  # stage -> mean training loss per epoch

    # ---- stage ----
    @property
    def stage(self) -> str:
        return self._stage

    @stage.setter
    def stage(self, value: str) -> None:
        if value not in STAGES:
            raise unknown("stage", value, STAGES)
        self._stage = value
        # Second stages train c2y alone on a frozen extractor.
        frozen = value in ("task_predicted", "task_true")
        for p in self.net.concept_parameters():
            p.requires_grad_(not frozen)

    # ---- loss ----
    def concept_loss(self, c_logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Mean BCE over supervised concepts: c_logits, c (B, k)."""
        if self._plain_concept_loss:  # every concept supervised, unweighted: the plain mean
            return F.binary_cross_entropy_with_logits(c_logits, c)
        bce = F.binary_cross_entropy_with_logits(
            c_logits, c, pos_weight=self.pos_weight, reduction="none"
        )
        return (bce * self.supervised).sum() / (self.supervised.sum() * len(c))

    def task_loss(self, y_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """BCE for a binary task (y_logits (B, 1)), cross-entropy for (B, C)."""
        if y_logits.shape[1] == 1:
            return F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.to(y_logits.dtype))
        return F.cross_entropy(y_logits, y)

    def loss(self, out: ConceptOutput, c: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.stage == "concepts":
            return self.concept_loss(out.c_logits, c)
        loss = self.task_weight * self.task_loss(out.y_logits, y)
        if self.stage == "joint" and self.alpha > 0 and out.c_logits is not None:
            loss = loss + self.alpha * self.concept_loss(out.c_logits, c)
        return loss

    # ---- training ----
    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        return self.net(x, c_int, mask)

    def _train_intervention(self, c: torch.Tensor) -> torch.Tensor | None:
        if self.stage == "task_true":
            return torch.ones_like(c, dtype=torch.bool)  # independent CBM: c2y reads true concepts
        if self.p_int > 0 and self.stage == "joint":
            # RandInt: each concept is replaced by its true value with probability p_int.
            shape = (1, c.shape[1]) if self.per_batch else c.shape
            return (torch.rand(shape, device=c.device) < self.p_int).expand_as(c)
        return None

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
        for x, c, y in batches:
            mask = self._train_intervention(c)
            out = self.net(x, c if mask is not None else None, mask)
            loss = self.loss(out, c, y)
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
        net = self.net
        dm = getattr(self.trainer, "datamodule", None)
        if isinstance(net, ConceptBottleneckModel) and net.bottleneck == "logit" and dm is not None:
            net.set_intervention_logits(dm.tensors["train"][0].to(self.device))

    def configure_optimizers(self) -> Any:
        if self.stage == "concepts":
            params = self.net.concept_parameters()
        elif self.stage in ("task_predicted", "task_true"):
            params = self.net.head_parameters()
        else:
            params = list(self.net.parameters())
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
