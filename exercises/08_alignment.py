# %% [markdown]
# # Exercise 8 — Concept alignment
#
# Accuracy says whether a model predicts concepts; it does not say whether its *internal
# representation* of a concept is organised around that concept. The **Concept Alignment Score**
# (CAS; Espinosa Zarlenga et al., NeurIPS 2022) asks: if we cluster the representation of
# concept `i`, do the clusters separate samples with `c_i = 1` from samples with `c_i = 0`?
#
# For each concept `i`: cluster its representation `R_i` (one row per test sample) into `ρ`
# clusters, for several values of `ρ`; score each clustering by its **homogeneity** with respect
# to `c_i` (1 when every cluster holds a single value of the concept); CAS_i is the normalised
# area under that curve, and CAS is the mean over concepts.
#
# **You will**: write k-means and the area, compute CAS for a CEM and a Hybrid CBM on Dot with
# your own clustering, compare with the library's `concept_alignment_score` (which uses
# k-medoids), and explain the difference between the two models.
#
# *Time: about 35 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
import numpy as np

from cem.exercises import budget, check, setup
from cem.models.inference import predict
from cem.train import run

setup("08_alignment")

# %% [markdown]
# ## Your clustering: k-means
#
# **Task 1.** Write `kmeans(X, n_clusters, seed)` for `X` of shape `(n, d)`, returning an integer
# label in `0 … n_clusters − 1` for every point (shape `(n,)`). Lloyd's algorithm: start from
# `n_clusters` **distinct** data points chosen with `np.random.default_rng(seed)`; then repeat
# (a) assign each point to its nearest centre, (b) move each centre to the mean of its points,
# until the labels stop changing. When there are fewer distinct points than clusters, use them
# all; keep an empty cluster's centre where it was.


# %%
def kmeans(X, n_clusters, seed=0):
    # BEGIN SOLUTION: Lloyd's algorithm from n_clusters distinct points; return (n,) labels
    rng = np.random.default_rng(seed)
    distinct = np.unique(X, axis=0)
    n_clusters = min(n_clusters, len(distinct))
    centres = distinct[rng.choice(len(distinct), n_clusters, replace=False)]
    labels = np.full(len(X), -1)
    while True:
        sq_dist = (X**2).sum(1)[:, None] - 2 * X @ centres.T + (centres**2).sum(1)[None, :]
        new = sq_dist.argmin(1)
        if np.array_equal(new, labels):
            return labels
        labels = new
        for j in range(n_clusters):
            if np.any(labels == j):
                centres[j] = X[labels == j].mean(0)
    # END SOLUTION


check.kmeans(kmeans)

# %% [markdown]
# ## The area under the homogeneity curve
#
# **Task 2.** Write `normalised_area(curve)`: the trapezoid-rule area under `curve` (values at
# unit steps, one per `ρ` of the grid), divided by the area of a curve of ones over the same
# grid, so a curve of ones scores 1.


# %%
def normalised_area(curve):
    # BEGIN SOLUTION: trapezoids over unit steps, divided by len(curve) - 1
    curve = np.asarray(curve, dtype=float)
    return float(((curve[1:] + curve[:-1]) / 2).sum() / (len(curve) - 1))
    # END SOLUTION


check.normalised_area(normalised_area)

# %% [markdown]
# ## Two models to compare
#
# Train a CEM and a Hybrid CBM on Dot, and keep the representations of `N_POINTS` test samples.

# %%
EPOCHS = budget(full=300, fast=20)
N_POINTS = budget(full=300, fast=120)  # test samples clustered
N_RHO = budget(full=20, fast=8)  # cluster counts on the grid
# Small networks train as fast on the CPU as on a GPU, and their outputs stay NumPy-ready;
# the library's extra evaluations (interventions, CAS, impurity) are off to save time.
quiet = {"interventions": False, "alignment": False, "impurity": False}

reps, accuracy = {}, {}
for model in ("cem", "cbm_hybrid_sigmoid"):
    result = run(
        {
            "dataset": {"name": "dot"},
            "model": {"name": model},
            "trainer": {"max_epochs": EPOCHS, "accelerator": "cpu", "progress": "none"},
            "evaluation": quiet,
            "seed": 0,
        }
    )
    x_test, c_test, _ = result.datamodule.tensors["test"]
    keep = np.sort(np.random.default_rng(0).choice(len(x_test), N_POINTS, replace=False))
    reps[model] = predict(result.module.net, x_test[keep]).reps.numpy()  # (N, k, m)
    accuracy[model] = result.metrics["test/task_acc"]
    print(f"{model:20s} task accuracy {accuracy[model]:.1%}, representation {reps[model].shape}")
c = c_test[keep].numpy()

# %% [markdown]
# `reps["cem"][:, i]` is CEM's mixed embedding of concept `i` (128 numbers per sample). A Hybrid
# CBM has no per-concept embedding: beside its `k` concept probabilities it has `(m − 1)·k` free
# units, and the library's convention (as the paper's) splits them into `k` consecutive chunks,
# chunk `i` standing for concept `i`.

# %% [markdown]
# ## CAS
#
# The grid of cluster counts is the library's: `ρ` on `N_RHO` values from 2 to the number of
# points. `sklearn.metrics.homogeneity_score(labels_true, labels_pred)` gives the homogeneity
# (the concept is `labels_true`).
#
# **Task 3.** Write `my_cas(reps, c, rhos)`: for each concept `i`, the curve of homogeneity of
# `kmeans(reps[:, i], ρ)` with respect to `c[:, i]` over `rhos`, its `normalised_area`, and the
# mean over concepts.

# %%
from sklearn.metrics import homogeneity_score

from cem.metrics.alignment import cluster_counts, concept_alignment_score

rhos = cluster_counts(N_POINTS, N_RHO)
print("rho grid:", rhos)


def my_cas(reps, c, rhos):
    # BEGIN SOLUTION: mean over concepts of the normalised area of the homogeneity curve
    scores = []
    for i in range(c.shape[1]):
        curve = [homogeneity_score(c[:, i], kmeans(reps[:, i], rho)) for rho in rhos]
        scores.append(normalised_area(curve))
    return float(np.mean(scores))
    # END SOLUTION


check.my_cas(my_cas, reps["cem"], c, rhos)

# %% [markdown]
# Now both models, with your clustering and with the library's:

# %%
print(f"{'model':20s} {'my CAS':>7s} {'library CAS':>12s}")
for model, r in reps.items():
    library = concept_alignment_score(r, c, n_values=N_RHO)["cas"]
    print(f"{model:20s} {my_cas(r, c, rhos):7.3f} {library:12.3f}")

# %% [markdown]
# **Task 4.** Both models predict the task equally well. Which representation is more aligned
# with its concepts, and why?
#
# - **a** — CEM: each embedding is made from its own concept's positive and negative embeddings
#   and mixed by that concept's probability, so it is organised around the concept; the
#   Hybrid's free units are split into `k` chunks in order, and no chunk is tied to a concept
# - **b** — the Hybrid CBM: its extra units are trained with the concept loss
# - **c** — neither: the two scores differ by noise only
# - **d** — CEM, because its embeddings have more units

# %%
answer = "a"  # SOLUTION
check.alignment_why(answer)

# %% [markdown]
# **Question.** CAS of a representation that knows nothing about the concept is not 0. Why? (Think
# of what homogeneity does when `ρ` approaches the number of points.) Two or three sentences.

# %% [markdown] tags=["solution"]
# Homogeneity rewards clusters that hold a single concept value, and small clusters are pure by
# chance: with `ρ = N` every point is its own cluster and homogeneity is 1 whatever the
# representation. As `ρ` grows the curve of even a random representation climbs towards 1 (close
# to the diagonal `ρ / N`), so its area — and its CAS — is about 0.5, not 0. CAS is read against
# that baseline: CEM's ~0.95 is far above it, the Hybrid's chunks sit between.
