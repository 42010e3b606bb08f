"""Checkers of exercise 7: linear probes on a no-concept DNN's hidden layers, and impurity.

The reference probe is the one the exercise teaches: per concept, a logistic regression on
standardised features, fitted on the training split and scored (accuracy) on the test split.
Students may choose other reasonable settings (no scaling, another solver), so probe accuracies
are compared within ``PROBE_TOLERANCE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from torch import nn

from cem.exercises.answers import as_array, as_choice
from cem.exercises.feedback import call_student, fail, passed, require, returned_none

__all__ = ["hidden_layers", "probe_accuracy", "purity", "probing_meaning", "ois_meaning"]

PROBE_TOLERANCE = 0.03  # accuracy points (as a fraction) between two reasonable probe recipes


def reference_probe(
    h_train: np.ndarray, c_train: np.ndarray, h_test: np.ndarray, c_test: np.ndarray
) -> np.ndarray:
    """Test accuracy of one standardised logistic-regression probe per concept.

    h_train (n, D), c_train (n, k) 0/1, h_test (m, D), c_test (m, k) -> (k,) accuracies.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    accs = []
    for j in range(c_train.shape[1]):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        probe.fit(h_train, c_train[:, j])
        accs.append(probe.score(h_test, c_test[:, j]))
    return np.array(accs)


def reference_layers(net: nn.Module, x: Any) -> list[np.ndarray]:
    """The output of every activation of ``net.extractor.net`` and the extractor's output."""
    import torch

    outs: list[np.ndarray] = []
    h = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        for layer in net.extractor.net:
            h = layer(h)
            if not isinstance(layer, nn.Linear):
                outs.append(h.numpy().copy())
        outs.append(h.numpy().copy())
    return outs


def _pre_activations(net: nn.Module, x: Any) -> list[np.ndarray]:
    import torch

    outs = []
    h = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        for layer in net.extractor.net:
            h = layer(h)
            if isinstance(layer, nn.Linear):
                outs.append(h.numpy().copy())
    return outs


def hidden_layers(fn: Callable[[nn.Module, Any], Sequence[Any]], net: nn.Module, x: Any) -> bool:
    """The student's ``hidden_layers(net, x) -> [h_1, h_2, …, out]`` (one (n, width) array after
    each activation of ``net.extractor.net``, then the extractor's output)."""
    what = "hidden_layers"
    require(what, "hidden_layers", fn)
    got = call_student(what, "hidden_layers(net, x)", fn, net, x)
    if got is None:
        raise returned_none(what, "hidden_layers")
    if not isinstance(got, (list, tuple)):
        fail(what, f"it returned {type(got).__name__}; expected a list of arrays, one per layer.")
    truth = reference_layers(net, x)
    n = len(truth)
    if len(got) != n:
        n_modules = len(net.extractor.net)
        hint = {
            n_modules: "keep only the outputs after each activation (and the final output), "
            "not every module's.",
            n - 1: "add the extractor's final output (after its last Linear) as the last layer.",
        }.get(len(got), f"{n - 1} activations plus the final output make {n} layers.")
        fail(what, f"it returned {len(got)} layers; expected {n}.", hint)
    pre = _pre_activations(net, x)
    for i, (g, t) in enumerate(zip(got, truth, strict=True)):
        arr = as_array(what, f"layer {i}", g, t.shape)
        if np.allclose(arr, t, atol=1e-5):
            continue
        if i < len(pre) and arr.shape == pre[i].shape and np.allclose(arr, pre[i], atol=1e-5):
            fail(
                what,
                f"layer {i} is the Linear output before its activation.",
                "take h after the activation module (LeakyReLU) that follows each hidden Linear.",
            )
        fail(
            what,
            f"layer {i} differs from the network's activations.",
            "run x through "
            "net.extractor.net one module at a time and keep h after each activation.",
        )
    widths = ", ".join(str(t.shape[1]) for t in truth)
    return passed(what, f"{n} layers of widths {widths}.")


def _probe_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """A synthetic case: concept 0 is linear in the features, concept 1 (an XOR) is not."""
    rng = np.random.default_rng(0)
    h = rng.normal(size=(500, 5))
    c = np.stack([h[:, 0] > 0, h[:, 1] * h[:, 2] > 0], axis=1).astype(np.int64)
    return [
        (
            "a synthetic case (concept 0 linear, concept 1 an XOR)",
            h[:400],
            c[:400],
            h[400:],
            c[400:],
        )
    ]


def _check_probe_values(
    what: str,
    fn: Callable[..., Any],
    case: tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    name, htr, ctr, hte, cte = case
    got = call_student(what, f"probe_accuracy on {name}", fn, htr, ctr, hte, cte)
    if got is None:
        raise returned_none(what, "probe_accuracy")
    k = ctr.shape[1]
    if np.ndim(got) == 0:
        fail(
            what,
            f"it returned one number; expected {k} accuracies, one per concept.",
            "fit one probe per concept (column of c) and return the list of their accuracies.",
        )
    acc = as_array(what, "probe_accuracy(...)", got, (k,))
    truth = reference_probe(htr, ctr, hte, cte)
    if np.all(np.abs(acc - truth) <= PROBE_TOLERANCE):
        return acc
    if np.all(np.abs(acc - 100 * truth) <= 100 * PROBE_TOLERANCE):
        fail(what, "it returned percentages.", "return fractions in [0, 1].")
    on_train = reference_probe(htr, ctr, htr, ctr)
    if np.all(np.abs(acc - on_train) <= PROBE_TOLERANCE / 3) and not np.allclose(on_train, truth):
        fail(what, "these are the probes' training accuracies.", "score each probe on h_test.")
    on_test = reference_probe(hte, cte, hte, cte)
    if np.all(np.abs(acc - on_test) <= PROBE_TOLERANCE / 3) and not np.allclose(on_test, truth):
        fail(what, "the probes were fitted on the test split.", "fit on h_train, c_train.")
    shown = ", ".join(f"{v:.3f}" for v in acc)
    expected = ", ".join(f"{v:.3f}" for v in truth)
    fail(
        what,
        f"on {name} it gives [{shown}]; a logistic-regression probe gets [{expected}].",
        "one LogisticRegression per concept, fitted on (h_train, c_train[:, j]), scored on "
        "(h_test, c_test[:, j]); standardise the features first (StandardScaler).",
    )


def probe_accuracy(fn: Callable[..., Any]) -> bool:
    """The student's ``probe_accuracy(h_train, c_train, h_test, c_test) -> (k,)`` accuracies."""
    what = "probe_accuracy"
    require(what, "probe_accuracy", fn)
    for case in _probe_cases():
        acc = _check_probe_values(what, fn, case)
    return passed(
        what,
        f"on the synthetic case: {acc[0]:.2f} for the linear concept, {acc[1]:.2f} for the XOR "
        "one (a linear probe cannot read it).",
    )


def purity(matrix: Any, reps_train: Any, c_train: Any, reps_test: Any, c_test: Any) -> bool:
    """The student's purity matrix: entry (i, j) = probe accuracy of concept j from the
    representation of concept i. reps_*: (n, k, r) arrays; c_*: (n, k)."""
    what = "purity"
    rtr = as_array(what, "reps_train", reps_train, (None, None, None))
    k = rtr.shape[1]
    m = as_array(what, "purity_matrix", matrix, (k, k))
    rte = as_array(what, "reps_test", reps_test, (None, k, rtr.shape[2]))
    ctr = as_array(what, "c_train", c_train, (len(rtr), k)).astype(np.int64)
    cte = as_array(what, "c_test", c_test, (len(rte), k)).astype(np.int64)
    truth = np.stack([reference_probe(rtr[:, i], ctr, rte[:, i], cte) for i in range(k)])
    if np.all(np.abs(m - truth) <= PROBE_TOLERANCE):
        off = truth[~np.eye(k, dtype=bool)]
        return passed(
            what,
            f"diagonal {np.mean(np.diag(truth)):.2f} on average, off-diagonal {off.mean():.2f}: "
            "how much each concept's representation also says about the others.",
        )
    if np.all(np.abs(m.T - truth) <= PROBE_TOLERANCE):
        fail(
            what,
            "the matrix is transposed.",
            "row i is the representation of concept i, column j the concept its probe predicts.",
        )
    i, j = np.unravel_index(np.argmax(np.abs(m - truth)), m.shape)
    fail(
        what,
        f"entry ({i}, {j}) is {m[i, j]:.3f}; a probe gets {truth[i, j]:.3f}.",
        "entry (i, j): probe_accuracy(reps_train[:, i], c_train[:, [j]], reps_test[:, i], "
        "c_test[:, [j]]).",
    )


PROBING_CHOICES = {
    "a": "the DNN uses the concepts to make its predictions",
    "b": "the concepts can be read linearly from its layers; the raw input allows that too, so "
    "a probe shows what information is there, not what the network uses",
    "c": "the DNN was trained to predict the concepts",
    "d": "a probe with enough features always reaches about 100%",
}
PROBING_HINTS = {
    "a": "a probe shows that information is there; whether the task head uses it is another "
    "question (an intervention would test that).",
    "c": "the no-concept DNN is trained with the task loss only (concept loss weight 0).",
    "d": "look at the synthetic case: the probe for the XOR concept stayed near 50%.",
}


def probing_meaning(answer: Any) -> bool:
    """What high probe accuracy on the DNN shows (a letter of PROBING_CHOICES)."""
    what = "probing_meaning"
    letter = as_choice(what, "answer", answer, PROBING_CHOICES)
    if letter == "b":
        return passed(what, "decodable is not the same as used: compare with the input baseline.")
    fail(what, f'"{letter}" ({PROBING_CHOICES[letter]}) does not follow.', PROBING_HINTS[letter])


OIS_CHOICES = {
    "a": "how well each concept is predicted from its own representation",
    "b": "how much each concept's representation predicts the other concepts, beyond what the "
    "true concepts themselves imply",
    "c": "how many units of the representation are active",
    "d": "the task accuracy lost when the concepts are removed",
}
OIS_HINTS = {
    "a": "that is the diagonal of the purity matrix; OIS compares the whole matrix with the "
    "one built from the true concepts, so it is about the off-diagonal entries.",
    "c": "OIS is built from probes between representations and concepts, not from unit counts.",
    "d": "OIS does not involve the task at all.",
}


def ois_meaning(answer: Any) -> bool:
    """What the Oracle Impurity Score measures (a letter of OIS_CHOICES)."""
    what = "ois_meaning"
    letter = as_choice(what, "answer", answer, OIS_CHOICES)
    if letter == "b":
        return passed(
            what,
            "OIS = (2/k)·‖π(R, c) − π(c, c)‖_F: the purity matrix of the representations against "
            "the oracle's, built from the true concepts (0 = as pure as the concepts).",
        )
    fail(what, f'"{letter}" ({OIS_CHOICES[letter]}) is not it.', OIS_HINTS[letter])
