"""Sweeps that survive: one owner per run, signals, exit status, the SLURM path (submitit's
local executor), and what the report says of runs that never started."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cem.cli import report_main, train_main
from cem.report.runs import collect
from cem.sweep.signals import alive, descendants

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
BY_MODEL = "hydra.sweep.subdir=${model.name}"  # run folders named after the model
HOLD = """
import sys, time
from cem.sweep.lock import try_lock
assert try_lock(sys.argv[1])
print("held", flush=True)
time.sleep(120)
"""


def cem_train(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from cem.cli import train_main; raise SystemExit(train_main())",
        *args,
    ]


def test_a_run_in_progress_elsewhere_is_skipped_then_taken_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "sweep"
    (sweep / "cem").mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(sweep / "cem" / ".cem-lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    args = ["-m", "model=cem,cbm_sigmoid", f"hydra.sweep.dir={sweep}", BY_MODEL, *TINY]
    try:
        assert train_main(args) == 0  # a skipped run is not a failure
        out = capsys.readouterr().out
        assert f"in progress in another process (pid {holder.pid} on " in out
        assert "2 runs in" in out and "1 completed, 0 failed, 1 skipped" in out
        assert re.search(r"^\[sweep\] 1/2 done, 0 failed, ", out, re.M)
        assert not (sweep / "cem" / "metrics.json").exists()  # not touched
        # Alone, the same run folder is refused in one line.
        assert train_main([f"hydra.run.dir={sweep / 'cem'}", *TINY]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("cem-train: error: hydra.run.dir=") and "\n" not in err
        assert f"is in use by a run in progress (pid {holder.pid} on " in err
    finally:
        holder.kill()
        holder.wait()
    # Its owner died: the next sweep takes the run over (one line) and reuses the other one.
    assert train_main(args) == 0
    captured = capsys.readouterr()
    assert re.search(rf"taking over .*cem: its previous owner \(pid {holder.pid} on ", captured.err)
    assert "2 completed (1 reused), 0 failed" in captured.out
    assert json.loads((sweep / "cem" / "metrics.json").read_text())["status"] == "completed"
    assert not (sweep / "cem" / ".cem-lock").exists()


def test_a_sweep_whose_every_run_fails_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cem import train

    def evaluate(module, dm):  # noqa: ANN001, ANN202 - e.g. a GPU that vanished mid-sweep
        raise RuntimeError("CUDA error: no device")

    monkeypatch.setattr(train, "evaluate", evaluate)
    args = ["-m", "model=cem,cbm_sigmoid", f"hydra.sweep.dir={tmp_path}", BY_MODEL, *TINY]
    assert train_main(args) == 1
    out = capsys.readouterr().out
    assert "2 runs in" in out and ": 0 completed, 2 failed" in out
    assert out.count("RuntimeError: CUDA error: no device") == 2
    assert {r["status"] for r in collect(tmp_path)} == {"failed"}


def test_another_config_into_the_same_folder_is_refused_and_unstarted_runs_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["-m", "model=cem,cbm_sigmoid", f"hydra.sweep.dir={tmp_path}", BY_MODEL, *TINY]
    assert train_main(args) == 0
    record = tmp_path / "cem" / "metrics.json"
    before = record.read_bytes(), record.stat().st_mtime_ns
    capsys.readouterr()
    # experiment=quick is not part of the run folders' names: the same folders, other configs.
    assert train_main([*args, "experiment=quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(
        rf"cem-train: error: hydra.sweep.dir='{tmp_path}' holds run 'cem' of another "
        r"config \(trainer.check_val_every_n_epoch=1 there, 10 here\); allowed: the same config "
        r"\(rerunning a sweep resumes it\), or another hydra.sweep.dir",
        err,
    )
    assert (record.read_bytes(), record.stat().st_mtime_ns) == before  # nothing lost or redone
    # A planned run whose folder is gone (it never started) is listed by the report.
    shutil.rmtree(tmp_path / "cbm_sigmoid")
    assert report_main([str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\| cbm_sigmoid \| not started \| xor \| cbm_sigmoid \| 42 \| planned", out)
    assert "1 completed, 1 left out" in out


def _wait_for(condition, timeout_s: float, proc: subprocess.Popen | None = None) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the sweep ended early:\n{proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_sigterm_stops_every_worker_and_says_how_to_resume(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    long = ["trainer.max_epochs=100000", "trainer.check_val_every_n_epoch=1000"]
    cmd = cem_train(
        "-m",
        "model=cem,cbm_sigmoid",
        "seed=1,2",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}",
        "hydra.sweep.subdir=${model.name}_${seed}",
        *TINY,
        *long,
    )
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Both workers are training once two run folders are locked.
        _wait_for(lambda: len(list(sweep.glob("*/.cem-lock"))) == 2, 240, proc)
        workers = descendants(proc.pid)
        assert len(workers) >= 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    text = err.decode()
    assert "Traceback" not in text
    assert text.strip().splitlines()[-1] == (
        "cem-train: interrupted (SIGTERM): 0 of 4 runs completed, 4 left; rerun the same "
        "command to resume (completed runs are reused)"
    )
    time.sleep(0.5)
    assert [pid for pid in workers if alive(pid)] == []  # no orphan goes on training


def test_the_slurm_path_runs_through_submitits_local_executor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "sweep"
    common = [f"hydra.sweep.dir={sweep}", BY_MODEL, *TINY]
    # One run completed already (an earlier sweep that timed out after it): the submitit sweep
    # must reuse it, byte for byte, and train the other one in a pickled job of its array.
    assert train_main(["-m", "model=cem", *common]) == 0
    done = (sweep / "cem" / "metrics.json").read_bytes()
    capsys.readouterr()
    assert train_main(["-m", "model=cem,cbm_sigmoid", "hydra/launcher=slurm_local", *common]) == 0
    out = capsys.readouterr().out
    assert "2 runs in" in out and "2 completed (1 reused), 0 failed" in out
    assert (sweep / "cem" / "metrics.json").read_bytes() == done
    trained = json.loads((sweep / "cbm_sigmoid" / "metrics.json").read_text())
    assert trained["status"] == "completed" and trained["model"] == "cbm_sigmoid"
    # The jobs ran as a submitit array; their results came back through its folder.
    assert len(list((sweep / ".submitit").rglob("*_result.pkl"))) == 2
    logs = "".join(p.read_text() for p in (sweep / ".submitit").rglob("*_log.out"))
    assert "training cbm_sigmoid on xor" in logs and "cem: already completed" in logs


def test_two_sweeps_into_one_folder_train_each_run_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "model=cem,cbm_sigmoid",
        f"hydra.sweep.dir={sweep}",
        BY_MODEL,
        *TINY,
        "trainer.max_epochs=1000",  # a few seconds a run: the two sweeps meet
        "trainer.check_val_every_n_epoch=250",
    ]
    # Import and compose once here, so that this sweep starts at once below.
    import cem.train  # noqa: F401 - Lightning and torch

    assert train_main(["trainer.max_epochs=0"]) == 2
    capsys.readouterr()
    other = subprocess.Popen(
        cem_train(*args), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The other sweep is training its first run: start this one into the same folder.
        _wait_for(lambda: bool(list(sweep.glob("*/.cem-lock"))), 240, other)
        assert train_main(args) == 0
        out, err = other.communicate(timeout=400)
    finally:
        if other.poll() is None:
            other.kill()
    assert other.returncode == 0, err[-3000:]
    ours = capsys.readouterr().out
    assert "in progress in another process" in ours  # they met
    trained = re.findall(r"^training .* -> (\S+)$", out + ours, re.M)
    folders = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert folders == ["cbm_sigmoid", "cem"]
    assert sorted(Path(t).name for t in trained) == folders  # each run trained exactly once
    for folder in folders:
        assert json.loads((sweep / folder / "metrics.json").read_text())["status"] == "completed"
        log = (sweep / folder / "log_joint" / "metrics.csv").read_text().splitlines()
        assert [line.startswith("epoch") for line in log].count(True) == 1  # one header
        epochs = [float(e) for e in (line.split(",")[0] for line in log[1:]) if e]
        assert epochs == sorted(epochs) and epochs[-1] == 1000  # one writer, one attempt
        leftovers = [p.name for p in (sweep / folder).iterdir() if p.name.startswith(".")]
        assert leftovers == [".hydra"]  # no lock, no temporary file
