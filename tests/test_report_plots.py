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
    base = 0.6 + 0.01 * (seed % 10) + 0.1 * alpha / (1 + alpha)

    def curves(policy: str) -> dict:
        # Same end points for every policy (0 and all groups), a policy-specific middle.
        middle = 0.05 * POLICIES.index(policy)
        right = [base, base + 0.1 + middle, base + 0.2]
        wrong = [base, base - 0.2 - middle, base - 0.4]
        return {
            kind: {"n_groups": [0, 1, 2], "task_acc": acc, "task_auc": acc}
            for kind, acc in (("correct", right), ("incorrect", wrong))
        }

    record = {
        "status": "completed",
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "metrics": {
            "test/task_acc": base,
            "test/task_auc": base,
            "test/concept_acc": 0.9 - 0.01 * alpha,
            "test/concept_auc": 0.95,
            "test/cas": 0.8,
            "test/ois": 0.1,
            "test/nis": 0.5,
            **({} if cas_public is None else {"test/cas_public": cas_public}),
        },
        "curves": {"interventions": {p: curves(p) for p in POLICIES}},
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
    assert "| xor | cem | 2 | 67.50 ± 0.71 (±6.35) | 99.17 |" in report  # paper beside ours
    assert "Where and why we differ from the paper" in report
    assert "cas_public %" not in report  # no column: these runs did not measure it
    # Each policy has its own row, with its value at every number of intervened groups.
    assert "| cbm_sigmoid | random | true | 67.50 | 77.50 | 87.50 | 77.50 |" in report
    assert "| cbm_sigmoid | uncertainty | true | 67.50 | 82.50 | 87.50 | 80.00 |" in report
    assert "| cbm_sigmoid | optimal_greedy | flipped | 67.50 | 37.50 | 27.50 | 42.50 |" in report
    images = [
        line.split("(")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")
    ]
    # 2 datasets x 3 policies, task vs concept per dataset, CAS
    assert len(images) == 2 * 3 + 2 + 1
    for image in images:
        for ext in (".png", ".svg"):
            f = (paper_sweep / image).with_suffix(ext)
            assert f.stat().st_size > 1000
    assert (paper_sweep / images[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Every term of the tables is defined in the report itself.
    terms = report.split("## Terms", 1)[1]
    for term in ("**n**", "**CAS**", "**OIS**", "**NIS**", "**Interventions**"):
        assert term in terms
    assert "REFERENCE" not in report


def test_public_cas_column_when_measured(tmp_path: Path) -> None:
    for seed in (42, 43):
        fake_run(tmp_path, "trig", "cbm_hybrid_sigmoid", seed, cas_public=0.7 + 0.02 * (seed - 42))
    assert report_main([str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "| dataset | model | n | cas % | paper % | cas_public % | ois % | nis % |" in report
    assert "| trig | cbm_hybrid_sigmoid | 2 | 80.00 ± 0.00 (±0.00) | 73.75 | 71.00 ± 1.41" in report
    assert "sklearn_extra's KMedoids() defaults" in report
    # The note on this cell quotes the runs' own numbers.
    assert "trig: cas 80.00, cas_public 71.00 (-9.00 from the authors' computation)" in report


def test_no_paper_columns_for_other_runs(tmp_path: Path) -> None:
    fake_run(tmp_path, "xor", "cem", 0, protocol="random")
    assert report_main([str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "paper %" not in report
    assert "| xor | cem | 1 | 65.00 |" in report  # one run: the mean alone, no "± 0.00"


def test_a_sweep_of_a_setting_gives_one_curve_per_value(tmp_path: Path) -> None:
    # Two values of alpha for the same model must never be averaged into one line.
    for alpha in (0.0, 1.0):
        for seed in (0, 1):
            fake_run(tmp_path, "trig", "cbm_sigmoid", seed, alpha=alpha, epochs=10)
    rows = collect(tmp_path)
    series = plots.intervention_series(rows, "trig", "random")
    correct = [s for s in series if s.kind == "correct"]
    assert [s.label for s in correct] == [
        "cbm_sigmoid (α=0.0)",
        "cbm_sigmoid (α=1.0)",
    ]
    assert [s.n for s in correct] == [2, 2]
    assert correct[0].mean[0] == pytest.approx(0.605)  # α = 0: base 0.6 + mean seed offset
    assert correct[1].mean[0] == pytest.approx(0.655)  # α = 1: + 0.05
    assert correct[0].std[0] == pytest.approx(0.00707, abs=1e-4)  # std over the two seeds
    points = plots.task_vs_concept_points(summarise(rows), "trig")
    assert [(p.variant, p.concept) for p in points] == [
        ("model.concept_loss_weight=0.0", pytest.approx(90.0)),
        ("model.concept_loss_weight=1.0", pytest.approx(89.0)),
    ]
    assert report_main([str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "| cbm_sigmoid (α=0.0) | random | true |" in report
    assert "| cbm_sigmoid (α=1.0) | random | true |" in report


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
    _, ax = plots.plot_task_vs_concept(summary, "dot")
    assert ax.get_title() == "dot: task vs concept accuracy (test)"
    assert [len(line.get_xdata()) for line in ax.lines if len(line.get_xdata())] == [4]


def test_nothing_empty_is_written_and_stale_plots_go(tmp_path: Path) -> None:
    fake_run(tmp_path / "runs", "xor", "cem", 0)
    assert report_main([str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "plots" / "cas.png").exists()
    # Runs that measured no CAS and have no concepts (no interventions): no such plot at all,
    # and the files of the earlier report are not left behind.
    record = json.loads((tmp_path / "runs" / "xor-cem-1.0-0" / "metrics.json").read_text())
    del record["metrics"]["test/cas"], record["metrics"]["test/concept_acc"]
    record["curves"] = {}
    (tmp_path / "runs" / "xor-cem-1.0-0" / "metrics.json").write_text(json.dumps(record))
    assert report_main([str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "![" not in report and "## Concept Alignment Score" not in report
    assert list((tmp_path / "out" / "plots").iterdir()) == []
    fig, _ = plots.plot_metric_bars([], "test/cas")
    assert plots.save(fig, tmp_path / "empty") == [] and not (tmp_path / "empty.png").exists()


def test_plot_functions_draw_into_given_axes(paper_sweep: Path) -> None:
    rows = collect(paper_sweep)
    fig = Figure()
    axes = fig.subplots(1, 3)
    f1, a1 = plots.plot_interventions(rows, "xor", "uncertainty", ax=axes[0])
    f2, a2 = plots.plot_metric_bars(summarise(rows, ["test/cas"]), "test/cas", ax=axes[1])
    f3, a3 = plots.plot_task_vs_concept(summarise(rows), "xor", ax=axes[2])
    assert (f1, f2, f3) == (fig, fig, fig) and [a1, a2, a3] == list(axes)
    assert len(a1.lines) == 4  # 2 models x correct/incorrect
    labels = {t.get_text() for t in a1.get_legend().get_texts()}
    assert {"cem", "cbm_sigmoid", "true values put in", "flipped values put in"} <= labels
    assert any("± 1 std over seeds (n=2)" in label for label in labels)
