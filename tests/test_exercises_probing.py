"""Exercise 7's checkers: the right answers pass, typical wrong ones get their specific hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cem.exercises import CheckFailed, NotAnswered, check
from cem.models.registry import build_model, resolve

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = resolve({"name": "dnn", "emb_size": 3, "extractor": {"hidden": [8, 6]}})
    return build_model(cfg, n_features=4, n_concepts=2, n_out=1)


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    return torch.randn(20, 4, generator=torch.Generator().manual_seed(1))


def layers(net, x):
    outs, h = [], x
    with torch.no_grad():
        for module in net.extractor.net:
            h = module(h)
            if isinstance(module, torch.nn.LeakyReLU):
                outs.append(h.numpy())
        outs.append(h.numpy())
    return outs


def test_hidden_layers_right_answer_passes(net, x, capsys) -> None:
    assert check.hidden_layers(layers, net, x)
    assert "3 layers of widths 8, 6, 6" in capsys.readouterr().out  # k + (m-1)·k = 2 + 4


def test_hidden_layers_accepts_tensors_that_still_need_grad(net, x) -> None:
    def with_grad(net, x):
        outs, h = [], x
        for module in net.extractor.net:
            h = module(h)
            if not isinstance(module, torch.nn.Linear):
                outs.append(h)
        return [*outs, h]

    assert check.hidden_layers(with_grad, net, x)


def test_hidden_layers_wrong_answers_get_their_hint(net, x) -> None:
    def every_module(net, x):
        outs, h = [], x
        for module in net.extractor.net:
            h = module(h)
            outs.append(h.detach().numpy())
        return outs

    def before_activation(net, x):
        outs, h = [], x
        for module in net.extractor.net:
            h = module(h)
            if isinstance(module, torch.nn.Linear):
                outs.append(h.detach().numpy())
        return outs

    def no_output(net, x):
        return layers(net, x)[:-1]

    with pytest.raises(CheckFailed, match="not every module's"):
        check.hidden_layers(every_module, net, x)
    with pytest.raises(CheckFailed, match="Linear output before its activation"):
        check.hidden_layers(before_activation, net, x)
    with pytest.raises(CheckFailed, match="add the extractor's final output"):
        check.hidden_layers(no_output, net, x)
    with pytest.raises(CheckFailed, match="expected a list of arrays"):
        check.hidden_layers(lambda net, x: x.numpy(), net, x)
    with pytest.raises(NotAnswered, match="returned None"):
        check.hidden_layers(lambda net, x: None, net, x)


def probe(h_train, c_train, h_test, c_test):
    out = []
    for j in range(c_train.shape[1]):
        p = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        out.append(p.fit(h_train, c_train[:, j]).score(h_test, c_test[:, j]))
    return np.array(out)


def test_probe_accuracy_right_answers_pass_with_or_without_scaling() -> None:
    assert check.probe_accuracy(probe)

    def unscaled(h_train, c_train, h_test, c_test):
        return np.array(
            [
                LogisticRegression(max_iter=1000)
                .fit(h_train, c_train[:, j])
                .score(h_test, c_test[:, j])
                for j in range(c_train.shape[1])
            ]
        )

    assert check.probe_accuracy(unscaled)


def test_probe_accuracy_wrong_answers_get_their_hint() -> None:
    with pytest.raises(CheckFailed, match="training accuracies"):
        check.probe_accuracy(lambda a, b, c, d: probe(a, b, a, b))
    with pytest.raises(CheckFailed, match="fitted on the test split"):
        check.probe_accuracy(lambda a, b, c, d: probe(c, d, c, d))
    with pytest.raises(CheckFailed, match="percentages"):
        check.probe_accuracy(lambda *args: 100 * probe(*args))
    with pytest.raises(CheckFailed, match="one number; expected 2 accuracies"):
        check.probe_accuracy(lambda *args: float(probe(*args).mean()))
    with pytest.raises(CheckFailed, match="a logistic-regression probe gets"):
        check.probe_accuracy(lambda *args: np.array([0.5, 0.5]))


def reps_and_concepts() -> tuple[np.ndarray, ...]:
    """Two concepts; concept 0's representation also carries concept 1 (impure)."""
    rng = np.random.default_rng(3)
    c = rng.integers(0, 2, (300, 2))
    r0 = np.stack([c[:, 0] + 0.3 * rng.normal(size=300), c[:, 1] + 0.3 * rng.normal(size=300)], 1)
    r1 = np.stack([c[:, 1] + 0.3 * rng.normal(size=300), rng.normal(size=300)], 1)
    reps = np.stack([r0, r1], axis=1)  # (n, k, r)
    return reps[:200], c[:200], reps[200:], c[200:]


def test_purity_right_answer_passes_and_transposed_gets_its_hint() -> None:
    rtr, ctr, rte, cte = reps_and_concepts()
    matrix = np.stack([probe(rtr[:, i], ctr, rte[:, i], cte) for i in range(2)])
    assert matrix[0, 1] > 0.8 and matrix[1, 0] < 0.7  # the impurity is where it was put
    assert check.purity(matrix, rtr, ctr, rte, cte)
    with pytest.raises(CheckFailed, match="transposed"):
        check.purity(matrix.T, rtr, ctr, rte, cte)
    with pytest.raises(CheckFailed, match=r"entry \(0, 1\)"):
        check.purity(np.where(np.eye(2, dtype=bool), matrix, 0.5), rtr, ctr, rte, cte)
    with pytest.raises(CheckFailed, match=r"has shape \(3,\); expected \(2, 2\)"):
        check.purity(np.ones(3), rtr, ctr, rte, cte)


def test_the_multiple_choice_questions() -> None:
    assert check.probing_meaning("b") and check.ois_meaning("B")
    with pytest.raises(CheckFailed, match="intervention would test"):
        check.probing_meaning("a")
    with pytest.raises(CheckFailed, match="task loss only"):
        check.probing_meaning("c")
    with pytest.raises(CheckFailed, match="off-diagonal"):
        check.ois_meaning("a")
    with pytest.raises(CheckFailed, match="does not involve the task"):
        check.ois_meaning("d")
