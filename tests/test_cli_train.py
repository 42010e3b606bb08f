"""cem-train and cem-report end to end: bad overrides, sweeps, failures, resume, wheel install."""

from __future__ import annotations

import hashlib
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
from cem.errors import CemError
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
        (
            "model=cbn",
            r"^cem-train: error: model='cbn' is unknown; allowed: cbm_bool, .*dnn, intcem$",
        ),
        ("dataset.size=-3", r"^cem-train: error: dataset.size=-3 is invalid; allowed: an integer"),
        ("model.emb_size=0", r"^cem-train: error: model.emb_size=0 is invalid; allowed: an int"),
        ("trainer.max_epochs=abc", r"^cem-train: error: trainer.max_epochs='abc' is invalid"),
        (
            "dataset=xr",
            r"^cem-train: error: dataset='xr' is unknown; allowed: dot, file, many, trig",
        ),
        ("model.embsize=3", r"^cem-train: error: model.embsize is not a setting of model"),
        ("dataset.size==3", r"^cem-train: error: override 'dataset.size==3' is malformed"),
        ("hydra/launcher=jobli", r"^cem-train: error: hydra/launcher='jobli' is unknown"),
        ("dataset=file", r"^cem-train: error: dataset.path is missing; allowed: a .npz, .csv"),
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


def test_cli_gpu_check_skips_remote_launchers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    from cem.cli import check_overrides

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CemError, match="needs a CUDA GPU"):
        check_overrides(["trainer=gpu"])
    check_overrides(["trainer=gpu", "hydra/launcher=slurm"])  # no error


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


def test_a_bad_file_in_a_sweep_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every swept value is resolved up front, a dataset file read and checked: a file that is
    # not a dataset stops the whole sweep in one line instead of being recorded as a failed run.
    from cem.data import build
    from cem.data.io import save

    good = save(build(name="xor", protocol="random", size=120, seed=1), tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, foo=np.zeros(3))
    sweep = tmp_path / "sweep"
    args = ["-m", "dataset=file", f"dataset.path={good},{bad}", f"hydra.sweep.dir={sweep}"]
    assert train_main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.npz' is not a cem-bench .npz file: missing" in err
    assert not sweep.exists()


def _completed_record(sweep: Path, model: str) -> Path:
    return next(
        p
        for p in sweep.rglob("metrics.json")
        if json.loads(p.read_text())["model"] == model
        and json.loads(p.read_text())["status"] == "completed"
    )


@pytest.mark.filterwarnings("ignore:Experiment logs directory")  # the recomputed runs' logs
def test_sweep_records_failures_goes_on_and_never_recomputes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cem import train
    from cem.data import build
    from cem.data.io import save

    real_evaluate = train.evaluate

    def evaluate(module, dm):  # noqa: ANN001, ANN202 - a failure that no up-front check can see
        if module.cfg["name"] == "cbm_sigmoid":
            raise RuntimeError("boom")
        return real_evaluate(module, dm)

    monkeypatch.setattr(train, "evaluate", evaluate)
    data = tmp_path / "data.npz"
    save(build(name="dot", protocol="random", size=120, seed=1), data)
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "dataset=file",
        f"dataset.path={data}",
        "model=cem,cbm_sigmoid",
        f"hydra.sweep.dir={sweep}",
        *[t for t in TINY if not t.startswith("dataset.")],
    ]
    assert train_main(args) == 1  # the sweep goes on, and its exit status says a run failed
    out = capsys.readouterr().out
    assert "2 runs in" in out and "1 completed, 1 failed" in out
    assert re.search(r"^  failed .*: RuntimeError: boom$", out, re.M)
    rows = {r["status"]: r for r in collect(sweep)}
    assert set(rows) == {"completed", "failed"}
    assert "RuntimeError: boom" in rows["failed"]["error"]
    assert rows["completed"]["dataset"] == "dot"  # the file's dataset, not "file"
    done = _completed_record(sweep, "cem")
    record = json.loads(done.read_text())["config"]["dataset"]
    assert record["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert record["meta"]["protocol"] == "random" and "protocol" not in record  # file's, not ours
    before = done.stat().st_mtime_ns
    assert train_main(args) == 1  # the same sweep again: the failed run fails again
    out = capsys.readouterr().out
    assert "already completed, not recomputed" in out and "1 completed (1 reused)" in out
    assert done.stat().st_mtime_ns == before
    # The same path with other contents is another dataset: recomputed, never reused.
    save(build(name="dot", protocol="random", size=120, seed=2), data, force=True)
    assert train_main(args) == 1
    assert "already completed" not in capsys.readouterr().out
    again = json.loads(_completed_record(sweep, "cem").read_text())["config"]["dataset"]
    assert again["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest() != record["sha256"]


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


def test_course_notebooks_export_from_a_wheel_install(wheel_site: Path, tmp_path: Path) -> None:
    """The notebooks ship inside the wheel: cem-exercises exports them from there."""
    env = {**os.environ, "PYTHONPATH": str(wheel_site)}
    out = subprocess.run(
        [str(wheel_site / "bin" / "cem-exercises"), "export", str(tmp_path / "course")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    exported = sorted((tmp_path / "course").glob("*.ipynb"))
    committed = sorted((ROOT / "exercises" / "student").glob("*.ipynb"))
    assert [p.name for p in exported] == [p.name for p in committed] and len(exported) == 8
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(exported, committed, strict=True))
    where = subprocess.run(
        [sys.executable, "-c", "from cem.exercises.files import exercises_dir as d; print(d())"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(wheel_site))


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
