"""build(): the paper protocol's frozen bytes, seeds, the random protocol's split streams, variants
and validation."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from cem.data import SPECS, build, get_spec, paper
from cem.data.cards import sha256
from cem.data.dataset import SPLITS, lift, split_sizes
from cem.data.io import load
from cem.errors import CemError

# The module object itself, for its private helpers.
build_module = importlib.import_module("cem.data.dataset")

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
NAMES = sorted(SPECS)


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ---- the paper protocol -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_paper_protocol_matches_committed_checksums(name: str) -> None:
    expected = json.loads((DATASETS / "checksums.json").read_text())[name]
    data = paper(name)
    for s in SPLITS:
        for a in ("x", "c", "y"):
            got = sha256(getattr(data[s], a))
            assert got == expected[s][a], f"{name}/{s}/{a}"


@pytest.mark.parametrize("name", NAMES)
def test_paper_protocol_matches_frozen_reference_rows(name: str) -> None:
    ref = load(DATASETS / f"{name}_reference.csv")
    data = paper(name)
    assert ref.meta["reference_rows"] == 8
    for s in SPLITS:
        for a in ("x", "c", "y"):
            got, want = getattr(data[s], a)[:8], getattr(ref[s], a)
            assert _same_bytes(got, want), f"{name}/{s}/{a}"


def test_paper_sizes_and_meta() -> None:
    data = paper("trig")
    assert {s: len(data[s]) for s in SPLITS} == {"train": 2100, "val": 300, "test": 600}
    m = data.meta
    assert (m["dataset"], m["protocol"], m["seed"]) == ("trig", "paper", 42)
    assert m["concept_names"] == list(get_spec("trig").concept_names)
    assert json.loads(json.dumps(m)) == m  # plain JSON, saved verbatim


# ---- seeds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["paper", "random"])
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_other_bytes(protocol: str, name: str) -> None:
    a = build(name=name, protocol=protocol, size=400, seed=5)
    b = build(name=name, protocol=protocol, size=400, seed=5)
    other = build(name=name, protocol=protocol, size=400, seed=6)
    for s in SPLITS:
        assert all(_same_bytes(getattr(a[s], k), getattr(b[s], k)) for k in "xcy")
        assert not np.array_equal(a[s].x, other[s].x)


def test_build_leaves_global_numpy_state_alone() -> None:
    np.random.seed(0)  # noqa: NPY002 (the global state is under test)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    build(name="dot", protocol="paper", input_noise=0.1, task_noise=0.1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_default_seed_is_the_papers() -> None:
    assert (
        paper("xor")["train"].x.tobytes()
        == build(name="xor", protocol="paper")["train"].x.tobytes()
    )


# ---- random protocol: one stream per split ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_resizing_one_split_leaves_a_same_size_split_byte_identical(name: str) -> None:
    base = build(name=name, protocol="random", size=1000, fractions=(0.7, 0.1, 0.2), seed=3)
    # train shrinks, test grows; val keeps its 100 samples and its own stream.
    other = build(name=name, protocol="random", size=1000, fractions=(0.5, 0.1, 0.4), seed=3)
    bigger = build(name=name, protocol="random", size=2000, fractions=(0.85, 0.05, 0.1), seed=3)
    assert len(base["val"]) == len(other["val"]) == len(bigger["val"]) == 100
    for d in (other, bigger):
        for k in "xcy":
            assert _same_bytes(getattr(base["val"], k), getattr(d["val"], k))
    assert (len(other["train"]), len(other["test"]), len(bigger["train"])) == (500, 400, 1700)


def test_resize_invariance_holds_with_variants() -> None:
    kw = {"name": "trig", "protocol": "random", "seed": 9, "input_noise": 0.2, "task_noise": 0.1}
    a = build(size=1000, fractions=(0.7, 0.1, 0.2), label_noise_splits=("train", "val"), **kw)
    b = build(size=1000, fractions=(0.3, 0.1, 0.6), label_noise_splits=("train", "val"), **kw)
    for k in "xcy":
        assert _same_bytes(getattr(a["val"], k), getattr(b["val"], k))


# ---- variants: each regenerated clean and compared ---------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_lift_keeps_labels_and_lifts_the_clean_inputs(name: str) -> None:
    clean = build(name=name, protocol="paper")
    dim = max(12, clean["train"].x.shape[1])
    lifted = build(name=name, protocol="paper", lift_dim=dim, lift_seed=4)
    for s in SPLITS:
        assert lifted[s].x.shape == (len(clean[s]), dim)
        np.testing.assert_array_equal(lifted[s].x, lift(clean[s].x, dim, 4))
        np.testing.assert_array_equal(lifted[s].c, clean[s].c)
        np.testing.assert_array_equal(lifted[s].y, clean[s].y)
    assert lifted.meta["feature_names"] == [f"z{i}" for i in range(1, dim + 1)]
    other = build(name=name, protocol="paper", lift_dim=dim, lift_seed=5)
    assert not np.array_equal(other["train"].x, lifted["train"].x)


def test_lift_is_injective_on_the_data() -> None:
    x = paper("xor")["train"].x
    z = lift(x, 2, 0)
    assert len(np.unique(z.round(12), axis=0)) == len(x)


@pytest.mark.parametrize("name", NAMES)
def test_input_noise_keeps_labels_and_adds_noise_of_the_asked_std(name: str) -> None:
    clean = build(name=name, protocol="random", size=20_000, seed=1)
    noisy = build(name=name, protocol="random", size=20_000, seed=1, input_noise=0.3)
    for s in SPLITS:
        np.testing.assert_array_equal(noisy[s].c, clean[s].c)
        np.testing.assert_array_equal(noisy[s].y, clean[s].y)
        c, y = get_spec(name).labels(clean[s].x)  # the rule still holds on the clean inputs
        np.testing.assert_array_equal(c, noisy[s].c)
        np.testing.assert_array_equal(y, noisy[s].y)
    diff = noisy["train"].x - clean["train"].x
    assert abs(diff.std() - 0.3) < 0.01 and abs(diff.mean()) < 0.01


def _binomial_ok(flips: int, n: int, p: float) -> bool:
    return abs(flips - n * p) <= 4 * math.sqrt(n * p * (1 - p)) + 1e-9


@pytest.mark.parametrize("name", NAMES)
def test_label_noise_flips_only_noisy_splits_at_the_asked_rate(name: str) -> None:
    k = get_spec(name).n_concepts
    probs = [0.0] + [0.15] * (k - 1)  # concept 0 must never flip
    kw = {"name": name, "protocol": "random", "size": 20_000, "seed": 2}
    clean = build(**kw)
    noisy = build(**kw, concept_noise=probs, task_noise=0.25, label_noise_splits=("train", "test"))
    for s in SPLITS:
        np.testing.assert_array_equal(noisy[s].x, clean[s].x)
        c_flip = noisy[s].c != clean[s].c
        y_flip = noisy[s].y != clean[s].y
        if s == "val":
            assert not c_flip.any() and not y_flip.any()
            continue
        n = len(clean[s])
        assert not c_flip[:, 0].any()
        for i in range(1, k):
            assert _binomial_ok(int(c_flip[:, i].sum()), n, 0.15), (s, i)
        assert _binomial_ok(int(y_flip.sum()), n, 0.25), s
        # The labels no longer follow the rule exactly where (and only where) they were flipped.
        c_rule, y_rule = get_spec(name).labels(noisy[s].x)
        np.testing.assert_array_equal(c_rule != noisy[s].c, c_flip)
        np.testing.assert_array_equal(y_rule != noisy[s].y, y_flip)


def test_label_flips_are_exactly_where_the_noise_was_drawn() -> None:
    """White-box: the flips are u < p for the uniforms of the split's variant stream."""
    kw = {"name": "dot", "protocol": "random", "size": 5000, "seed": 8}
    clean, noisy = build(**kw), build(**kw, concept_noise=[0.1, 0.3], task_noise=0.2)
    train = clean["train"]
    u_c = build_module._variant_rng(8, "train", "concept_noise").uniform(size=train.c.shape)
    u_y = build_module._variant_rng(8, "train", "task_noise").uniform(size=train.y.shape)
    np.testing.assert_array_equal(noisy["train"].c != train.c, u_c < np.array([0.1, 0.3]))
    np.testing.assert_array_equal(noisy["train"].y != train.y, u_y < 0.2)


def test_one_variant_does_not_change_another() -> None:
    kw = {"name": "xor", "protocol": "random", "size": 3000, "seed": 4, "task_noise": 0.2}
    a, b = build(**kw), build(**kw, input_noise=0.5)
    np.testing.assert_array_equal(a["train"].y, b["train"].y)


def test_hidden_concepts_are_kept_but_unsupervised() -> None:
    data = build(name="trig", protocol="paper", hidden_concepts=[1])
    np.testing.assert_array_equal(data.supervised, [True, False, True])
    np.testing.assert_array_equal(data["train"].c, paper("trig")["train"].c)
    assert data.meta["hidden_concepts"] == [1]


# ---- validation: one-line CemError naming the field -------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "xr"}, "dataset"),
        ({"protocol": "papr"}, "protocol"),
        ({"size": 0}, "size"),
        ({"size": -10}, "size"),
        ({"fractions": (0.5, 0.5, 0.5)}, "fractions"),
        ({"fractions": (1.2, -0.1, -0.1)}, "fractions"),
        ({"seed": -1}, "seed"),
        ({"input_noise": -0.1}, "input_noise"),
        ({"concept_noise": 1.5}, "concept_noise"),
        ({"concept_noise": [0.1, 0.2, 0.3]}, "concept_noise"),  # xor has 2 concepts
        ({"task_noise": -0.01}, "task_noise"),
        ({"label_noise_splits": ("train", "dev")}, "label_noise_splits"),
        ({"hidden_concepts": [2]}, "hidden_concepts"),
        ({"hidden_concepts": [0, 1]}, "hidden_concepts"),
        ({"lift_dim": 1}, "lift_dim"),
    ],
)
def test_bad_config_raises_one_line_error_naming_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(CemError, match=rf"^{field}=") as err:
        build(**{"name": "xor", **overrides})
    assert "\n" not in str(err.value) and "allowed" in str(err.value)


# ---- regressions ---------------------------------------------------------------------------


def test_split_sizes_never_go_negative() -> None:
    assert split_sizes(3, (0.5, 0.5, 0.0)) == {"train": 2, "val": 1, "test": 0}


def test_every_split_gets_a_sample() -> None:
    # An empty split used to train on nothing (or test on nothing) and complete at chance.
    with pytest.raises(CemError, match=r"^fractions=.*allowed: three numbers in \(0, 1\]"):
        build(name="xor", size=300, fractions=(0.5, 0.5, 0.0))
    with pytest.raises(CemError, match=r"^size=5 is invalid; allowed: an integer >= 6 "):
        build(name="xor", protocol="random", size=5)
    assert [len(build(name="xor", size=6)[s]) for s in SPLITS] == [4, 1, 1]


def test_lift_does_not_change_the_label_flips() -> None:
    a = build(name="xor", task_noise=0.2)
    b = build(name="xor", task_noise=0.2, lift_dim=8)
    np.testing.assert_array_equal(a["train"].y, b["train"].y)
