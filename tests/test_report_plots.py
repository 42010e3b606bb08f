"""report.md and its plots from a sweep directory; plot functions compose into given axes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from cem.cli import report_main
from cem.report import plots
from cem.report.runs import collect
from cem.report.table import summarise

POLICIES = ("random", "uncertainty", "optimal_greedy")


def fake_run(
    root: Path,
    dataset: str,
    model: str,
    seed: int,
    alpha: float = 1.0,
    protocol: str = "paper",
    epochs: int = 500,
    cas_public: float | None = None,
) -> None:
    base = 0.6 + 0.01 * (seed % 10)
    curve = {
        "n_groups": [0, 1, 2],
        "task_acc": [base, base + 0.1, base + 0.2],
        "task_auc": [base, base + 0.1, base + 0.2],
    }
    wrong = {**curve, "task_acc": [base, base - 0.2, base - 0.4]}
    record = {
        "status": "completed",
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "metrics": {
            "test/task_acc": base,
            "test/task_auc": base,
            "test/concept_acc": 0.9,
            "test/concept_auc": 0.95,
            "test/cas": 0.8,
            "test/ois": 0.1,
            "test/nis": 0.5,
            **({} if cas_public is None else {"test/cas_public": cas_public}),
        },
        "curves": {"interventions": {p: {"correct": curve, "incorrect": wrong} for p in POLICIES}},
        "config": {
            "seed": seed,
            "dataset": {"name": dataset, "protocol": protocol},
            "model": {"name": model, "concept_loss_weight": alpha},
            "trainer": {"max_epochs": epochs},
        },
    }
    d = root / f"{dataset}-{model}-{alpha}-{seed}"
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps(record))


@pytest.fixture
def paper_sweep(tmp_path: Path) -> Path:
    for dataset in ("xor", "dot"):
        for model in ("cem", "cbm_sigmoid"):
            for seed in (42, 43):
                fake_run(tmp_path, dataset, model, seed)
    return tmp_path


def test_report_writes_every_plot_and_the_paper_columns(
    paper_sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_main([str(paper_sweep)]) == 0
    report = (paper_sweep / "report.md").read_text()
    assert "| xor | cem | 2 | 62.50 ± 0.71 (±6.35) | 99.17 |" in report  # paper beside ours
    assert "Where and why we differ from the paper" in report
    assert "cas_public %" not in report  # no column: these runs did not measure it
    assert "| dot | cbm_sigmoid | random | 62.50 | 82.50 | 22.50 |" in report
    images = [
        line.split("(")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")
    ]
    assert len(images) == 2 * 2 + 2  # 2 datasets x 2 policies, trade-off, CAS
    for image in images:
        for ext in (".png", ".svg"):
            f = (paper_sweep / image).with_suffix(ext)
            assert f.stat().st_size > 1000
    assert (paper_sweep / images[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_public_cas_column_when_measured(tmp_path: Path) -> None:
    for seed in (42, 43):
        fake_run(tmp_path, "trig", "cbm_hybrid_sigmoid", seed, cas_public=0.7 + 0.02 * (seed - 42))
    assert report_main([str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "| dataset | model | n | cas % | paper % | cas_public % | ois % | nis % |" in report
    assert "| trig | cbm_hybrid_sigmoid | 2 | 80.00 ± 0.00 (±0.00) | 73.75 | 71.00 ± 1.41" in report
    assert "sklearn_extra's KMedoids() defaults" in report


def test_no_paper_columns_for_other_runs(tmp_path: Path) -> None:
    fake_run(tmp_path, "xor", "cem", 0, protocol="random")
    assert report_main([str(tmp_path)]) == 0
    assert "paper %" not in (tmp_path / "report.md").read_text()


def test_alpha_sweep_is_summarised_per_value(tmp_path: Path) -> None:
    for alpha in (10.0, 0.1, 5.0, 1.0):
        fake_run(tmp_path, "dot", "cem", 0, alpha=alpha, epochs=200)
    fake_run(tmp_path, "xor", "cem", 0, alpha=1.0, epochs=200)
    summary = summarise(collect(tmp_path))
    assert [e["variant"] for e in summary if e["dataset"] == "dot"] == [  # numeric order
        "model.concept_loss_weight=0.1",
        "model.concept_loss_weight=1.0",
        "model.concept_loss_weight=5.0",
        "model.concept_loss_weight=10.0",
    ]
    fig, ax = plots.plot_task_vs_concept(summary)
    assert len(ax.lines[0].get_xdata()) == 4  # one line through the four alphas
    _, ax = plots.plot_task_vs_concept(summary, dataset="dot")
    assert ax.get_title() == "task vs concept accuracy (test, dot)"
    assert [len(line.get_xdata()) for line in ax.lines if len(line.get_xdata())] == [4]


def test_plot_functions_draw_into_given_axes(paper_sweep: Path) -> None:
    rows = collect(paper_sweep)
    fig = Figure()
    axes = fig.subplots(1, 3)
    f1, a1 = plots.plot_interventions(rows, "xor", "uncertainty", ax=axes[0])
    f2, a2 = plots.plot_metric_bars(summarise(rows, ["test/cas"]), "test/cas", ax=axes[1])
    f3, a3 = plots.plot_task_vs_concept(summarise(rows), ax=axes[2])
    assert (f1, f2, f3) == (fig, fig, fig) and [a1, a2, a3] == list(axes)
    assert len(a1.lines) == 4  # 2 models x correct/incorrect
    assert {t.get_text() for t in a1.get_legend().get_texts()} == {"cem", "cbm_sigmoid"}
