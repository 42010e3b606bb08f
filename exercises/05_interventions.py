# %% [markdown]
# # Exercise 5 — Interventions
#
# A concept model explains its prediction through its concepts, and that opens a door: at test
# time a person who knows the true value of a concept can **intervene** — overwrite the model's
# predicted concept with the truth — and the label predictor then works from the corrected
# concepts. This is the selling point of concept models: a doctor who sees that the model got a
# concept wrong fixes it, and the diagnosis should improve.
#
# An intervention on concept `i` of a sample puts a value into the bottleneck in place of the
# model's prediction:
#
# - **Sigmoid CBM** (Koh et al., 2020): the label predictor reads the probabilities
#   `p̂ = σ(ĉ)`; an intervention replaces `p̂_i` by the true value `c_i ∈ {0, 1}`;
# - **CEM** (Espinosa Zarlenga et al., 2022): the label predictor reads the mixed embeddings
#   `p̂_i·ĉ⁺_i + (1 − p̂_i)·ĉ⁻_i`; an intervention sets `p̂_i := c_i`, so the embedding becomes
#   exactly the positive `ĉ⁺_i` or the negative `ĉ⁻_i` one.
#
# A **correct** intervention puts in `c_i`, an **incorrect** one the flipped value `1 − c_i`
# (a person who is wrong). You will measure both on **Trig**, whose concept-only ceiling you
# found in exercise 2 (81.8 %), and find something that surprises most people: correcting
# concepts can make a model *worse*.
#
# **You will**: write an intervention by hand, then the accuracy curve over 0 … k intervened
# concepts, run both on CEM and the Sigmoid CBM, and explain what you see.
#
# *Time: about 30 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import torch

from cem.exercises import budget, check, setup
from cem.train import run

setup("05_interventions")

# %% [markdown]
# ## Two models on Trig
#
# `run` trains a model from a config dict (as in exercise 2). The evaluation extras (intervention
# curves, alignment, impurity) are switched off: you compute the interventions yourself. Both
# models see the same data and seed; this takes about a minute at the full budget.

# %%
EPOCHS = {"cbm_sigmoid": budget(full=500, fast=100), "cem": budget(full=500, fast=20)}
# Small networks train as fast on the CPU as on a GPU, and their tensors stay NumPy-ready.
quiet = {"interventions": False, "alignment": False, "impurity": False}
nets = {}
for model, epochs in EPOCHS.items():
    result = run(
        {
            "dataset": {"name": "trig"},
            "model": {"name": model},
            "trainer": {"max_epochs": epochs, "accelerator": "cpu", "progress": "none"},
            "evaluation": quiet,
            "seed": 42,
        }
    )
    nets[model] = result.module.net
    print(
        f"{model:12s} task accuracy {result.metrics['test/task_acc']:.1%}, "
        f"concept accuracy {result.metrics['test/concept_acc']:.1%}"
    )
test = result.datamodule.tensors["test"]  # the same Trig test split for both models
x, c, y = test
print("x", tuple(x.shape), " c", tuple(c.shape), c.dtype, " y", tuple(y.shape), y.dtype)

# %% [markdown]
# Both models beat the 81.8 % ceiling: their label predictors use more than the three binary
# concepts. Keep that in mind.
#
# ## One intervention
#
# Every network of the library takes the intervention in its forward pass:
#
# ```python
# out = net(x, c_int, mask)   # x (N, d); c_int (N, k) values to put in; mask (N, k) bool
# out.y_logits                # (N, 1): the task logit, label 1 when sigmoid(logit) >= 0.5
# out.c_logits                # (N, k): the predicted concept logits (before the intervention)
# ```
#
# Where `mask[n, i]` is True, concept `i` of sample `n` is replaced by `c_int[n, i]`; elsewhere the
# model keeps its own prediction. `net(x)` alone is the model without intervention.
#
# **Task 1.** Write `intervene(net, x, c, y, concepts, incorrect=False)`: intervene on the
# concepts listed in `concepts` (e.g. `[0, 2]`) for **every** sample — with the true values `c`,
# or with `1 - c` when `incorrect` — and return the task accuracy as a float in [0, 1]. The
# checker compares it with the library's `evaluate_intervention` on both models. (Good habits:
# `torch.no_grad()` as you do not train, and do not change `c` in place.)


# %%
def intervene(net, x, c, y, concepts, incorrect=False) -> float:
    # BEGIN SOLUTION: set the chosen concepts of every sample to c (or 1 - c); return the accuracy
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    values = 1 - c if incorrect else c
    with torch.no_grad():
        out = net(x, values, mask)
    predicted = (torch.sigmoid(out.y_logits[:, 0]) >= 0.5).long()
    return (predicted == y).float().mean().item()
    # END SOLUTION


check.intervene_function(intervene, nets, test)

# %%
for model, net in nets.items():
    print(
        f"{model:12s} none {intervene(net, x, c, y, []):.1%}   "
        f"concept 0 corrected {intervene(net, x, c, y, [0]):.1%}   "
        f"concept 0 wrong {intervene(net, x, c, y, [0], incorrect=True):.1%}"
    )

# %% [markdown]
# ## The intervention curve
#
# How does the accuracy change as a person corrects more and more concepts? The usual plot puts
# the number of intervened concepts `n = 0, 1, …, k` on the x-axis. Which `n` concepts? The
# library's *random* policy draws a fresh random order of the concepts for every sample and
# intervenes on the first `n`. Each sample's `n` concepts are then a uniformly random set of
# `n`, so the **expected** accuracy is exactly the mean over every set of `n` concepts:
#
# $$\text{acc}(n) = \frac{1}{\binom{k}{n}} \sum_{S \subseteq \{0..k-1\},\ |S| = n}
# \text{intervene}(S).$$
#
# With `k = 3` there are only 1 + 3 + 3 + 1 sets, so you can compute it exactly.
#
# **Task 2.** Write `curve(net, x, c, y, incorrect=False)`: the list of the `k + 1` accuracies
# `acc(0), …, acc(k)`. (`itertools.combinations(range(k), n)` gives every set of `n` concepts.)


# %%
def curve(net, x, c, y, incorrect=False) -> list[float]:
    # BEGIN SOLUTION: acc(n) for n = 0..k, each the mean of intervene over every set of n concepts
    k = c.shape[1]
    accuracies = []
    for n in range(k + 1):
        sets = combinations(range(k), n)
        accuracies.append(np.mean([intervene(net, x, c, y, list(s), incorrect) for s in sets]))
    return accuracies
    # END SOLUTION


check.curve_function(curve, nets, test)

# %% [markdown]
# Now the four curves: each model, correct (solid) and incorrect (dashed) interventions. The
# dotted line is Trig's concept-only ceiling on this test split.

# %%
from cem.data.stats import concept_ceiling

ceiling = concept_ceiling(c.numpy(), y.numpy())
curves = {
    model: {"correct": curve(net, x, c, y), "incorrect": curve(net, x, c, y, incorrect=True)}
    for model, net in nets.items()
}
fig, ax = plt.subplots(figsize=(6, 4))
colours = {"cem": "tab:blue", "cbm_sigmoid": "tab:red"}  # as in the library's report plots
for model, kinds in curves.items():
    n, colour = np.arange(len(kinds["correct"])), colours[model]
    ax.plot(n, 100 * np.array(kinds["correct"]), "o-", color=colour, label=f"{model}, correct")
    ax.plot(n, 100 * np.array(kinds["incorrect"]), "o--", color=colour, label=f"{model}, incorrect")
ax.axhline(100 * ceiling, color="grey", ls=":", label="concept-only ceiling")
ax.set(xlabel="intervened concepts n", ylabel="test task accuracy (%)", xticks=n)
ax.legend(fontsize="small")
plt.show()
for model, kinds in curves.items():
    for kind, values in kinds.items():
        print(f"{model:12s} {kind:9s}", "  ".join(f"{v:.1%}" for v in values))

# %% [markdown]
# The library computes the same curves during `cem-train` (the evaluation's `interventions`
# extra, with the random, uncertainty and optimal-greedy policies). Its random policy *samples*
# five orders per sample, so it lands close to your exact mean, not on it:

# %%
from cem.interventions import intervention_curve

for model, net in nets.items():
    library = intervention_curve(net, x, c, y, policy="random")["task_acc"]
    print(f"{model:12s} library (random, 5 orders)", "  ".join(f"{v:.1%}" for v in library))

# %% [markdown]
# **Task 3.** Read the curves.
#
# `loses_when_corrected` — which model is *less* accurate with every concept corrected than with
# none? **a** — CEM, **b** — the Sigmoid CBM, **c** — both, **d** — neither.
#
# `hurt_more_by_incorrect` — which model loses more accuracy when every concept is set to the
# wrong value? **a** — CEM, **b** — the Sigmoid CBM, **c** — about the same (within a point).

# %%
loses_when_corrected = "b"  # SOLUTION
hurt_more_by_incorrect = "b"  # SOLUTION
check.intervention_effects(loses_when_corrected, hurt_more_by_incorrect, curves)

# %% [markdown]
# ## Where does the Sigmoid CBM's accuracy come from?
#
# Trig's first input is `x₀ = sin a + a`, which grows with the latent `a` (its slope `1 + cos a`
# is never negative). If a model's probability for concept 0 (`a > 0`) were only its belief that
# `a > 0`, it would rise from 0 to 1 along `x₀`, whatever the label. Look at each model's
# probabilities — where they lie between 0 and 1, and their colours (the label `y`):

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, (model, net) in zip(axes, nets.items(), strict=True):
    with torch.no_grad():
        p0 = torch.sigmoid(net(x).c_logits[:, 0])
    ax.scatter(x[:, 0], p0, c=y, cmap="coolwarm", s=6)
    ax.set(xlabel="x₀ = sin a + a", title=f"{model}: p̂ of concept 0, colour = y")
axes[0].set_ylabel("predicted probability of a > 0")
plt.show()

# %% [markdown]
# And per concept pattern: all samples of one pattern have the *same* true concepts, so a
# function of the true concepts can at best get the pattern's majority label right. How does
# each model do inside the patterns, without intervention and with every concept corrected?

# %%
patterns, index = np.unique(c.numpy(), axis=0, return_inverse=True)
index = index.reshape(-1)
right = {}  # model -> (right without intervention, right with every concept corrected), (N,)
for model, net in nets.items():
    with torch.no_grad():
        plain = torch.sigmoid(net(x).y_logits[:, 0]) >= 0.5
        every = torch.ones_like(c, dtype=torch.bool)
        fixed = torch.sigmoid(net(x, c, every).y_logits[:, 0]) >= 0.5
    right[model] = ((plain.long() == y).numpy(), (fixed.long() == y).numpy())
columns = [f"{m}: {kind}" for m in nets for kind in ("none", "all fixed")]
print(f"{'pattern':10s}{'n':>4s}{'majority':>10s}" + "".join(f"{h:>24s}" for h in columns))
for p, pattern in enumerate(patterns):
    inside = index == p
    share = np.mean(y.numpy()[inside])
    cells = [right[m][i][inside].mean() for m in nets for i in (0, 1)]
    label = str(tuple(int(v) for v in pattern))
    majority = max(share, 1 - share)
    print(f"{label:10s}{inside.sum():4d}{majority:10.0%}" + "".join(f"{v:24.0%}" for v in cells))

# %% [markdown]
# **Question.** CEM hardly notices even *wrong* interventions on Trig: its dashed curve stays
# high. Is that good news for a person who wants to correct the model? What does it tell you
# about where CEM's label predictor gets its information from? Two or three sentences.

# %% [markdown] tags=["solution"]
# Only partly. CEM's positive and negative embeddings are both computed from `x`, so each of them
# still carries what the label predictor needs beyond the concept's truth value (how far `a`,
# `b`, `z` are from 0); an intervention only chooses which of the two is used. On Trig the label
# predictor leans on that extra information more than on the choice, so a wrong value costs
# little — and, for the same reason, a right value cannot add much (CEM is already at ~99 %). A
# person gets a model that is robust to their mistakes but that they can steer only as far as
# the concepts matter for its prediction. The Sigmoid CBM is the opposite extreme: its
# bottleneck holds nothing but the three numbers, so an intervention fully controls what the
# label predictor sees — which makes wrong values disastrous and, because its probabilities were
# leaking information, even right values costly.
