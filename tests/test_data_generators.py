"""The generators: labelling rules, the rng they are given, and the peer bugs of REFERENCE §1."""

from __future__ import annotations

import numpy as np
import pytest

from cem.data import SPECS, get_spec, paper
from cem.data import generators as g
from cem.data.dataset import SPLITS

NAMES = sorted(SPECS)


@pytest.mark.parametrize("name", NAMES)
def test_labelling_rule_holds_on_every_paper_sample(name: str) -> None:
    data = paper(name)
    spec = get_spec(name)
    for s in SPLITS:
        c, y = spec.labels(data[s].x)
        np.testing.assert_array_equal(c, data[s].c, err_msg=f"{name}/{s} concepts")
        np.testing.assert_array_equal(y, data[s].y, err_msg=f"{name}/{s} task")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("rng", [np.random.RandomState(7), np.random.default_rng(7)])
def test_generator_shapes_dtypes_and_rule(name: str, rng: g.Rng) -> None:
    spec = get_spec(name)
    x, c, y = spec.generate(500, rng)
    assert x.shape == (500, spec.n_features) and x.dtype == np.float64
    assert c.shape == (500, spec.n_concepts) and c.dtype == np.int64
    assert y.shape == (500,) and y.dtype == np.int64
    assert set(np.unique(c)) <= {0, 1} and set(np.unique(y)) == {0, 1}
    c2, y2 = spec.labels(x)
    np.testing.assert_array_equal(c2, c)
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize("name", NAMES)
def test_generators_use_only_the_given_rng(name: str) -> None:
    np.random.seed(123)  # noqa: NPY002 (the global state is under test)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    first = get_spec(name).generate(100, np.random.RandomState(1))
    second = get_spec(name).generate(100, np.random.RandomState(1))
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002  # global state untouched
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_seed_of_the_rng_is_honoured(name: str) -> None:
    x1 = get_spec(name).generate(200, np.random.RandomState(1))[0]
    x2 = get_spec(name).generate(200, np.random.RandomState(2))[0]
    assert not np.array_equal(x1, x2)


def test_dot_v2_is_not_v1_and_task_is_not_constant() -> None:
    """Peer bug: re-seeding before drawing v2 makes v2 = v1, so v1·v2 > 0 always (y == 1)."""
    for s in SPLITS:
        split = paper("dot")[s]
        v1 = (split.x[:, :2] + split.x[:, 2:]) / 2
        v2 = (split.x[:, :2] - split.x[:, 2:]) / 2
        assert not np.allclose(v1, v2)
        assert abs(np.corrcoef(v1[:, 0], v2[:, 0])[0, 1]) < 0.2  # independent draws
        assert 0.4 < split.y.mean() < 0.6


def test_dot_latents_round_trip_through_the_inputs() -> None:
    rng = np.random.RandomState(3)
    v1, v2 = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    x = g.dot_features(v1, v2)
    np.testing.assert_allclose((x[:, :2] + x[:, 2:]) / 2, v1, atol=1e-15)
    np.testing.assert_allclose((x[:, :2] - x[:, 2:]) / 2, v2, atol=1e-15)


def test_trig_inverse_recovers_the_latents() -> None:
    h = np.random.RandomState(0).normal(0, 2, (1000, 3))
    x = g.trig_features(h)
    got = np.stack([g._invert_sin_plus_id(x[:, j]) for j in (0, 2, 4)], axis=1)
    np.testing.assert_allclose(got, h, atol=1e-9)


def test_paper_draw_order_is_train_test_val_from_one_stream() -> None:
    """REFERENCE §1: one RandomState(42) stream, train (2100) → test (600) → val (300)."""
    rs = np.random.RandomState(42)
    train = rs.uniform(0, 1, (2100, 2))
    test = rs.uniform(0, 1, (600, 2))
    val = rs.uniform(0, 1, (300, 2))
    data = paper("xor")
    for s, x in (("train", train), ("test", test), ("val", val)):
        assert data[s].x.tobytes() == x.tobytes()
