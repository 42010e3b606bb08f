"""Every shipped Hydra config composes (compose API) and runs a fast_dev_run-sized job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from cem.cli import config_dir, group_options
from cem.models import model_names
from cem.train import run

TINY = [
    "trainer=debug",
    "trainer.fast_dev_run=true",
    "trainer.progress=none",
    "dataset.protocol=random",
    "dataset.size=200",
    "model.emb_size=4",
    "model.extractor.hidden=[16]",
    "model.extractor.out=16",
    "evaluation.alignment=false",
    "evaluation.impurity=false",
]


@pytest.fixture(scope="module")
def hydra_ctx() -> Iterator[None]:
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        yield


def tiny_run(overrides: list[str]) -> dict:
    cfg = compose("train", overrides=[*overrides, *TINY])
    cfg.output_dir = None
    return run(cfg).metrics


def test_model_group_matches_the_registry() -> None:
    assert group_options("model") == model_names()
    assert group_options("dataset") == ["dot", "file", "many", "trig", "xor"]
    assert {"cpu", "gpu", "debug"} <= set(group_options("trainer"))
    assert {"paper_synthetic", "quick", "tradeoff"} <= set(group_options("experiment"))
    assert group_options("logger") == ["csv", "mlflow", "tensorboard"]


@pytest.mark.parametrize("model", model_names())
def test_every_model_config_runs(hydra_ctx: None, model: str) -> None:
    m = tiny_run([f"model={model}"])
    assert 0.0 <= m["test/task_acc"] <= 1.0
    assert ("test/concept_acc" in m) == (model != "dnn")


@pytest.mark.parametrize("dataset", ["xor", "trig", "dot", "many"])
def test_every_dataset_config_runs(hydra_ctx: None, dataset: str) -> None:
    assert 0.0 <= tiny_run([f"dataset={dataset}"])["test/task_acc"] <= 1.0


def test_tradeoff_sweeps_alpha_for_concept_models(hydra_ctx: None) -> None:
    cfg = compose("train", overrides=["experiment=tradeoff"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    alphas = [float(a) for a in str(params["model.concept_loss_weight"]).split(",")]
    assert alphas == [0, 0.01, 0.1, 1, 5, 10]
    assert "dnn" not in params.model and "cem" in params.model.split(",")
    assert (
        0.0
        <= tiny_run(["experiment=tradeoff", "model.concept_loss_weight=5"])["test/task_acc"]
        <= 1.0
    )


# The models of the CEM paper (NeurIPS 2022): paper_synthetic and tradeoff are that paper's
# protocols, so they name its models on purpose, and a new model is not added to them; intcem
# compares IntCEM with CEM. Every other preset sweeps the model YAMLs by glob (quick), so no
# list needs a new model's name.
PAPER_MODELS = [
    "cbm_bool",
    "cbm_hybrid_logit",
    "cbm_hybrid_sigmoid",
    "cbm_independent",
    "cbm_logit",
    "cbm_sequential",
    "cbm_sigmoid",
    "cem",
    "dnn",
]


def test_only_the_paper_presets_name_models(hydra_ctx: None) -> None:
    for experiment in group_options("experiment"):
        cfg = compose("train", overrides=[f"experiment={experiment}"], return_hydra_config=True)
        swept = str(cfg.hydra.sweeper.params.get("model", ""))
        if experiment in ("paper_synthetic", "tradeoff"):
            assert set(swept.split(",")) <= set(PAPER_MODELS), experiment
        elif experiment == "intcem":
            assert swept == "cem,intcem"
        else:
            assert swept in ("", "glob(*,exclude=_*)"), (experiment, swept)


@pytest.mark.parametrize("experiment", ["quick", "paper_synthetic"])
def test_every_experiment_runs_and_sweeps_the_paper_grid(hydra_ctx: None, experiment: str) -> None:
    cfg = compose("train", overrides=[f"experiment={experiment}"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    if experiment == "quick":
        assert params.model == "glob(*,exclude=_*)"  # every model YAML
    else:
        assert sorted(params.model.split(",")) == PAPER_MODELS
    assert sorted(params.dataset.split(",")) == ["dot", "trig", "xor"]
    n_seeds = len(str(params.seed).split(","))
    assert (n_seeds, cfg.trainer.max_epochs) == (
        {"quick": 1, "paper_synthetic": 5}[experiment],
        {"quick": 30, "paper_synthetic": 500}[experiment],
    )
    assert 0.0 <= tiny_run([f"experiment={experiment}"])["test/task_acc"] <= 1.0


def test_model_defaults_are_the_papers(hydra_ctx: None) -> None:
    cfg = OmegaConf.to_container(compose("train"), resolve=False)
    m = cfg["model"]
    assert (m["name"], m["emb_size"], m["concept_loss_weight"]) == ("cem", 128, 1.0)
    assert m["optimizer"]["lr"] == 0.01 and m["training_intervention_prob"] == 0.25
    assert cfg["trainer"]["max_epochs"] == 500 and cfg["dataset"]["batch_size"] == 256
    assert cfg["dataset"]["protocol"] == "paper"


def test_slurm_launcher_composes(hydra_ctx: None) -> None:
    cfg = compose("train", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert "submitit" in launcher._target_.lower() and launcher.cpus_per_task == 1
