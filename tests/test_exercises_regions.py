"""Exercise 1's checkers: the right answers pass, typical wrong ones get their specific hint."""

from __future__ import annotations

import numpy as np
import pytest

from cem.data import paper
from cem.exercises import CheckFailed, NotAnswered, check


@pytest.fixture(scope="module")
def dot_x() -> np.ndarray:
    return paper("dot")["train"].x[:200]


def halves(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (x[:, :2] + x[:, 2:]) / 2, (x[:, :2] - x[:, 2:]) / 2


def test_xor_regions_right_answer_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert check.xor_regions(4, {(0, 1), (1, 0)})
    assert capsys.readouterr().out.startswith("✓ xor_regions")
    assert check.xor_regions(np.int64(4), [[1, 0], (0, 1)])  # any collection of pairs


@pytest.mark.parametrize(
    ("n", "positive", "hint"),
    [
        (2, {(0, 1), (1, 0)}, "cross inside the square"),
        (4, {(1, 1)}, "AND"),
        (4, {(0, 0), (1, 1)}, "regions where y = 0"),
    ],
)
def test_xor_regions_wrong_answers_get_their_hint(n: int, positive: set, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        check.xor_regions(n, positive)


@pytest.mark.parametrize(
    ("n", "positive", "message"),
    [
        (..., {(0, 1)}, "`n_regions` is still a placeholder"),
        (4, ..., "`positive` is still a placeholder"),
        ("four", {(0, 1)}, "should be a whole number"),
        (4, {(0, 2)}, "tuple of 2 zeros and ones"),
        (4, "01", "should be a set of patterns"),
    ],
)
def test_xor_regions_bad_input_is_one_plain_sentence(n: object, positive: object, message: str):
    with pytest.raises(CheckFailed, match=message) as e:
        check.xor_regions(n, positive)
    assert isinstance(e.value, NotAnswered) == ("placeholder" in message)


def test_dot_latents_right_answer_passes_and_accepts_tensors(dot_x: np.ndarray) -> None:
    import torch

    v1, v2 = halves(dot_x)
    assert check.dot_latents(dot_x, v1, v2)
    assert check.dot_latents(dot_x, torch.tensor(v1), v2)


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda v1, v2, x: (v2, v1), "swapped"),
        (lambda v1, v2, x: (2 * v1, 2 * v2), "divide by 2"),
        (lambda v1, v2, x: (v1, -v2), "wrong sign"),
        (lambda v1, v2, x: (x[:, :2], x[:, 2:]), "input halves"),
        (lambda v1, v2, x: (v1 + 1, v2), "add and subtract"),
    ],
)
def test_dot_latents_wrong_answers_get_their_hint(dot_x: np.ndarray, make, hint: str) -> None:
    v1, v2 = halves(dot_x)
    with pytest.raises(CheckFailed, match=hint):
        check.dot_latents(dot_x, *make(v1, v2, dot_x))


def test_dot_latents_wrong_shape_names_the_variable(dot_x: np.ndarray) -> None:
    v1, v2 = halves(dot_x)
    with pytest.raises(CheckFailed, match=r"`v2` has shape \(200, 4\); expected \(200, 2\)"):
        check.dot_latents(dot_x, v1, dot_x)


def test_dot_halfplanes_accepts_any_positive_multiple() -> None:
    assert check.dot_halfplanes((1, 1), np.array([-3.0, -3.0]))


@pytest.mark.parametrize(
    ("n1", "n2", "hint"),
    [
        ((1, 1), (1, 1), "c2 = 1 when v2·\\(-w\\) > 0"),
        ((1, -1), (-1, -1), "perpendicular to the line"),
        ((0, 0), (-1, -1), "zero vector"),
        ((1, 0), (-1, -1), "not the normal"),
    ],
)
def test_dot_halfplanes_wrong_answers_get_their_hint(n1, n2, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        check.dot_halfplanes(n1, n2)


def test_dot_regions_poll() -> None:
    assert check.dot_regions(2)
    with pytest.raises(CheckFailed, match="two different lines"):
        check.dot_regions(4)
    with pytest.raises(CheckFailed, match="even number"):
        check.dot_regions(3)
    with pytest.raises(CheckFailed, match="whole number"):
        check.dot_regions(2.5)


def test_dot_task_choice() -> None:
    assert check.dot_task(" B ")
    with pytest.raises(CheckFailed, match="c1 XOR c2"):
        check.dot_task("a")
    with pytest.raises(CheckFailed, match="lengths"):
        check.dot_task("d")
    with pytest.raises(CheckFailed, match='one of the letters "a", "b", "c", "d"'):
        check.dot_task("e")


def test_the_task_hint_is_true_on_the_data() -> None:
    """The hint for 'a' says 'same side' disagrees with y on about a quarter of the samples."""
    d = paper("dot")["train"]
    disagree = np.mean((d.c[:, 0] != d.c[:, 1]) != d.y)
    assert 0.2 < disagree < 0.3
