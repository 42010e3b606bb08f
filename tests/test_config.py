"""The run config: one schema per group, defaults once (YAML = Python), every key and value
checked, resolved once, no code from configs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from cem import config as cem_config
from cem.cli import config_dir
from cem.config import ResolvedConfig, hydra_defaults, resolve_config
from cem.errors import CemError
from cem.models import optim
from cem.models.registry import kind_defaults, model_names, preset
from cem.models.registry import resolve as resolve_model
from cem.settings import integer, resolve, setting
from cem.train import run

TINY = {
    "dataset": {"protocol": "random", "size": 120, "seed": 1},
    "model": {"emb_size": 2, "extractor": {"hidden": [8], "out": 8}},
    "trainer": {"max_epochs": 2, "progress": "none", "check_val_every_n_epoch": 1},
    "evaluation": {"alignment": False, "impurity": False, "interventions": False},
}


@pytest.fixture(scope="module")
def hydra_ctx() -> Iterator[None]:
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        yield


def composed(*overrides: str) -> dict[str, Any]:
    cfg = OmegaConf.to_container(compose("train", overrides=list(overrides)), resolve=False)
    assert isinstance(cfg, dict)
    cfg.pop("output_dir")
    return cfg


def plain(cfg: Any) -> Any:
    return json.loads(json.dumps(cfg))


def test_yaml_and_python_defaults_agree(hydra_ctx: None) -> None:
    # cem-train with no overrides composes exactly the schemas' defaults (the model's: its
    # kind's, with the name its YAML gives)...
    cfg = composed()
    assert cfg.pop("model") == plain({**kind_defaults("cem"), "name": "cem"})
    assert cfg == plain(hydra_defaults())
    # ...and resolves to what run({}) resolves to.
    assert plain(resolve_config(composed())) == plain(resolve_config({}))
    defaults = resolve_config({})
    assert defaults["dataset"]["protocol"] == "paper" and defaults["seed"] == 42
    assert defaults["trainer"]["accelerator"] == "cpu" and defaults["trainer"]["num_threads"] == 1


@pytest.mark.parametrize(
    ("choice", "differs"),
    [
        ("trainer=debug", {"max_epochs": 2, "check_val_every_n_epoch": 1, "progress": "plain"}),
        ("trainer=gpu", {"accelerator": "gpu", "num_threads": 0}),
        ("trainer=cpu", {}),
    ],
)
def test_a_group_file_holds_only_what_differs(
    hydra_ctx: None, choice: str, differs: dict[str, Any]
) -> None:
    trainer = composed(choice)["trainer"]
    assert {k: v for k, v in trainer.items() if hydra_defaults()["trainer"][k] != v} == differs


@pytest.mark.parametrize("name", model_names())
def test_hydra_and_python_read_a_model_yaml_alike(hydra_ctx: None, name: str) -> None:
    kind, values = preset(name)
    model = composed(f"model={name}")["model"]
    assert model == plain({**kind_defaults(kind), **values})
    assert plain(resolve_model(model)) == plain(resolve_model({"name": name}))


def test_a_typo_is_an_error_not_the_default() -> None:
    with pytest.raises(CemError, match=r"^model\.emb_sise is unknown; allowed: name, kind, emb_"):
        run({"model": {"emb_sise": 4}})


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ({"model": {"extractor": {"hiden": [3]}}}, r"model\.extractor\.hiden is unknown"),
        ({"trainer": {"devices": 0}}, r"trainer\.devices=0 is invalid; allowed: 1"),
        ({"trainer": {"accelerator": "tpu"}}, r"trainer\.accelerator='tpu' is unknown"),
        ({"evaluation": {"policies": "random"}}, r"evaluation\.policies='random' is invalid"),
        ({"evaluation": {"groups": [[0], []]}}, r"evaluation\.groups=\[\[0\], \[\]\] is invalid"),
        ({"dataset": {"lift_dim": 1}}, r"dataset\.lift_dim=1 is invalid; allowed: 0 \(off\)"),
        ({"dataset": {"hidden_concepts": [0, 1]}}, r"dataset\.hidden_concepts=\[0, 1\]"),
        ({"dataset": {"sha256": "ab"}}, r"dataset\.sha256 applies to dataset files only"),
        ({"dataset": "xor"}, r"dataset='xor' is invalid; allowed: a mapping of settings"),
        ({"output_dir": 3}, r"output_dir=3 is invalid"),
        ({"model": {"concept_loss_weight": float("nan")}}, r"concept_loss_weight=nan is invalid"),
        ({"model": {"extractor": {"hidden": [10**9]}}}, r"extractor\.hidden=\[1000000000\]"),
    ],
)
def test_every_group_checks_keys_and_values(cfg: dict, match: str) -> None:
    with pytest.raises(CemError, match=match) as e:
        resolve_config(cfg)
    assert "\n" not in str(e.value)


def test_schema_machinery_checks_nested_groups() -> None:
    from dataclasses import dataclass

    from cem.settings import group

    @dataclass
    class Inner:
        n: int = setting(1, integer(1))

    @dataclass
    class Outer:
        inner: Inner = group(Inner)

    assert resolve(Outer, {"inner": {"n": 3}}, "x") == {"inner": {"n": 3}}
    assert resolve(Outer, None, "x") == {"inner": {"n": 1}}
    with pytest.raises(CemError, match=r"^x\.inner\.n=0 is invalid; allowed: an integer >= 1$"):
        resolve(Outer, {"inner": {"n": 0}}, "x")
    with pytest.raises(CemError, match=r"^x\.inner\.m is unknown; allowed: n$"):
        resolve(Outer, {"inner": {"m": 0}}, "x")


# ---- no code from configs -----------------------------------------------------------------------


def test_the_injection_fails_before_anything_runs(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    hostile = [
        {"optimizer": {"_target_": "builtins.open", "file": str(victim), "mode": "w"}},
        {"optimizer": {"lr": {"_target_": "builtins.open", "file": str(victim), "mode": "w"}}},
        {"scheduler": {"x": {"_target_": "builtins.open", "file": str(victim), "mode": "w"}}},
        {"optimizer": {"_target_": "torch.optim.Adam", "_recursive_": True}},
        {"optimizer": {"_target_": "torch.optim.Adam", "_partial_": False}},
        {"scheduler": {"_target_": "torch.optim.lr_scheduler.LambdaLR", "lr_lambda": "print"}},
    ]
    for model in hostile:
        with pytest.raises(CemError, match=r"^model\.(optimizer|scheduler)"):
            run({**TINY, "model": model, "output_dir": str(tmp_path / "out")})
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "out").exists()


def test_allow_listed_optimisers_and_schedulers_train() -> None:
    r = run(
        {
            **TINY,
            "model": {
                **TINY["model"],
                "optimizer": {"_target_": "SGD", "momentum": 0.9},
                "scheduler": {"_target_": "torch.optim.lr_scheduler.StepLR", "step_size": 1},
            },
        }
    )
    # Adam's defaults that SGD also takes stay; ReduceLROnPlateau's are dropped for StepLR.
    assert r.config["model"]["optimizer"] == {
        "_target_": "torch.optim.SGD",
        "_partial_": True,
        "lr": 0.01,
        "weight_decay": 0.0,
        "momentum": 0.9,
    }
    assert r.config["model"]["scheduler"] == {
        "_target_": "torch.optim.lr_scheduler.StepLR",
        "_partial_": True,
        "step_size": 1,
    }
    opt = r.module.optimizers().optimizer
    assert isinstance(opt, torch.optim.SGD) and opt.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert "Adam" in optim.OPTIMIZERS and "LBFGS" not in optim.OPTIMIZERS
    assert "LambdaLR" not in optim.SCHEDULERS and "ReduceLROnPlateau" in optim.SCHEDULERS
    assert resolve_model({"scheduler": None})["scheduler"] is None


# ---- resolved once ----------------------------------------------------------------------------


def test_run_resolves_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = resolve_model

    def counting(*args: Any, **kwargs: Any) -> dict:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cem_config, "resolve_model", counting)
    from cem.models import lightning

    monkeypatch.setattr(lightning, "resolve", counting)
    resolved = resolve_config(TINY)
    assert isinstance(resolved, ResolvedConfig) and len(calls) == 1
    assert resolve_config(resolved) is resolved
    run(resolved)
    assert len(calls) == 1  # neither run() nor the LightningModule resolved it again


def test_gpu_refused_up_front_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(CemError, match=r"^trainer\.accelerator='gpu' needs a CUDA GPU"):
        run({"trainer": {"accelerator": "gpu"}})
    # A launcher that trains on other machines is not judged by this one.
    assert resolve_config({"trainer": {"accelerator": "gpu"}}, hardware=False)
