# %% [markdown]
# # Exercise 4 — A CEM from scratch
#
# In a CBM each concept passes through the bottleneck as **one number**. Exercise 2 showed that
# Trig's concepts do not hold all the information the task needs, and exercise 3 that a Sigmoid
# CBM gets past that limit only by hiding information in its concept probabilities, at the
# concepts' expense.
#
# A **Concept Embedding Model** (CEM; Espinosa Zarlenga et al., NeurIPS 2022) gives every concept
# two vectors instead: an embedding for "the concept is on" and one for "the concept is off". The
# model predicts a probability for the concept and passes on a **mixture** of the two vectors,
# weighted by that probability. The vectors can carry more than the concept's truth value, while
# the probability stays a plain concept score that a person can read and overwrite.
#
# **You will**: write a CEM in plain torch (embeddings, the shared scorer, the mixture and
# interventions), the random training interventions that the paper calls *RandInt*, and a
# training loop that uses them. Each check compares your code with the library's `cem` model,
# with the library's weights copied into yours.
#
# *Time: about 35 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
import torch
from torch import nn
from torch.nn import functional as F

from cem.data import paper
from cem.exercises import budget, check, setup

setup("04_cem_from_scratch")

trig = paper("trig")


def tensors(split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x (n, 7) float32, c (n, 3) float32 in {0, 1}, y (n,) int64 in {0, 1}."""
    s = trig[split]
    x = torch.tensor(s.x, dtype=torch.float32)
    return x, torch.tensor(s.c, dtype=torch.float32), torch.tensor(s.y)


x_train, c_train, y_train = tensors("train")
x_test, c_test, y_test = tensors("test")
print("x", tuple(x_train.shape), " c", tuple(c_train.shape), " y", tuple(y_train.shape))

# %% [markdown]
# ## The model
#
# With `d` inputs, `k` concepts and embeddings of size `m`:
#
# 1. **extractor**: $h = $ `Linear(d, 128) → LeakyReLU → Linear(128, 128) → LeakyReLU →
#    Linear(128, 128)`, a shared representation of `x` (128 numbers, not `k` logits as in the
#    CBM).
# 2. **concept embeddings**: for each concept $i$ its own `Linear(128, 2m)` followed by a
#    LeakyReLU. The first `m` outputs are the positive embedding $\hat c^+_i$ ("on"), the last
#    `m` the negative one $\hat c^-_i$ ("off").
# 3. **shared scorer**: *one* `Linear(2m, 1)` $s$, the same for every concept, scores each
#    concept from its two embeddings: $\text{logit}_i = s([\hat c^+_i; \hat c^-_i])$ and
#    $\hat p_i = \sigma(\text{logit}_i)$.
# 4. **mixture**: $\hat c_i = \hat p_i\, \hat c^+_i + (1 - \hat p_i)\, \hat c^-_i$ (`m`
#    numbers).
# 5. **label predictor** `c2y`: one `Linear(k·m, 1)` on the concatenation
#    $[\hat c_1, \hat c_2, \dots, \hat c_k]$.
#
# An **intervention** replaces a concept's probability by its true value, $\hat p_i := c_i$: the
# mixture then becomes exactly $\hat c^+_i$ (when $c_i = 1$) or $\hat c^-_i$ (when $c_i = 0$).
# `forward(x, c_true, mask)` intervenes on the concepts where the boolean `mask` is True;
# `c_logits` stays the model's own prediction, from before the intervention.
#
# The paper uses `m = 128`; this exercise uses `m = 16`, which is plenty for three concepts and
# trains faster.
#
# **Task 1.** Complete `CEM`. Keep the attribute names: the check copies the library's weights
# into `extractor`, `concept_layers` (an `nn.ModuleList` of `k` layers `Linear(128, 2m)`),
# `scorer` and `c2y`. Shapes are in the comments. The check builds `CEM(7, 3, 16)` and
# `CEM(4, 2, 5)` and compares their outputs with the library's, without and with a mask.


# %%
class CEM(nn.Module):
    """x (B, d) -> (c_logits (B, k), y_logits (B, 1)), with optional interventions."""

    def __init__(self, n_features: int, n_concepts: int, emb_size: int, hidden: int = 128) -> None:
        super().__init__()
        self.m = emb_size
        # BEGIN SOLUTION: self.extractor = nn.Sequential(...), the five layers of step 1
        # STUDENT: self.extractor = ...
        self.extractor = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
        )
        # END SOLUTION
        # BEGIN SOLUTION: self.concept_layers = nn.ModuleList of n_concepts Linear(hidden, 2m)
        # STUDENT: self.concept_layers = ...
        layers = [nn.Linear(hidden, 2 * emb_size) for _ in range(n_concepts)]
        self.concept_layers = nn.ModuleList(layers)
        # END SOLUTION
        self.scorer = nn.Linear(2 * emb_size, 1)  # SOLUTION
        self.c2y = nn.Linear(n_concepts * emb_size, 1)  # SOLUTION

    def forward(
        self,
        x: torch.Tensor,
        c_true: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """c_true: (B, k) float 0/1 and mask: (B, k) bool, or None for no intervention."""
        h = self.extractor(x)  # (B, 128)
        # each concept's [ĉ⁺_i; ĉ⁻_i] after its layer and a LeakyReLU, stacked: (B, k, 2m)
        e = torch.stack([F.leaky_relu(f(h)) for f in self.concept_layers], dim=1)  # SOLUTION
        # the positive and the negative embeddings, each (B, k, m)
        pos, neg = e[..., : self.m], e[..., self.m :]  # SOLUTION
        # the shared scorer on every concept at once (a Linear acts on the last axis): (B, k)
        c_logits = self.scorer(e).squeeze(-1)  # SOLUTION
        p = torch.sigmoid(c_logits)
        if mask is not None:
            # the intervention: the true value wherever mask is True (torch.where), (B, k)
            p = torch.where(mask, c_true, p)  # SOLUTION
        # the mixture, (B, k, m): p needs a last axis of size 1 to broadcast
        mixed = p.unsqueeze(-1) * pos + (1 - p.unsqueeze(-1)) * neg  # SOLUTION
        # c2y on the k mixed embeddings side by side, (B, k·m) -> (B, 1)
        y_logits = self.c2y(mixed.flatten(1))  # SOLUTION
        return c_logits, y_logits


check.cem_forward(CEM)

# %% [markdown]
# ## RandInt: interventions during training
#
# A CEM is meant to be corrected at test time. But a label predictor that has only ever seen the
# model's own probabilities has never learned what to do with a corrected one. **RandInt**
# fixes that: during training, each concept of each sample is intervened on (its true value put
# in place of $\hat p_i$) with probability $p_\text{int} = 0.25$, drawn afresh for every batch.
#
# **Task 2.** Write `randint_mask(c, p)`: a `(B, k)` **bool** tensor, True with probability `p`,
# independently for every sample and concept (not one draw for the whole batch). Draw with torch
# (`torch.rand`), so that `torch.manual_seed` makes training reproducible.


# %%
def randint_mask(c: torch.Tensor, p: float) -> torch.Tensor:
    """c: (B, k) true concepts (only their shape matters) -> (B, k) bool."""
    # BEGIN SOLUTION: one uniform number per sample and concept, compared with p
    return torch.rand(c.shape) < p
    # END SOLUTION


check.randint_mask(randint_mask)

# %% [markdown]
# ## Training with RandInt
#
# The loop is exercise 3's (Adam, learning rate 0.01, batches of 256, a fresh shuffle every
# epoch) with the same joint loss, given here. Only the RandInt step is yours.
#
# **Task 3.** In each step, draw the batch's mask with `randint_mask(c[batch], p_int)` and run
# the model with the batch's true concepts and that mask. The check trains your loop with
# `p_int = 0` and `p_int = 1` for a few exact steps (they must give the library's weights), then
# 10 epochs on Trig beside the library's CEM: it watches the masks your loop passes, and the test
# accuracies must agree within a few points.


# %%
def joint_loss(
    c_logits: torch.Tensor, y_logits: torch.Tensor, c: torch.Tensor, y: torch.Tensor, alpha: float
) -> torch.Tensor:
    """Exercise 3's loss: alpha · concept BCE + task BCE, both from logits."""
    concept = F.binary_cross_entropy_with_logits(c_logits, c)
    return alpha * concept + F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float())


def train_cem(
    model: nn.Module,
    x: torch.Tensor,
    c: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float = 0.01,
    alpha: float = 1.0,
    batch_size: int = 256,
    seed: int = 0,
    p_int: float = 0.25,
) -> list[float]:
    """Train ``model`` in place with RandInt; returns each epoch's mean training loss."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            # BEGIN SOLUTION: the batch's RandInt mask, then the model on x, true concepts, mask
            # STUDENT: c_logits, y_logits = ...
            mask = randint_mask(c[batch], p_int)
            c_logits, y_logits = model(x[batch], c[batch], mask)
            # END SOLUTION
            loss = joint_loss(c_logits, y_logits, c[batch], y[batch], alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x))
    return losses


check.cem_training(CEM, train_cem)

# %% [markdown]
# ## Train it
#
# Train your CEM for the course's budget and measure it on the test split: without
# interventions, and with every concept intervened on (`mask` all True, the true concepts in
# place).

# %%
EPOCHS = budget(full=100, fast=10)

torch.manual_seed(0)
model = CEM(7, 3, 16)
losses = train_cem(model, x_train, c_train, y_train, EPOCHS)


def task_accuracy(y_logits: torch.Tensor) -> float:
    return ((y_logits.squeeze(1) > 0).long() == y_test).float().mean().item()


with torch.no_grad():
    c_logits, y_logits = model(x_test)
    all_on = torch.ones_like(c_test, dtype=torch.bool)
    _, y_intervened = model(x_test, c_test, all_on)
concept_acc = ((c_logits > 0).float() == c_test).float().mean().item()
print(f"your CEM after {EPOCHS} epochs: final training loss {losses[-1]:.3f}")
print(f"  test task accuracy {task_accuracy(y_logits):.1%}, concept accuracy {concept_acc:.1%}")
print(f"  task accuracy with every concept intervened on: {task_accuracy(y_intervened):.1%}")

# %% [markdown]
# For comparison, the library's CEM with the same settings through `cem.train.run` (it adds a
# learning-rate schedule and validation, and draws its own random weights and masks):

# %%
from cem.train import run

# Small networks train as fast on the CPU as on a GPU; the library's extra evaluations are off.
quiet = {"interventions": False, "alignment": False, "impurity": False}
result = run(
    {
        "dataset": {"name": "trig"},
        "model": {"name": "cem", "emb_size": 16},
        "trainer": {"max_epochs": EPOCHS, "accelerator": "cpu", "progress": "none"},
        "evaluation": quiet,
        "seed": 0,
    }
)
m = result.metrics
print(f"library: test task accuracy {m['test/task_acc']:.1%}, concept {m['test/concept_acc']:.1%}")

# %% [markdown]
# **Question.** Trig's concept-only ceiling is 81.8 % (exercise 2). Your CEM goes well past it
# and, unlike exercise 3's Sigmoid CBM at the full budget, keeps its concept accuracy high.
# Where does the information beyond the concepts travel in a CEM, and what happens to it when
# you intervene on a concept? Why does the model need RandInt for interventions to work? Three or
# four sentences.

# %% [markdown] tags=["solution"]
# It travels in the embeddings: $\hat c^+_i$ and $\hat c^-_i$ are `m` numbers each, computed
# from `x`, so they can carry what the task needs beyond the concept's truth value (for Trig, how
# far `a`, `b`, `z` are from 0), and the probability $\hat p_i$ does not have to smuggle it —
# it can stay an honest concept score. An intervention sets $\hat p_i := c_i$, which picks
# $\hat c^+_i$ or $\hat c^-_i$: the concept's value is corrected, and the information inside the
# chosen embedding is kept (which is why intervening on every concept does not cost accuracy
# here). Without RandInt the label predictor only ever sees mixtures weighted by the model's own
# $\hat p_i$, so it never learns to rely on the concept probabilities, and a corrected one at test
# time may change little or in the wrong way; RandInt shows it the exact $\hat c^+_i$ /
# $\hat c^-_i$ that an intervention produces, with the true value, a quarter of the time.
