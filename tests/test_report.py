"""cem-report's collection and summary: nested sweeps, failed and incomplete runs, statistics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cem.cli import report_main
from cem.report.runs import collect
from cem.report.table import ci95, summarise, to_markdown


def write_run(path: Path, status: str, dataset: str, model: str, seed: int, acc: float) -> None:
    path.mkdir(parents=True)
    record = {
        "status": status,
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "metrics": {
            "test/task_acc": acc,
            "test/task_auc": acc,
            "test/concept_acc": acc,
            "test/concept_auc": acc,
        }
        if status == "completed"
        else {},
        "error": "" if status == "completed" else "RuntimeError: boom",
    }
    (path / "metrics.json").write_text(json.dumps(record))


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    for seed, acc in zip((0, 1, 2), (0.90, 0.92, 0.94), strict=True):
        write_run(tmp_path / "a" / f"xor-cem-{seed}", "completed", "xor", "cem", seed, acc)
    write_run(tmp_path / "b" / "nested" / "dot-cem-0", "completed", "dot", "cem", 0, 0.8)
    write_run(tmp_path / "b" / "failed", "failed", "dot", "cem", 1, float("nan"))
    hydra_dir = tmp_path / "b" / "killed" / ".hydra"
    hydra_dir.mkdir(parents=True)
    (hydra_dir / "config.yaml").write_text("dataset: {name: dot}\nmodel: {name: cem}\nseed: 2\n")
    return tmp_path


def test_collect_finds_nested_failed_and_incomplete(sweep: Path) -> None:
    rows = collect(sweep)
    statuses = sorted(r["status"] for r in rows)
    assert statuses == ["completed"] * 4 + ["failed", "incomplete"]
    killed = next(r for r in rows if r["status"] == "incomplete")
    assert (killed["dataset"], killed["model"], killed["seed"]) == ("dot", "cem", 2)


def test_summary_statistics(sweep: Path) -> None:
    summary = {(e["dataset"], e["model"]): e for e in summarise(collect(sweep))}
    xor = summary[("xor", "cem")]["test/task_acc"]
    assert xor["mean"] == pytest.approx(0.92) and xor["std"] == pytest.approx(0.02)
    assert xor["ci95"] == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)
    assert summary[("dot", "cem")]["n"] == 1  # the failed run is not averaged in
    assert math.isnan(ci95([0.5]))


def test_markdown_and_report_files(sweep: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_main([str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "| xor | cem | 3 | 92.00 ± 2.00 (±4.97) |" in out
    assert "Runs left out" in out and "RuntimeError: boom" in out and "incomplete" in out
    csv_lines = (sweep / "runs.csv").read_text().splitlines()
    assert csv_lines[0].startswith("run_dir,status,dataset,model,variant,seed,error")
    assert len(csv_lines) == 1 + 6
    assert to_markdown([]).count("\n") == 1  # header only


HOSTILE = {
    "a list": "[1, 2, 3]",
    "another status": json.dumps({"status": "done", "dataset": "xor", "model": "cem"}),
    "metrics a list": json.dumps({"status": "completed", "dataset": "xor", "model": "cem",
                                  "seed": 0, "metrics": [0.9]}),
    "metrics as text": json.dumps({"status": "completed", "dataset": "xor", "model": "cem",
                                   "seed": 0, "metrics": {"test/task_acc": "0.9"}}),
    "a dict as name": json.dumps({"status": "completed", "dataset": {"a": 1}, "model": "cem"}),
    "config not groups": json.dumps({"status": "failed", "config": {"dataset": [1]}}),
    "broken curves": json.dumps({"status": "completed", "dataset": "xor", "model": "cem",
                                 "metrics": {"test/task_acc": 0.9},
                                 "curves": {"interventions": {"random": {"correct": 1}}}}),
    "nan accuracy": '{"status": "completed", "dataset": "xor", "model": "cem", '
                    '"metrics": {"test/task_acc": NaN}}',
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "not utf-8": "\udcff",
}  # fmt: skip


def test_records_that_are_not_ours_are_unreadable_never_runs(
    sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i, text in enumerate(HOSTILE.values()):
        run = sweep / "hostile" / f"r{i}"
        run.mkdir(parents=True)
        (run / "metrics.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    big = sweep / "hostile" / "big"
    big.mkdir()
    with open(big / "metrics.json", "wb") as f:
        f.truncate(65 * 2**20)  # sparse: larger than any record we write
    rows = collect(sweep)
    unreadable = [r for r in rows if r["status"] == "unreadable"]
    assert len(unreadable) == len(HOSTILE) + 1
    assert all(r["error"].startswith("not a cem-bench metrics.json: ") for r in unreadable)
    assert all("\n" not in r["error"] for r in unreadable)
    assert report_main([str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "| xor | cem | 3 | 92.00 ± 2.00 (±4.97) |" in out  # the three runs, nothing else
    assert f"4 completed, 2 left out, {len(HOSTILE) + 1} unreadable (not run records)" in out
    assert "hostile/r0 | unreadable" in out


def test_a_killed_run_does_not_make_its_siblings_variants(tmp_path: Path) -> None:
    write_run(tmp_path / "done", "completed", "xor", "cem", 0, 0.9)
    record = json.loads((tmp_path / "done" / "metrics.json").read_text())
    record["config"] = {"seed": 0, "model": {"name": "cem", "emb_size": 16}}
    (tmp_path / "done" / "metrics.json").write_text(json.dumps(record))
    hydra_dir = tmp_path / "killed" / ".hydra"
    hydra_dir.mkdir(parents=True)
    (hydra_dir / "config.yaml").write_text("dataset: {name: xor}\nmodel: {name: cem}\nseed: 1\n")
    rows = collect(tmp_path)
    assert [r["variant"] for r in rows] == ["", ""]
