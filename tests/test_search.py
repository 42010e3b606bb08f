"""The Pareto search (experiment=pareto): resumes a killed search from its database, is
reproducible with a fixed seed, refuses bad input in one line, and the report draws its fronts."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf

from cem.cli import report_main, train_main
from cem.sweep.settings import check_space
from cem.sweep.study import sobol_design

TINY = [
    "trainer=debug",
    "trainer.max_epochs=20",
    "trainer.check_val_every_n_epoch=10",
    "trainer.progress=none",
    "dataset.protocol=random",
    "dataset.size=120",
    "model.extractor.out=8",
    "evaluation.alignment=false",
    "evaluation.impurity=false",
]
STUDY = "dataset=xor,model=cem"


def search(sweep: Path, *extra: str, n_trials: int = 4) -> list[str]:
    """The pareto preset on one dataset and model, searching alpha only, tiny runs."""
    return [
        "-m",
        "experiment=pareto",
        "dataset=xor",
        "model=cem",
        f"hydra.sweep.dir={sweep}",
        f"hydra.sweeper.search.n_trials={n_trials}",
        "hydra.sweeper.search.batch_size=1",
        "hydra.sweeper.search.n_startup_trials=1",
        "~hydra.sweeper.search.space",
        "+hydra.sweeper.search.space={model.concept_loss_weight:{low:0.01,high:10,log:true}}",
        "model.emb_size=2",
        "model.extractor.hidden=[8]",
        *TINY,
        *extra,
    ]


def trials(sweep: Path) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{sweep / 'study.db'}")
    return study.trials


def test_a_killed_search_resumes_from_its_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "sweep"
    cmd = [sys.executable, "-c", "from cem.cli import train_main; raise SystemExit(train_main())"]
    proc = subprocess.Popen(
        [*cmd, *search(sweep)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    third = sweep / STUDY / "trial_002" / ".hydra"  # made when the third trial's run starts
    deadline = time.monotonic() + 240
    while not third.exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = trials(sweep)
    assert [t.state.name for t in before[:2]] == ["COMPLETE", "COMPLETE"]
    assert len(before) == 3 and before[2].state.name in ("RUNNING", "COMPLETE")
    kept = {n: (sweep / STUDY / f"trial_00{n}" / "metrics.json").read_bytes() for n in (0, 1)}
    # The same command again: it finishes the search with the requested number of trials.
    assert train_main(search(sweep)) == 0
    out = capsys.readouterr().out
    after = trials(sweep)
    assert [t.state.name for t in after] == ["COMPLETE"] * 4
    assert [t.params for t in after[:3]] == [t.params for t in before]  # trial 2 run again as is
    for n, data in kept.items():  # finished trials kept, not run again
        assert (sweep / STUDY / f"trial_00{n}" / "metrics.json").read_bytes() == data
    if before[2].state.name == "RUNNING":
        assert f"taking over {STUDY} trial 2: its process ended without finishing it" in out
    for t in after:  # what the study was told is what the run recorded
        record = json.loads((sweep / STUDY / f"trial_00{t.number}" / "metrics.json").read_text())
        assert t.values == [record["metrics"]["val/task_acc"], record["metrics"]["val/concept_acc"]]
    assert re.search(rf"^\[pareto\] {STUDY}: 4 of 4 trials complete, front of \d", out, re.M)
    # The report draws the front and gives its hypervolume.
    assert report_main([str(sweep)]) == 0
    report = (sweep / "report.md").read_text()
    assert "## Pareto fronts (search)" in report and (sweep / "plots" / "pareto_xor.png").exists()
    assert re.search(r"^\| xor \| cem \| 4 \| [01]\.\d{4} \| 0 \| – \|$", report, re.M)


def test_the_same_seed_gives_the_same_search(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        assert train_main(search(tmp_path / name, n_trials=3)) == 0
        runs.append([(t.params, t.values) for t in trials(tmp_path / name)])
    assert runs[0] == runs[1]
    assert runs[0][0][0] == {"model.concept_loss_weight": 1.0}  # the defaults come first
    space = {"model.concept_loss_weight": {"low": 0.01, "high": 10, "log": True}}
    # then the Sobol design (n_startup_trials=1), seeded like the sampler
    assert runs[0][1][0] == sobol_design(check_space(space), 1, seed=0)[0]
    assert len({p["model.concept_loss_weight"] for p, _ in runs[0]}) == 3
    # A dimension without zero is identified as it was before zero existed: a search started
    # then resumes (tests below check that a study of another identity is refused).
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{tmp_path / 'a' / 'study.db'}")
    assert study.user_attrs["cem:identity"]["space"] == {
        "model.concept_loss_weight": space["model.concept_loss_weight"]
        | {"type": "float", "repeat": None, "choices": None}
    }


def test_the_design_counts_towards_n_trials(tmp_path: Path) -> None:
    # 1 default + 3 design points asked for, 3 trials in all: the design is cut to fit, and
    # trials enqueued but not yet run do not count as run.
    args = search(tmp_path, "hydra.sweeper.search.n_startup_trials=3", n_trials=3)
    assert train_main(args) == 0
    done = trials(tmp_path)
    assert [t.state.name for t in done] == ["COMPLETE"] * 3
    space = {"model.concept_loss_weight": {"low": 0.01, "high": 10, "log": True}}
    design = sobol_design(check_space(space), 2, seed=0)
    assert [t.params for t in done] == [{"model.concept_loss_weight": 1.0}, *design]


def test_zero_puts_alpha_zero_in_a_log_range(tmp_path: Path) -> None:
    # zero: true adds the decade below low, which stands for alpha = 0 (no concept loss): over
    # [0.001, 0.01] that is half of the study's range, and the first two Sobol points fall one
    # in each half, so exactly one of them runs with alpha = 0, whatever the seed.
    space = (
        "+hydra.sweeper.search.space="
        "{model.concept_loss_weight:{low:0.001,high:0.01,log:true,zero:true}}"
    )
    args = [
        space if a.startswith("+hydra.sweeper.search.space=") else a
        for a in search(tmp_path, n_trials=3)
    ]
    args.append("hydra.sweeper.search.n_startup_trials=2")
    assert train_main(args) == 0
    done = trials(tmp_path)
    assert [t.state.name for t in done] == ["COMPLETE"] * 3
    drawn = [t.params["model.concept_loss_weight"] for t in done]
    ran = []
    for n in range(3):
        folder = tmp_path / STUDY / f"trial_00{n}"
        config = OmegaConf.load(folder / ".hydra" / "config.yaml")
        recorded = json.loads((folder / "trial.json").read_text())["params"]
        assert recorded["model.concept_loss_weight"] == config.model.concept_loss_weight
        ran.append(config.model.concept_loss_weight)
    # alpha = 1.0, the default, is outside the range: no defaults trial, the design comes first
    assert sorted(d < 0.001 for d in drawn[:2]) == [False, True]
    for d, r in zip(drawn, ran, strict=True):
        assert 1e-4 <= d <= 0.01 and (r == 0.0 if d < 0.001 else r == d)


def test_the_preset_searches_each_model_on_the_settings_it_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The preset's own space on both of its models: RandInt's probability is CEM's alone.
    args = ["-m", "experiment=pareto", "dataset=xor", f"hydra.sweep.dir={tmp_path}"]
    args += ["hydra.sweeper.search.n_trials=1", "hydra.sweeper.search.batch_size=1", *TINY]
    assert train_main(args) == 0
    out = capsys.readouterr().out
    assert (
        out.count(
            "cem-train: model=cbm_sigmoid does not have or read model.emb_size, "
            "model.training_intervention_prob; its studies search the other 3 settings"
        )
        == 1
    )
    searched = {}
    for model in ("cbm_sigmoid", "cem"):
        info = json.loads(
            (tmp_path / f"dataset=xor,model={model}/trial_000/trial.json").read_text()
        )
        searched[model] = set(info["params"])
        study = optuna.load_study(
            study_name=f"dataset=xor,model={model}", storage=f"sqlite:///{tmp_path / 'study.db'}"
        )
        assert [t.state.name for t in study.trials] == ["COMPLETE"]
    # a joint CBM has no embedding: the CBM's trials do not pretend to vary its size
    assert searched["cem"] - searched["cbm_sigmoid"] == {
        "model.emb_size",
        "model.training_intervention_prob",
    }
    assert searched["cbm_sigmoid"] < searched["cem"]


def test_bad_input_is_refused_in_one_line_and_nothing_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(args: list[str], pattern: str) -> None:
        assert train_main(args) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and re.search(pattern, err), err

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "study.db").write_text("not a database")
    refused(
        search(corrupt),
        r"^cem-train: error: hydra.sweeper.search.storage='sqlite:///.*study.db' is not a "
        r"usable Optuna study database \(.*file is not a database\); allowed: ",
    )
    assert (corrupt / "study.db").read_text() == "not a database"
    refused(
        search(tmp_path / "x", "~hydra.sweeper.search.space", "+hydra.sweeper.search.space={a:1}"),
        r"^cem-train: error: hydra.sweeper.search.space.a is not a setting to search; allowed:",
    )
    refused(
        [*search(tmp_path / "x"), "hydra.sweeper.search.space.x={low:0,high:1}"],
        r"^cem-train: error: hydra.sweeper.search.space.x is not a setting of "
        r"hydra.sweeper.search.space; allowed: a setting to search \(model.emb_size, ",
    )
    both = (
        "model.concept_loss_weight:{low:0.1,high:1},model.training_intervention_prob:{low:0,high:1}"
    )
    cbm = [
        {"model=cem": "model=cbm_sigmoid"}.get(a, a)
        for a in search(tmp_path / "x")
        if not a.startswith("+hydra.sweeper.search.space=")
    ]
    cbm.append(f"+hydra.sweeper.search.space={{{both}}}")
    refused(  # a setting that no searched model has
        cbm,
        r"^cem-train: error: hydra.sweeper.search.space.model.training_intervention_prob is "
        r"not a setting that any searched model \(cbm_sigmoid\) reads; allowed: a setting one "
        r"of them reads$",
    )
    lr_zero = (
        "+hydra.sweeper.search.space={model.optimizer.lr:{low:0.001,high:0.1,log:true,zero:true}}"
    )
    refused(  # 0 where the setting does not take it
        [
            lr_zero if a.startswith("+hydra.sweeper.search.space=") else a
            for a in search(tmp_path / "x")
        ],
        r"^cem-train: error: hydra.sweeper.search.space.model.optimizer.lr.zero=0.0 is invalid; "
        r"allowed: what model.optimizer.lr takes \(a finite number > 0\)$",
    )
    assert not (tmp_path / "x").exists()
    sweep = tmp_path / "sweep"
    assert train_main(search(sweep, n_trials=1)) == 0
    db = (sweep / "study.db").read_bytes()
    capsys.readouterr()
    refused(  # another search into the same folder
        search(sweep, "trainer.max_epochs=3", n_trials=1),
        rf"^cem-train: error: hydra.sweep.dir holds study '{STUDY}' of another search "
        r"\(config.trainer.max_epochs=20 there, 3 here\); allowed: the same search",
    )
    refused(  # a grid sweep into a search's folder
        ["-m", "model=cem", f"hydra.sweep.dir={sweep}", *TINY],
        r"holds a Pareto search, not a grid sweep; allowed: another hydra.sweep.dir$",
    )
    assert (sweep / "study.db").read_bytes() == db and len(trials(sweep)) == 1
