# %% [markdown]
# # Exercise 2 — Concept completeness
#
# A Concept Bottleneck Model predicts the concepts first and the task *only from them*. So before
# training anything, ask the data: **how well can any function of the true concepts predict the
# label?** That number is the dataset's *concept-only ceiling*. When it is 100 % the concepts are
# *complete* for the task; when it is lower, a model that squeezes everything through the
# concepts cannot reach full accuracy, however well it predicts them.
#
# **You will**: write the ceiling in a few lines of NumPy, measure it on XOR, Trigonometry and
# Dot, find where it fails, and see models meet (or beat) it.
#
# *Time: about 25 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
import numpy as np

from cem.data import get_spec, paper
from cem.exercises import budget, check, setup

setup("02_completeness")

# %% [markdown]
# ## The best function of the concepts
#
# A function `f(c)` of `k` binary concepts can only give one answer per **concept pattern** (a
# row of `c`, e.g. `(1, 0, 1)`). Within one pattern, the answer that is right most often is the
# pattern's most common label. So the best `f` predicts, for each pattern, its majority label,
# and its accuracy is
#
# $$\text{ceiling} = \frac{1}{n}\sum_{\text{patterns } p} \max_{y}\ \#\{i : c_i = p,\ y_i = y\}.$$
#
# **Task 1.** Write `concept_ceiling(c, y)` for `c` of shape `(n, k)` and `y` of shape `(n,)`,
# both 0/1 arrays. Return a fraction in `[0, 1]`. (Hint: `np.unique(c, axis=0,
# return_inverse=True)` numbers the patterns.)


# %%
def concept_ceiling(c: np.ndarray, y: np.ndarray) -> float:
    # BEGIN SOLUTION: return the accuracy of predicting each pattern's majority label
    _, pattern = np.unique(c, axis=0, return_inverse=True)
    pattern = pattern.reshape(-1)
    right = 0
    for p in np.unique(pattern):
        labels = y[pattern == p]
        right += max(np.sum(labels == 0), np.sum(labels == 1))
    return right / len(y)
    # END SOLUTION


check.ceiling_function(concept_ceiling)

# %% [markdown]
# **Task 2.** Measure the ceiling of XOR, Trig and Dot on the paper's **test** splits
# (`paper(name)["test"]`), as a dict of fractions.

# %%
# BEGIN SOLUTION: a dict {"xor": ..., "trig": ..., "dot": ...} of test-split ceilings
# STUDENT: ceilings = ...
ceilings = {}
for name in ("xor", "trig", "dot"):
    test = paper(name)["test"]
    ceilings[name] = concept_ceiling(test.c, test.y)
# END SOLUTION
check.ceilings(ceilings)
for name, value in ceilings.items():
    print(f"{name:5s} ceiling {value:.1%}")

# %% [markdown]
# ## Where does Trig lose?
#
# Trig's concepts are the signs of three latents `a, b, z`, and its task is `a + b + z > 1`:

# %%
print(get_spec("trig").formula)
test = paper("trig")["test"]
patterns, index = np.unique(test.c, axis=0, return_inverse=True)
index = index.reshape(-1)
print("pattern (a>0, b>0, z>0)   y=0   y=1")
for p, row in enumerate(patterns):
    labels = test.y[index == p]
    print(f"{tuple(int(v) for v in row)!s:24s} {np.sum(labels == 0):5d} {np.sum(labels == 1):5d}")

# %% [markdown]
# **Task 3.** Which pattern costs the best concept-only guess the most errors? Give it as a
# tuple, e.g. `(0, 0, 1)` (any of the tied ones).

# %%
pattern = (0, 1, 1)  # SOLUTION
check.trig_worst_pattern(pattern)

# %% [markdown]
# **Task 4.** Why are the Trig and Dot ceilings below 100 %?
#
# - **a** — the concept labels are noisy: some are flipped at random
# - **b** — samples with the same concept pattern can have different labels: the task uses
#   information that the binary concepts do not keep
# - **c** — the label predictor is too small to learn the task
# - **d** — the test split is too small to measure the ceiling

# %%
answer = "b"  # SOLUTION
check.why_incomplete(answer)

# %% [markdown]
# ## Models against the ceiling
#
# `cem.train.run` trains any model of the library from a config dict (the same code path as the
# `cem-train` command). Train a **Bool CBM** (its label predictor reads hard 0/1 concepts) and a
# **CEM** (it reads concept embeddings) on Trig, and compare their test accuracy with the ceiling.

# %%
from cem.train import run

EPOCHS = budget(full=300, fast=15)
# Small networks train as fast on the CPU as on a GPU, and their outputs stay NumPy-ready;
# the library's extra evaluations (interventions, CAS, impurity) are off to save time.
quiet = {"interventions": False, "alignment": False, "impurity": False}
accuracy = {}
for model in ("cbm_bool", "cem"):
    result = run(
        {
            "dataset": {"name": "trig"},
            "model": {"name": model},
            "trainer": {"max_epochs": EPOCHS, "accelerator": "cpu", "progress": "none"},
            "evaluation": quiet,
            "seed": 0,
        }
    )
    accuracy[model] = result.metrics["test/task_acc"]
    print(f"{model:9s} test task accuracy {accuracy[model]:.1%}  (ceiling {ceilings['trig']:.1%})")

# %% [markdown]
# **Question.** The Bool CBM lands near the ceiling — sometimes a little above it. How can a
# model that reads only (predicted) binary concepts beat the best function of the *true*
# concepts? And how does CEM get past it? Two or three sentences.

# %% [markdown] tags=["solution"]
# The Bool CBM reads its *predicted* concepts, not the true ones. Its mistakes are not random:
# near a concept's boundary (a latent close to 0) it may flip a concept exactly where flipping
# helps the task, so a function of the predicted concepts can do slightly better than any
# function of the true ones. It stays close to the ceiling because the task head sees only
# three bits. CEM passes an embedding per concept to its label predictor, which keeps
# information beyond the concept's truth value (here, how far each latent is from 0), so it
# reaches ~98 % — at full budget — well past the 81.8 % ceiling.
