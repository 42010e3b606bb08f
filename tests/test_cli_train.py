"""cem-train and cem-report end to end: bad overrides, sweeps, failures, resume, wheel install."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cem.cli import report_main, train_main
from cem.report.runs import collect

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "trainer=debug",
    "trainer.max_epochs=1",
    "trainer.progress=none",
    "dataset.protocol=random",
    "dataset.size=120",
    "model.emb_size=2",
    "model.extractor.hidden=[8]",
    "model.extractor.out=8",
    "evaluation.alignment=false",
    "evaluation.impurity=false",
]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model=cbn", r"^cem-train: error: model='cbn' is unknown; allowed: cbm_bool, .*dnn$"),
        ("dataset.size=-3", r"^cem-train: error: dataset.size=-3 is invalid; allowed: an integer"),
        ("model.emb_size=0", r"^cem-train: error: model.emb_size=0 is invalid; allowed: an int"),
        ("trainer.max_epochs=abc", r"^cem-train: error: trainer.max_epochs='abc' is invalid"),
        ("dataset=xr", r"^cem-train: error: dataset='xr' is unknown; allowed: dot, file, trig"),
        ("model.embsize=3", r"^cem-train: error: model.embsize is not a setting of model"),
        ("dataset.size==3", r"^cem-train: error: override 'dataset.size==3' is malformed"),
        ("hydra/launcher=jobli", r"^cem-train: error: hydra/launcher='jobli' is unknown"),
        ("dataset=file", r"^cem-train: error: dataset.path='\?\?\?' is not a file"),
    ],
)
def test_bad_override_fails_before_training_with_one_line(
    override: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    assert train_main([override]) == 2
    err = capsys.readouterr().err.strip()
    assert re.match(message, err), err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "outputs").exists()  # nothing ran, nothing written


def test_a_bad_value_inside_a_sweep_is_caught_up_front(capsys: pytest.CaptureFixture[str]) -> None:
    assert train_main(["-m", "model=cem,cbm_sigmoid", "model.emb_size=4,0"]) == 2
    assert "model.emb_size=0 is invalid" in capsys.readouterr().err


def test_single_run_writes_outputs_and_prints_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert train_main([*TINY, f"hydra.run.dir={out}"]) == 0
    printed = capsys.readouterr().out
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "completed" and record["model"] == "cem"
    assert {"torch", "pytorch-lightning", "cem-bench"} <= set(record["versions"])
    assert record["metrics"]["epochs"] == 1 and record["metrics"]["wall_time_s"] > 0
    test_row = next(line for line in printed.splitlines() if line.startswith("test "))
    assert f"{record['metrics']['test/task_acc']:.4f}" in test_row
    assert (out / "last.ckpt").stat().st_size > 0
    assert list(out.rglob("metrics.csv"))


def test_sweep_records_failures_goes_on_and_never_recomputes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.npz"
    from cem.data import build
    from cem.data.io import save

    save(build(name="xor", protocol="random", size=120, seed=1), good)
    bad = tmp_path / "bad.npz"
    np.savez(bad, foo=np.zeros(3))  # exists, but is not a cem-data file
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "dataset=file",
        f"dataset.path={good},{bad}",
        f"hydra.sweep.dir={sweep}",
        *[t for t in TINY if not t.startswith("dataset.")],
    ]
    assert train_main(args) == 0
    rows = {r["status"]: r for r in collect(sweep)}
    assert set(rows) == {"completed", "failed"}
    assert "bad.npz" in rows["failed"]["error"]
    done = [
        p for p in sweep.rglob("metrics.json") if json.loads(p.read_text())["status"] == "completed"
    ][0]
    before = done.stat().st_mtime_ns
    capsys.readouterr()
    assert train_main(args) == 0  # the same sweep again
    assert "already completed, not recomputed" in capsys.readouterr().out
    assert done.stat().st_mtime_ns == before


def test_joblib_multirun_of_two_jobs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    cmd = [
        sys.executable,
        "-c",
        "from cem.cli import train_main; raise SystemExit(train_main())",
        "-m",
        "model=cem,cbm_sigmoid",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}",
        *TINY,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Joblib.Parallel(n_jobs=2" in proc.stdout + proc.stderr
    rows = collect(sweep)
    assert sorted(r["model"] for r in rows) == ["cbm_sigmoid", "cem"]
    assert all(r["status"] == "completed" for r in rows)


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cem-bench built as a regular wheel and installed (without deps) into its own folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp / "dist").glob("cem_bench-*.whl"))
    assert "cem/conf/train.yaml" in zipfile.ZipFile(wheel).namelist()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(tmp / "site"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return tmp / "site"


def test_train_and_report_from_a_wheel_install(wheel_site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(wheel_site)}
    where = subprocess.run(
        [sys.executable, "-c", "import cem.cli as c; print(c.__file__); print(c.config_dir())"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(p.startswith(str(wheel_site)) for p in where)  # code and configs from the wheel
    sweep = tmp_path / "sweep"
    train = subprocess.run(
        [
            str(wheel_site / "bin" / "cem-train"),
            "-m",
            "dataset=xor,dot",
            "model=cbm_sigmoid",
            f"hydra.sweep.dir={sweep}",
            *TINY,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert train.returncode == 0, train.stderr[-2000:]
    report = subprocess.run(
        [str(wheel_site / "bin" / "cem-report"), str(sweep)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    # The printed table's numbers are the ones in the written files.
    for path in sweep.rglob("metrics.json"):
        record = json.loads(path.read_text())
        acc = f"{100 * record['metrics']['test/task_acc']:.2f}"
        row = next(
            line
            for line in report.stdout.splitlines()
            if line.startswith(f"| {record['dataset']} | cbm_sigmoid |")
        )
        assert row.split("|")[4].strip().startswith(acc)
    csv_text = (sweep / "runs.csv").read_text()
    assert csv_text.count("completed") == 2
    assert (sweep / "summary.md").read_text().strip() in report.stdout


def test_report_bad_dirs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_main([str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert report_main([str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cem-report: error:") and "holds no cem-train runs" in err


def test_help_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    from cem.cli import GROUPS, group_options

    assert train_main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "_base" not in text
    for group in GROUPS:
        assert group in text
        for choice in group_options(group):
            assert choice in text, (group, choice)
    assert text.count("\n  cem-train ") >= 5  # the examples: run, sweep, preset, file, SLURM
    for needle in ("-m ", "experiment=", "dataset=file", "hydra/launcher=slurm", "metrics.json"):
        assert needle in text


def test_missing_gpu_is_one_line_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert train_main(["trainer=gpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert re.match(r"^cem-train: error: trainer.accelerator='gpu' needs a CUDA GPU", err), err
    assert "\n" not in err and "trainer=cpu" in err
    assert not (tmp_path / "outputs").exists()  # nothing started
