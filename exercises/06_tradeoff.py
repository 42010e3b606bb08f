# %% [markdown]
# # Exercise 6 — The accuracy–explainability trade-off
#
# A joint CBM learns its concepts and its task together, with one loss:
#
# $$L = \alpha \cdot L_\text{concepts} + L_\text{task}.$$
#
# The **concept-loss weight α** sets how hard the bottleneck is pushed towards the true concepts.
# At α = 0 nothing ties the bottleneck's units to the concepts: they carry whatever helps the
# task, and the model is a plain network with a narrow layer (concept accuracy near chance). A
# large α makes the bottleneck *be* the concepts — explainable — but on a concept-incomplete
# dataset such as **Dot** (exercise 2: no function of its concepts beats 76.8 %) the task then
# suffers. This is the *accuracy–explainability trade-off* that the CEM paper's title ("Beyond
# the Accuracy-Explainability Trade-Off") claims to escape.
#
# **You will**: sweep α for the Sigmoid and the Logit CBM on Dot, plot task against concept
# accuracy, compute the **Pareto front** (the points no other point beats in both accuracies),
# and place CEM on it.
#
# *Time: about 30 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
import matplotlib.pyplot as plt
import numpy as np

from cem.exercises import budget, check, setup
from cem.train import run

setup("06_tradeoff")

# %% [markdown]
# ## The sweep
#
# From a terminal, one command trains the whole grid (Hydra's multirun, one job per setting):
#
# ```bash
# cem-train -m dataset=dot model=cbm_sigmoid,cbm_logit \
#     model.concept_loss_weight=0,0.01,0.1,1,5,10 trainer.max_epochs=200 seed=42 \
#     evaluation.interventions=false evaluation.alignment=false evaluation.impurity=false
# cem-report outputs/sweeps/<its folder>     # plots/task_vs_concept.png
# ```
#
# (`cem-train -m experiment=tradeoff` is the library's preset: every joint model on all three
# datasets, 108 runs; its results are in `docs/tradeoff/report.md`.) Here you run the same grid
# from Python, with `run`, which takes the same settings as a nested dict:
# `{"model": {"name": ..., "concept_loss_weight": ...}, ...}`.
#
# **Task 1.** Fill the loop: train `model` on Dot with concept-loss weight `alpha` (the trainer
# settings `TRAINER`, seed 42, the evaluation extras off as in `quiet`) and store the result of
# `run` in `runs[model, alpha]`. At the full budget this takes a minute or two.

# %%
MODELS = ("cbm_sigmoid", "cbm_logit")
ALPHAS = budget(full=[0, 0.01, 0.1, 1, 5, 10], fast=[0, 0.1, 10])
EPOCHS = budget(full=200, fast=30)
TRAINER = {"max_epochs": EPOCHS, "accelerator": "cpu", "progress": "none"}  # CPU: as fast here
quiet = {"interventions": False, "alignment": False, "impurity": False}
runs = {}
for model in MODELS:
    for alpha in ALPHAS:
        # BEGIN SOLUTION: runs[model, alpha] = run({...}) with model, alpha, Dot, TRAINER, seed 42
        runs[model, alpha] = run(
            {
                "dataset": {"name": "dot"},
                "model": {"name": model, "concept_loss_weight": alpha},
                "trainer": TRAINER,
                "evaluation": quiet,
                "seed": 42,
            }
        )
        # END SOLUTION
check.alpha_sweep(runs, MODELS, ALPHAS, EPOCHS)

# %% [markdown]
# Each run is one point (task accuracy, concept accuracy) on the test split. CEM, trained once
# with its default α = 1, joins them as a star.

# %%
labels = list(runs)  # (model, alpha) of each point
points = np.array(
    [[r.metrics["test/task_acc"], r.metrics["test/concept_acc"]] for r in runs.values()]
)
cem = run(
    {
        "dataset": {"name": "dot"},
        "model": {"name": "cem"},
        "trainer": TRAINER,
        "evaluation": quiet,
        "seed": 42,
    }
)
cem_point = np.array([cem.metrics["test/task_acc"], cem.metrics["test/concept_acc"]])


def draw(ax, front=None):
    """The sweep (one line per model, α written next to each point) and CEM's star."""
    for model, colour in zip(MODELS, ("tab:red", "tab:purple"), strict=True):
        idx = [i for i, (m, _) in enumerate(labels) if m == model]
        ax.plot(100 * points[idx, 1], 100 * points[idx, 0], "o-", color=colour, label=model)
        for i in idx:
            xy = (100 * points[i, 1], 100 * points[i, 0])
            ax.annotate(
                f"α={labels[i][1]}", xy, fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    if front is not None:
        on = points[front]
        ax.plot(100 * on[:, 1], 100 * on[:, 0], "o", ms=12, mfc="none", c="k", label="Pareto front")
    ax.plot(100 * cem_point[1], 100 * cem_point[0], "*", ms=15, color="tab:blue", label="cem")
    ax.set(xlabel="concept accuracy (%)", ylabel="task accuracy (%)", title="Dot, test split")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)


fig, ax = plt.subplots(figsize=(6.5, 4.5))
draw(ax)
plt.show()
for (model, alpha), (task, concept) in zip(labels, points, strict=True):
    print(f"{model:12s} α = {alpha:<5} task {task:6.1%}  concepts {concept:6.1%}")
print(f"{'cem':12s} α = 1     task {cem_point[0]:6.1%}  concepts {cem_point[1]:6.1%}")

# %% [markdown]
# Read the plot from the top left (α = 0: good task, concepts at chance) to the bottom right
# (large α: good concepts, the task down towards the ceiling or below). The Logit CBM gives
# ground more slowly than the Sigmoid one: a logit keeps how sure the model is, a probability
# near 0 or 1 hardly does.
#
# ## The Pareto front
#
# Both accuracies are to be **maximised**. A point `p` **dominates** `q` when it is at least as
# good in both and strictly better in at least one:
#
# $$p \succ q \iff p_1 \ge q_1,\ p_2 \ge q_2 \text{ and } (p_1 > q_1 \text{ or } p_2 > q_2).$$
#
# The **Pareto front** is the set of points that no other point dominates: the best trade-offs on
# offer. Everything off the front is beaten by some point on it.
#
# **Task 2.** Write `dominates(p, q)` for two points `p`, `q` (arrays `[task, concept]`); return
# True or False. Mind the ties: two equal points do not dominate each other.


# %%
def dominates(p, q) -> bool:
    # BEGIN SOLUTION: True when p dominates q (the formula above)
    return bool(np.all(p >= q) and np.any(p > q))
    # END SOLUTION


check.dominates_function(dominates)

# %% [markdown]
# **Task 3.** Write `pareto_front(points)` for `points` of shape `(n, 2)`: return a boolean array
# `front` of shape `(n,)`, True for every point that no other point dominates (so
# `points[front]` are the points on the front). Duplicates of a front point all stay on it. Do not
# sort `points` in place.


# %%
def pareto_front(points) -> np.ndarray:
    # BEGIN SOLUTION: front[i] is True when no other point dominates points[i]
    n = len(points)
    return np.array(
        [not any(dominates(points[j], points[i]) for j in range(n) if j != i) for i in range(n)]
    )
    # END SOLUTION


check.pareto_function(pareto_front)

# %%
front = pareto_front(points)
fig, ax = plt.subplots(figsize=(6.5, 4.5))
draw(ax, front)
plt.show()
print(
    "on the front:", ", ".join(f"{m} α={a}" for (m, a), f in zip(labels, front, strict=True) if f)
)

# %% [markdown]
# **Task 4.** Now place CEM. Is CEM's point on the front of the sweep (does no CBM point dominate
# it)? And how many of the CBM points does CEM dominate? Use your functions on *your* numbers
# (`points`, `cem_point`): they differ a little from run to run and between budgets.

# %%
cem_on_front = not any(dominates(p, cem_point) for p in points)  # SOLUTION
dominated_by_cem = sum(dominates(cem_point, p) for p in points)  # SOLUTION
check.cem_on_front(cem_on_front, dominated_by_cem, points, cem_point)

# %% [markdown]
# **Question.** Why must the Sigmoid CBM give up task accuracy as α grows on Dot, while CEM keeps
# both accuracies high? And why does the Sigmoid CBM fall even below Dot's 76.8 % concept-only
# ceiling? Three or four sentences.

# %% [markdown] tags=["solution"]
# A joint CBM's label predictor sees only the k = 2 bottleneck values. At α = 0 they are free to
# encode whatever the task needs (Dot's task is about the angle between the hidden vectors),
# which is why the concept accuracy sits at chance; as α grows they are pulled to the two
# concepts' truth values, and the information the task needs beyond them is squeezed out: Dot is
# concept-incomplete. The Sigmoid CBM then falls below the 76.8 % ceiling because its label
# predictor is one Linear layer, and the best concept-only rule on Dot is "c1 XOR c2", which a
# linear function of two near-binary values cannot express: it ends near 52 %, the share of the
# majority class. The Logit CBM degrades more gently because a logit keeps the model's
# confidence, which is information about the latents. CEM separates the two jobs: its
# probabilities p̂_i are trained to be the concepts (high concept accuracy), while its label
# predictor reads k embeddings of m dimensions each, which keep what the task needs. So it sits
# in the top-right corner, on the front: the CBM points that beat it in one accuracy do so by a
# point or less and pay for it with tens of points in the other.
