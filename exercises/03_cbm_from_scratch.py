# %% [markdown]
# # Exercise 3 — A joint CBM from scratch
#
# A **Concept Bottleneck Model** (CBM; Koh et al., ICML 2020) is a network cut in two: a
# *concept extractor* maps the input `x` to one score per concept, and a *label predictor* sees
# **only** those scores when it predicts the task `y`. Because the concepts sit in the middle, a
# person can read them, and correct them ("intervene") before the label is predicted.
#
# A **joint** CBM trains both halves at once with one loss: a concept term (are the concepts
# right?) plus a task term (is the label right?). Here you write the CEM paper's *Sigmoid*
# ("Fuzzy") joint CBM in plain torch — the forward pass, the loss and the training loop — and
# train it on Trig. Each check compares your code with the library's `cbm_sigmoid` model: it
# copies the library's weights into your module and compares the outputs, then trains both from
# the same start and compares their accuracy.
#
# *Time: about 30 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F

from cem.data import get_spec, paper
from cem.exercises import budget, check, setup

setup("03_cbm_from_scratch")

# %% [markdown]
# ## The data
#
# Trig (exercise 2): 7 inputs computed from three hidden numbers `a, b, z`; the concepts are their
# signs; the task is `a + b + z > 1`. The library trains on float32 inputs, float32 concepts in
# {0, 1} and int64 labels in {0, 1}; so will you.

# %%
print(get_spec("trig").formula)
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
# The paper's CBM for the synthetic datasets, with `d` inputs and `k` concepts:
#
# - **concept extractor** `Linear(d, 128) → LeakyReLU → Linear(128, 128) → LeakyReLU →
#   Linear(128, k)`. Its `k` outputs $\hat c$ are the concept **logits**: $\sigma(\hat c_i)$ is
#   the predicted probability that concept $i$ is on.
# - **bottleneck**: the Sigmoid CBM hands the probabilities $\sigma(\hat c) \in (0, 1)^k$ to the
#   label predictor. (The *Bool* CBM would hand over hard 0/1 values, the *Logit* CBM the logits.)
# - **label predictor** `c2y`: one `Linear(k, 1)`; its output $\hat y$ is the task logit.
#
# $$\hat c = \mathrm{extractor}(x), \qquad \hat y = \mathrm{c2y}\big(\sigma(\hat c)\big)$$
#
# **Task 1.** Complete `JointCBM`. Keep the attribute names `self.extractor` (an
# `nn.Sequential`) and `self.c2y`: the check copies the library's weights into them by name.
# `forward(x)` returns both **logits**, `(c_logits (B, k), y_logits (B, 1))`, with no sigmoid on
# what it returns (the loss applies it). The check builds `JointCBM(7, 3)` and `JointCBM(4, 2)`.


# %%
class JointCBM(nn.Module):
    """A joint Sigmoid CBM: x (B, d) -> (c_logits (B, k), y_logits (B, 1))."""

    def __init__(self, n_features: int, n_concepts: int, hidden: int = 128) -> None:
        super().__init__()
        # BEGIN SOLUTION: self.extractor = nn.Sequential(...), the five layers above
        # STUDENT: self.extractor = ...
        self.extractor = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, n_concepts),
        )
        # END SOLUTION
        self.c2y = nn.Linear(n_concepts, 1)  # SOLUTION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c_logits = self.extractor(x)  # SOLUTION
        y_logits = self.c2y(torch.sigmoid(c_logits))  # SOLUTION
        return c_logits, y_logits


check.cbm_forward(JointCBM)

# %% [markdown]
# ## The joint loss
#
# Both halves learn from one loss. For a batch of $B$ samples,
#
# $$L = \alpha \cdot \underbrace{\frac{1}{Bk}\sum_{b,i} \mathrm{BCE}\big(\sigma(\hat c_{bi}),
# c_{bi}\big)}_{\text{concepts}} + \underbrace{\frac{1}{B}\sum_{b}
# \mathrm{BCE}\big(\sigma(\hat y_b), y_b\big)}_{\text{task}}, \qquad
# \mathrm{BCE}(p, t) = -t \log p - (1 - t) \log (1 - p).$$
#
# `F.binary_cross_entropy_with_logits(logits, targets)` computes the mean of
# $\mathrm{BCE}(\sigma(\text{logits}), \text{targets})$ in one numerically safe step. The weight
# $\alpha$ trades the concepts against the task (the paper uses $\alpha = 1$; exercise 6 sweeps
# it).
#
# **Task 2.** Write `joint_loss`. Mind the shapes and types: `c_logits` and `c` are `(B, k)`
# floats, `y_logits` is `(B, 1)`, `y` is `(B,)` int64. Return the loss tensor itself (no
# `.item()`): the training loop calls `backward()` on it.


# %%
def joint_loss(
    c_logits: torch.Tensor, y_logits: torch.Tensor, c: torch.Tensor, y: torch.Tensor, alpha: float
) -> torch.Tensor:
    # BEGIN SOLUTION: alpha * (concept BCE) + (task BCE), both from logits, both averaged
    concept = F.binary_cross_entropy_with_logits(c_logits, c)
    task = F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float())
    return alpha * concept + task
    # END SOLUTION


check.cbm_loss(joint_loss)

# %% [markdown]
# ## The training loop
#
# The library trains with the paper's settings: Adam with learning rate 0.01, batches of 256,
# a fresh shuffle every epoch.
#
# **Task 3.** Write `train_cbm`. It trains `model` in place and returns the list of each epoch's
# mean training loss (one float per epoch). In the body:
#
# 1. make one `torch.optim.Adam(model.parameters(), lr=lr)`, before the loop;
# 2. every epoch, draw a new order `torch.randperm(n, generator=generator)` (the generator is
#    seeded, so the same `seed` gives the same batches) and cut it into batches of `batch_size`
#    (the last one may be smaller);
# 3. for each batch: forward, `joint_loss`, `zero_grad()`, `backward()`, `step()`;
# 4. at the end of the epoch append the mean loss over the samples.
#
# The check runs your loop three ways: a few full-batch steps from the library's initial weights
# (they must give exactly the library's weights), a tiny run that watches your batches, and 30
# epochs on Trig beside the library's network trained the same way (the test accuracies must
# agree within a few points).


# %%
def train_cbm(
    model: nn.Module,
    x: torch.Tensor,
    c: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float = 0.01,
    alpha: float = 1.0,
    batch_size: int = 256,
    seed: int = 0,
) -> list[float]:
    generator = torch.Generator().manual_seed(seed)  # draw every shuffle from it
    losses: list[float] = []
    # BEGIN SOLUTION: steps 1-4 above
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            c_logits, y_logits = model(x[batch])
            loss = joint_loss(c_logits, y_logits, c[batch], y[batch], alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x))
    # END SOLUTION
    return losses


check.cbm_training(JointCBM, train_cbm)

# %% [markdown]
# ## Train it
#
# Now train your CBM for the course's budget, once with $\alpha = 1$ and once with $\alpha = 0$
# (no concept loss at all), from the same initial weights, and measure both on the test split.
# Task accuracy thresholds $\sigma(\hat y)$ at 0.5; concept accuracy is the share of concepts
# with $\sigma(\hat c_i) > 0.5$ exactly when $c_i = 1$.

# %%
EPOCHS = budget(full=100, fast=30)


def accuracy(model: nn.Module) -> tuple[float, float]:
    """(task, concept) accuracy on the test split."""
    with torch.no_grad():
        c_logits, y_logits = model(x_test)
    task = ((y_logits.squeeze(1) > 0).long() == y_test).float().mean().item()
    concept = ((c_logits > 0).float() == c_test).float().mean().item()
    return task, concept


curves = {}
for alpha in (1.0, 0.0):
    torch.manual_seed(0)
    model = JointCBM(7, 3)
    curves[alpha] = train_cbm(model, x_train, c_train, y_train, EPOCHS, alpha=alpha)
    task, concept = accuracy(model)
    print(f"alpha = {alpha:g}: test task accuracy {task:.1%}, concept accuracy {concept:.1%}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, EPOCHS + 1), curves[1.0])
ax.set(xlabel="epoch", ylabel="mean training loss", title="joint loss, alpha = 1", yscale="log")
plt.show()

# %% [markdown]
# For comparison, the library's own `cbm_sigmoid` through `cem.train.run`, which adds a
# learning-rate schedule and validation around the same steps. `run` seeds torch with `seed`
# before it builds its network (whose layers are made in the same order as yours) and shuffles
# with a generator seeded the same way, so its numbers should agree closely with yours — when
# your loop follows the recipe, to the last digit.

# %%
from cem.train import run

# Small networks train as fast on the CPU as on a GPU; the library's extra evaluations are off.
quiet = {"interventions": False, "alignment": False, "impurity": False}
result = run(
    {
        "dataset": {"name": "trig"},
        "model": {"name": "cbm_sigmoid"},
        "trainer": {"max_epochs": EPOCHS, "accelerator": "cpu", "progress": "none"},
        "evaluation": quiet,
        "seed": 0,
    }
)
m = result.metrics
print(f"library: test task accuracy {m['test/task_acc']:.1%}, concept {m['test/concept_acc']:.1%}")

# %% [markdown]
# **Question.** Exercise 2 found that no function of Trig's true concepts can predict the label
# better than 81.8 %. At the full budget your $\alpha = 1$ CBM goes well past that, while its
# concept accuracy slips below what it was after the check's 30 epochs; with $\alpha = 0$ it
# learns the task just as well, but its "concepts" no longer match the true ones. What travels
# through the bottleneck besides the concepts, and what does that mean for reading (or
# correcting) a Sigmoid CBM's concepts? Two or three sentences.

# %% [markdown] tags=["solution"]
# The bottleneck holds probabilities, real numbers, not bits: the joint loss rewards the
# extractor for putting task information into *how* confident each probability is (for Trig, how
# far `a`, `b`, `z` are from 0), which is how the CBM beats a function of the true concepts. This
# *leakage* grows with training, at the concepts' expense; with $\alpha = 0$ nothing ties the
# three units to the concepts at all, and they are just a narrow hidden layer. So a Sigmoid CBM's
# concept scores are not a faithful summary of what the label predictor uses, and setting a
# concept to a clean 0 or 1 (an intervention) also erases the hidden information it carried —
# exercise 5 measures that.
