"""Plots: files written, panels named after the concepts, ax= honoured, lifted data refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from cem.data import build, get_spec, paper, plots
from cem.errors import CemError

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("name", "panels"), [("xor", 2), ("trig", 5), ("dot", 5)])
def test_plot_dataset_writes_a_png_with_named_panels(
    tmp_path: Path, name: str, panels: int
) -> None:
    fig, axes = plots.plot_dataset(build(name=name, protocol="random", size=400))
    assert isinstance(fig, Figure) and axes.shape == (panels,)
    titles = " | ".join(ax.get_title() for ax in axes)
    spec = get_spec(name)
    for concept in spec.concept_names:
        assert concept in titles, (concept, titles)
    assert spec.task_name in titles
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 10_000


def test_concept_panels_come_first_and_each_names_its_concept() -> None:
    _, axes = plots.plot_dataset("dot")
    for i, concept in enumerate(get_spec("dot").concept_names):
        assert concept in axes[i].get_title()
        assert axes[i].get_legend() is not None
        assert concept in " ".join(t.get_text() for t in axes[i].get_legend().get_texts())


def test_dot_panels_show_the_separating_lines_and_shaded_halfplanes() -> None:
    fig, ax = plots.plot_dot_concept(paper("dot"), 0)
    assert ax.patches or ax.collections  # shaded half-plane + points
    lines = [ln.get_xydata() for ln in ax.get_lines() if len(ln.get_xydata()) == 2]
    # The boundary v1·w = 0 is the line v[2] = -v[1] through the origin.
    assert any(np.allclose(xy[:, 0] + xy[:, 1], 0) for xy in lines)


def test_xor_panel_draws_the_concept_boundaries() -> None:
    _, ax = plots.plot_xor(paper("xor"))
    xs = {tuple(ln.get_xdata()) for ln in ax.get_lines()}
    ys = {tuple(ln.get_ydata()) for ln in ax.get_lines()}
    assert (0.5, 0.5) in xs and (0.5, 0.5) in ys


def test_panel_functions_draw_into_a_given_ax() -> None:
    fig = Figure()
    axes = fig.subplots(1, 3)
    panels = (plots.plot_trig_task, plots.plot_patterns, plots.plot_dot_task)
    for ax, fn in zip(axes, panels, strict=True):
        data = paper("dot" if fn is plots.plot_dot_task else "trig")
        got_fig, got_ax = fn(data, "test", ax=ax)
        assert got_fig is fig and got_ax is ax and ax.get_title()


def test_plot_dataset_with_build_keywords_and_split() -> None:
    fig, axes = plots.plot_dataset("trig", split="val", protocol="random", seed=3, size=600)
    assert "val split, n = 60" in fig.get_suptitle() and "seed 3" in fig.get_suptitle()


def test_lifted_data_cannot_be_plotted() -> None:
    with pytest.raises(CemError, match="^lift_dim="):
        plots.plot_dataset(build(name="dot", lift_dim=8, size=100))


def test_latent_recovery_matches_the_generator() -> None:
    h = np.random.RandomState(0).normal(0, 2, (100, 3))
    from cem.data.generators import trig_features

    np.testing.assert_allclose(plots.trig_latents(trig_features(h)), h, atol=1e-9)
    x = paper("dot")["train"].x
    v1, v2 = plots.dot_latents(x)
    np.testing.assert_allclose(np.concatenate([v1 + v2, v1 - v2], axis=1), x, atol=1e-12)
