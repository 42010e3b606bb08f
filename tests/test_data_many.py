"""The many-concept dataset: its labels re-derived from x, its knobs, its ceiling, its plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from cem.data import build, generators, plots, stats
from cem.data.cards import card
from cem.data.cli import main
from cem.data.spec import spec_for
from cem.errors import CemError

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("k", "share"), [(2, 0.0), (12, 0.1), (24, 0.5), (64, 1.0)])
def test_the_verifier_rederives_every_label(k: int, share: float) -> None:
    data = build(
        name="many", protocol="random", size=1500, seed=k, n_concepts=k, latent_share=share
    )
    spec = data.spec
    assert (spec.n_concepts, spec.n_features) == (k, k + 1)
    for split in data.splits.values():
        c, y = spec.labels(split.x)  # from x alone: invert the mixing, re-apply the rule
        np.testing.assert_array_equal(c, split.c)
        np.testing.assert_array_equal(y, split.y)
    assert data.meta["n_concepts"] == k and data.meta["latent_share"] == share


def test_the_latent_share_is_the_completeness_knob() -> None:
    ceilings = []
    for share in (0.0, 0.1, 0.3, 1.0):
        test = build(name="many", protocol="random", size=6000, latent_share=share)["test"]
        ceilings.append(spec_for("many", {"latent_share": share}).ceiling(test.c, test.y))
    assert ceilings[0] == 1.0  # the concepts decide the task
    assert ceilings[0] > ceilings[1] > ceilings[2] > ceilings[3]
    assert abs(ceilings[3] - 0.5) < 0.05  # all hidden: the concepts say nothing


def test_the_concept_rule_is_the_best_function_of_the_concepts() -> None:
    # With 3 concepts every pattern is seen many times: the majority of each pattern (the best
    # function, counted) and the rule 1[s(c) > 0] agree.
    d = build(name="many", protocol="random", size=40_000, n_concepts=3, latent_share=0.4)
    train = d["train"]
    rule = spec_for("many", d.meta).concept_rule
    assert rule is not None
    assert abs(np.mean(rule(train.c) == train.y) - stats.concept_ceiling(train.c, train.y)) < 1e-3


def test_weights_decay_and_alternate() -> None:
    w = generators.many_weights(12)
    assert np.isclose((w**2).sum(), 1.0)
    assert (np.abs(w[1:]) < np.abs(w[:-1])).all() and (np.sign(w[:-1]) != np.sign(w[1:])).all()


def test_inputs_mix_the_concepts() -> None:
    sp = build(name="many")["train"]
    u = generators.many_latents(sp.x)
    np.testing.assert_allclose(generators.many_features(u), sp.x, atol=1e-12)
    # No single input decides a concept: the best threshold on any one feature stays far from
    # the latent's own (which is exact).
    for i in range(sp.c.shape[1]):
        best = 0.0
        for j in range(sp.x.shape[1]):
            order = np.argsort(sp.x[:, j])
            hits = np.concatenate([[0], np.cumsum(2 * sp.c[order, i] - 1)])
            best = max(best, (hits.max() + (1 - sp.c[:, i]).sum()) / len(sp.c))
            best = max(best, (-hits.min() + sp.c[:, i].sum()) / len(sp.c))
        assert best < 0.9, (i, best)


def test_same_settings_same_bytes() -> None:
    a = build(name="many", protocol="random", size=300, seed=3, n_concepts=7)
    b = build(name="many", protocol="random", size=300, seed=3, n_concepts=7)
    other = build(name="many", protocol="random", size=300, seed=4, n_concepts=7)
    assert a["train"].x.tobytes() == b["train"].x.tobytes()
    assert a["train"].x.tobytes() != other["train"].x.tobytes()


def test_card_states_the_formula_and_the_measured_ceiling() -> None:
    text = card("many")
    data = build(name="many")
    test = data["test"]
    ceiling = np.mean(generators.many_concept_rule(test.c) == test.y)
    assert f"**Concept-only ceiling on the test split: {100 * ceiling:.2f}%**" in text
    assert data.spec.formula in text and "over 1,000,000 fresh samples" in text
    assert "| `z1>0` | +0.6014 |" in text  # the weights table replaces the 4096 patterns


def test_plots_name_the_concepts_and_the_task(tmp_path: Path) -> None:
    data = build(name="many", protocol="random", size=400, n_concepts=5)
    fig, axes = plots.plot_dataset(data)
    assert isinstance(fig, Figure) and axes.shape == (3,)
    assert "z1>0" in axes[0].get_title() and data.meta["task_name"] in axes[1].get_title()
    assert [t.get_text() for t in axes[2].get_xticklabels()] == data.meta["concept_names"]
    fig.savefig(tmp_path / "many.png", dpi=50)
    assert (tmp_path / "many.png").read_bytes()[:8] == PNG
    ax_fig = Figure()
    ax = ax_fig.add_subplot()
    assert plots.plot_many_task(data, "test", ax=ax) == (ax_fig, ax)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["generate", "xor", "--n-concepts", "3"], "n_concepts=3 does not apply to dataset 'xor'"),
        (["generate", "many", "--n-concepts", "65"], "n_concepts=65 is invalid; allowed: null"),
        (["generate", "many", "--latent-share", "1.5"], "latent_share=1.5 is invalid"),
        (["generate", "many", "--hidden-concepts", "12"], "hidden_concepts=[12] is invalid"),
    ],
)
def test_bad_settings_are_refused_in_one_line(
    args: list[str], match: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "-o", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err, err
    assert not list(tmp_path.iterdir())
    with pytest.raises(CemError):
        build(name="trig", latent_share=0.2)
