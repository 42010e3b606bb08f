# %% [markdown]
# # Exercise 1 — Dot: which parts of the plane?
#
# Concept Bottleneck Models (CBMs) and Concept Embedding Models (CEMs) are trained on data where
# every sample comes with human **concepts** `c` as well as a task label `y`. Real concept labels
# are expensive, so the CEM paper (Espinosa Zarlenga et al., NeurIPS 2022) benchmarks on three
# synthetic datasets whose concepts are known exactly: **XOR**, **Trigonometry** and **Dot**.
#
# The course's warm-up question is about Dot: *"Which parts of the plane does the Dot dataset
# divide?"* (a poll with the answers 1, 2, 3 and 4 — the readers' votes split 42 / 16 / 26 / 16 %,
# so it is not obvious). Here you answer it from the data, after a warm-up on XOR.
#
# **You will**: generate the datasets, recover Dot's hidden vectors from its inputs, plot them
# and say what each concept and the task ask about them. Each task ends with a `check.…` call
# that tells you whether your answer is right, and gives a hint when it is not.
#
# *Time: about 20 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
# On Colab, install cem-bench first (uncomment):  !pip install "cem-bench @ <path or git URL>"
import matplotlib.pyplot as plt
import numpy as np

from cem.data import get_spec, paper
from cem.exercises import check, setup

setup("01_dot_regions")

# %% [markdown]
# ## Warm-up: XOR
#
# `paper(name)` regenerates the paper's exact splits (2100 train, 300 validation, 600 test).
# Each split holds inputs `x (n, d)`, concepts `c (n, k)` in {0, 1} and labels `y (n,)`.

# %%
xor = paper("xor")
print(get_spec("xor").formula)
train = xor["train"]
print("x", train.x.shape, " c", train.c.shape, " y", train.y.shape)

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(train.x[:, 0], train.x[:, 1], c=train.y, cmap="coolwarm", s=6)
ax.axvline(0.5, color="k", ls="--")
ax.axhline(0.5, color="k", ls="--")
ax.set(xlabel="x1", ylabel="x2", title="XOR: colour = y")
plt.show()

# %% [markdown]
# **Task 1.** Each concept is one boundary across the unit square. Into how many regions do the
# two boundaries cut it, and which concept patterns `(c1, c2)` have `y = 1`? Give the patterns
# as a set of tuples, e.g. `{(0, 0)}`.

# %%
n_regions = 4  # SOLUTION
positive = {(0, 1), (1, 0)}  # SOLUTION
check.xor_regions(n_regions, positive)

# %% [markdown]
# ## Dot
#
# Dot draws two hidden vectors `v1, v2 ~ N(0, 2² I)` in the plane and a fixed direction
# `w = (1, 1)`. The model never sees `v1` and `v2`, only their sum and difference:

# %%
dot = paper("dot")
print(get_spec("dot").formula)
x, c, y = dot["train"].x, dot["train"].c, dot["train"].y
print("x", x.shape, " c", c.shape, " y", y.shape)

# %% [markdown]
# **Task 2.** Recover `v1` and `v2` (each `(n, 2)`) from `x = [v1 + v2, v1 - v2]`:
# `x[:, :2]` is `v1 + v2` and `x[:, 2:]` is `v1 - v2`.

# %%
v1 = (x[:, :2] + x[:, 2:]) / 2  # SOLUTION
v2 = (x[:, :2] - x[:, 2:]) / 2  # SOLUTION
check.dot_latents(x, v1, v2)

# %% [markdown]
# Now look at them: `v1` coloured by concept 1, `v2` coloured by concept 2, and the line
# `v·w = 0` (the anti-diagonal) dashed.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
line = np.array([-6, 6])
for i, (v, ax) in enumerate(zip((v1, v2), axes, strict=True)):
    ax.scatter(v[:, 0], v[:, 1], c=c[:, i], cmap="coolwarm", s=6)
    ax.plot(line, -line, "k--")
    ax.set(xlim=(-6, 6), ylim=(-6, 6), aspect="equal", title=f"v{i + 1}, colour = c{i + 1}")
plt.show()

# %% [markdown]
# **Task 3.** Concept `c_i` is 1 when its vector lies in a half-plane `{v : v·n_i > 0}`. Give the
# normal `n_i` of each half-plane as a 2-vector (any positive multiple is fine).

# %%
c1_normal = (1, 1)  # SOLUTION
c2_normal = (-1, -1)  # SOLUTION
check.dot_halfplanes(c1_normal, c2_normal)

# %% [markdown]
# **Task 4 — the course's poll.** Draw `v1` and `v2` in one plane. Into how many parts do the
# concepts' boundary lines divide it?

# %%
n_regions = 2  # SOLUTION
check.dot_regions(n_regions)

# %% [markdown]
# ## What does the task ask?
#
# The label is `y = 1[v1·v2 > 0]`. Look at it against the angle between the two vectors, and
# against the concepts:

# %%
cos = (v1 * v2).sum(1) / (np.linalg.norm(v1, axis=1) * np.linalg.norm(v2, axis=1))
angle = np.degrees(np.arccos(np.clip(cos, -1, 1)))
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist([angle[y == 0], angle[y == 1]], bins=36, stacked=True, label=["y = 0", "y = 1"])
ax.set(xlabel="angle between v1 and v2 (degrees)", ylabel="samples")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()
same_side = c[:, 0] != c[:, 1]
print(f"y agrees with 'same side of the line' (c1 XOR c2) on {np.mean(same_side == y):.1%}")

# %% [markdown]
# **Task 5.** Which statement is the task `y = 1`?
#
# - **a** — v1 and v2 lie on the same side of the line `v·w = 0`
# - **b** — the angle between v1 and v2 is less than 90°
# - **c** — v1 lies in c1's half-plane and v2 in c2's half-plane
# - **d** — v1 is longer than v2

# %%
answer = "b"  # SOLUTION
check.dot_task(answer)

# %% [markdown]
# ## Compare with the library's picture
#
# `cem-data plot dot` (or `plot_dataset`) draws the same story: each concept's half-plane, the
# task in `v1`'s frame, and the task over the two concept scores.

# %%
from cem.data.plots import plot_dataset

fig, _ = plot_dataset("dot")
fig

# %% [markdown]
# **Question.** The concepts tell on which side of one line each vector lies; the task asks about
# the angle between the two vectors. Can any function of `(c1, c2)` predict `y` perfectly? Write
# two or three sentences. (Exercise 2 measures the answer.)

# %% [markdown] tags=["solution"]
# No. The concepts keep one bit per vector — its side of the line `v·w = 0` — and forget its
# direction inside that half-plane. Two samples with the same pattern `(c1, c2)` can have an angle
# below or above 90° between `v1` and `v2`, so they can have different labels. The best a
# function of the concepts can do is predict "same side" (c1 XOR c2), right about three times in
# four: Dot is *concept-incomplete*. A model that passes only the two concept probabilities to its
# label predictor is capped there; CEM's embeddings keep the rest of the information.
