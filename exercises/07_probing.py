# %% [markdown]
# # Exercise 7 — Probing a black box
#
# A **probe** is a small classifier trained to read a property from a network's hidden layer.
# If a linear probe predicts a concept well from layer ℓ, the concept is *linearly decodable*
# there. Probing is how people look for concepts inside models that were never given any.
#
# Here you probe a **no-concept DNN** — the same network as a Hybrid CBM, trained on the task
# alone — on the Trigonometry dataset, compare with a CEM that *was* taught the concepts, and
# connect probing to the **Oracle Impurity Score** (OIS; Espinosa Zarlenga et al., AAAI 2023).
#
# **You will**: extract the DNN's hidden layers, write a linear probe, fill a table of probe
# accuracies per layer and concept, and build the purity matrix behind OIS.
#
# *Time: about 35 minutes.* Replace every `...` marked `TODO`, then run the cell.

# %%
import numpy as np
import torch

from cem.exercises import budget, check, setup
from cem.train import run

setup("07_probing")

EPOCHS = budget(full=300, fast=20)
N_PROBE = budget(full=2100, fast=300)  # training samples the probes see
# Small networks train as fast on the CPU as on a GPU, and their outputs stay NumPy-ready;
# the library's extra evaluations (interventions, CAS, impurity) are off to save time.
quiet = {"interventions": False, "alignment": False, "impurity": False}


def train(model: str):
    """Train one model of the library on the paper's Trig data; returns its RunResult."""
    config = {
        "dataset": {"name": "trig"},
        "model": {"name": model},
        "trainer": {"max_epochs": EPOCHS, "accelerator": "cpu", "progress": "none"},
        "evaluation": quiet,
        "seed": 0,
    }
    return run(config)


dnn_run = train("dnn")
dnn = dnn_run.module.net
x_train, c_train, _ = dnn_run.datamodule.tensors["train"]
x_test, c_test, _ = dnn_run.datamodule.tensors["test"]
x_train, c_train = x_train[:N_PROBE], c_train[:N_PROBE].numpy()
c_test = c_test.numpy()
print(f"DNN test task accuracy {dnn_run.metrics['test/task_acc']:.1%}")
print(dnn.extractor)

# %% [markdown]
# ## The hidden layers
#
# The DNN's feature extractor is `dnn.extractor.net`, a `torch.nn.Sequential` of
# `Linear → LeakyReLU → Linear → LeakyReLU → Linear`. Its last output feeds the label predictor.
#
# **Task 1.** Write `hidden_layers(net, x)`: run `x` through `net.extractor.net` one module at a
# time and return a list of NumPy arrays — the output of **each activation**, then the
# extractor's **final output** (three arrays here). Use `torch.no_grad()`.


# %%
def hidden_layers(net, x):
    # BEGIN SOLUTION: return [h after each activation, ..., the final output] as NumPy arrays
    outs = []
    h = x
    with torch.no_grad():
        for module in net.extractor.net:
            h = module(h)
            if isinstance(module, torch.nn.LeakyReLU):
                outs.append(h.numpy())
        outs.append(h.numpy())
    return outs
    # END SOLUTION


check.hidden_layers(hidden_layers, dnn, x_test)

# %% [markdown]
# ## A linear probe
#
# **Task 2.** Write `probe_accuracy(h_train, c_train, h_test, c_test)`: for each concept `j`
# (column of `c`), fit a `LogisticRegression` on `(h_train, c_train[:, j])` — after a
# `StandardScaler`, in a `make_pipeline` — and return the **test** accuracies as an array of
# shape `(k,)`. The checker first tries it on a synthetic case where one concept is linear in the
# features and the other is an XOR of two features.

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def probe_accuracy(h_train, c_train, h_test, c_test):
    # BEGIN SOLUTION: one standardised logistic regression per concept; return test accuracies
    accuracies = []
    for j in range(c_train.shape[1]):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        probe.fit(h_train, c_train[:, j])
        accuracies.append(probe.score(h_test, c_test[:, j]))
    return np.array(accuracies)
    # END SOLUTION


check.probe_accuracy(probe_accuracy)

# %% [markdown]
# ## Probing every layer
#
# Now probe the raw input `x` (a baseline: what is readable before any learning) and each of the
# DNN's layers, for the three concepts `a > 0`, `b > 0`, `z > 0`.

# %%
names = ["input x"] + [f"layer {i + 1}" for i in range(2)] + ["output"]
h_train = [x_train.numpy()] + hidden_layers(dnn, x_train)
h_test = [x_test.numpy()] + hidden_layers(dnn, x_test)
table = np.stack(
    [probe_accuracy(a, c_train, b, c_test) for a, b in zip(h_train, h_test, strict=True)]
)
print(f"{'':10s} " + "  ".join(f"{n:>7s}" for n in ("a>0", "b>0", "z>0")))
for name, row in zip(names, table, strict=True):
    print(f"{name:10s} " + "  ".join(f"{v:7.1%}" for v in row))

cem_run = train("cem")
cem_concepts = cem_run.metrics["test/concept_acc"]
print(f"\nCEM's concept accuracy (it was trained with concept labels): {cem_concepts:.1%}")

# %% [markdown]
# **Task 3.** The DNN never saw a concept label, yet linear probes read the concepts from its
# layers about as well as CEM predicts them. What does that show?
#
# - **a** — the DNN uses the concepts to make its predictions
# - **b** — the concepts can be read linearly from its layers; the raw input allows that too, so
#   a probe shows what information is there, not what the network uses
# - **c** — the DNN was trained to predict the concepts
# - **d** — a probe with enough features always reaches about 100 %

# %%
answer = "b"  # SOLUTION
check.probing_meaning(answer)

# %% [markdown]
# ## From probes to impurity
#
# Concept models give each concept its own **representation**: CEM its embedding `ĉ_i`; for the
# DNN, the library splits the output units into `k` chunks, one per concept. A representation
# is *pure* when it tells about its own concept and nothing more. The **purity matrix** holds,
# at `(i, j)`, how well concept `j` is predicted from the representation of concept `i`.
#
# **Task 4.** Fill the purity matrix of the DNN's chunks with your `probe_accuracy`: row `i`
# uses `reps_train[:, i]` (shape `(n, r)`), and its `k` entries are the accuracies for every
# concept. (One call per row does it.)

# %%
from cem.models.inference import predict

reps_train = predict(dnn, x_train).reps.numpy()  # (n, k, r): the DNN's k chunks of units
reps_test = predict(dnn, x_test).reps.numpy()
k = reps_train.shape[1]
# BEGIN SOLUTION: a (k, k) array, row i = probe accuracies of every concept from chunk i
# STUDENT: purity_matrix = ...
purity_matrix = np.stack(
    [probe_accuracy(reps_train[:, i], c_train, reps_test[:, i], c_test) for i in range(k)]
)
# END SOLUTION
check.purity(purity_matrix, reps_train, c_train, reps_test, c_test)
print(np.round(purity_matrix, 3))

# %% [markdown]
# The true concepts of Trig are independent, so from concept `i` alone, concept `j ≠ i` is a
# coin flip: the **oracle** matrix built from the true concepts has 0.5 off the diagonal. The
# Oracle Impurity Score compares the two (with AUC instead of accuracy, and a small MLP probe):
#
# $$\mathrm{OIS} = \tfrac{2}{k}\,\lVert \pi(R, c) - \pi(c, c) \rVert_F .$$

# %%
from cem.metrics.impurity import oracle_impurity_score

cem_reps = predict(cem_run.module.net, x_test).reps.numpy()
print(f"OIS of the DNN's chunks:    {oracle_impurity_score(reps_test, c_test):.3f}")
print(f"OIS of CEM's embeddings:    {oracle_impurity_score(cem_reps, c_test):.3f}")

# %% [markdown]
# **Task 5.** What does OIS measure?
#
# - **a** — how well each concept is predicted from its own representation
# - **b** — how much each concept's representation predicts the other concepts, beyond what the
#   true concepts themselves imply
# - **c** — how many units of the representation are active
# - **d** — the task accuracy lost when the concepts are removed

# %%
answer = "b"  # SOLUTION
check.ois_meaning(answer)

# %% [markdown]
# **Question.** Both OIS values are far from 0: neither the DNN's chunks nor CEM's embeddings
# are pure. Why would a CEM embedding of concept `a > 0` carry information about `b > 0`? And
# why is that not a reason to distrust interventions on CEM? Three or four sentences.

# %% [markdown] tags=["solution"]
# A CEM embedding is trained to serve the task as well as its own concept: the label predictor
# reads all `k` embeddings together, so an embedding is free to carry whatever helps the task,
# including information correlated with other concepts through the inputs (on Trig, `a`, `b`, `z`
# enter the squared-norm feature together). Probing from one embedding then predicts other
# concepts above chance: impurity. Interventions do not rely on purity: they set `p̂_i := c_i`,
# which replaces concept `i`'s embedding by its learned positive or negative one, and RandInt
# training taught the label predictor to use those. Impurity is a warning for reading concepts
# off one embedding, not for correcting them.
