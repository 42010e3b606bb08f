"""The extension point: a model is its module (a kind in the registry's table) plus its YAML.

A toy model is defined here, as a user would in a module of their own, registered through the
public table, and given a YAML in a folder of model configs: nothing else is edited, and it
trains, is evaluated, and is listed wherever models are listed.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from cem.config import resolve_config
from cem.errors import CemError
from cem.models import (
    ConceptModel,
    ConceptOutput,
    ModelKind,
    ModelSettings,
    Objective,
    register,
    registry,
)
from cem.settings import number, setting
from cem.train import run

ROOT = Path(__file__).resolve().parents[1]


# ---- the toy model: what a new model's module holds ----


@dataclass
class ToySettings(ModelSettings):
    scale: float = setting(1.0, number(0, lo_open=True), "multiplies the concept logits")


class ToyNet(ConceptModel):
    """A linear concept bottleneck: x -> k logits -> c2y (a test double, no paper)."""

    def __init__(self, n_features: int, n_concepts: int, n_out: int, scale: float) -> None:
        super().__init__()
        self.n_concepts, self.scale = n_concepts, scale
        self.x2c = nn.Linear(n_features, n_concepts)
        self.c2y = nn.Linear(n_concepts, n_out)

    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        logits = self.scale * self.x2c(x)
        p = torch.sigmoid(logits)
        if mask is not None:
            p = torch.where(mask.bool(), c_int, p)
        return ConceptOutput(self.c2y(p), logits, p.unsqueeze(-1))


def build_toy(cfg: Mapping[str, Any], n_features: int, n_concepts: int, n_out: int) -> ToyNet:
    return ToyNet(n_features, n_concepts, n_out, cfg["scale"])


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(registry.KINDS, "toy", ModelKind("toy", ToySettings, build_toy, Objective))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "toy.yaml").write_text("defaults:\n  - _toy\n  - _self_\n\nname: toy\nscale: 2.0\n")
    monkeypatch.setattr(registry, "EXTRA_CONFIG_DIRS", [folder])
    return "toy"


def test_register_returns_the_kind_and_replaces_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "KINDS", dict(registry.KINDS))
    kind = ModelKind("toy", ToySettings, build_toy, Objective)
    assert register(kind) is kind and registry.get_kind("toy") is kind


def test_a_new_model_needs_only_its_module_and_yaml(toy: str) -> None:
    assert toy in registry.model_names()
    cfg = registry.resolve({"name": toy})
    assert (cfg["kind"], cfg["scale"]) == ("toy", 2.0)  # the YAML's value over the default
    assert registry.kind_defaults("toy")["scale"] == 1.0
    result = run(
        {
            "dataset": {"name": "xor", "protocol": "random", "size": 600, "seed": 2},
            "model": {"name": toy},
            "trainer": {"max_epochs": 30, "progress": "none", "check_val_every_n_epoch": 30},
            "evaluation": {"alignment": False, "impurity": False},
        }
    )
    losses = result.curves["train_loss"]["joint"]  # the base objective's stage
    assert losses[-1] < losses[0] and result.metrics["test/concept_acc"] > 0.9
    assert set(result.curves["interventions"]) == {"random", "uncertainty", "optimal_greedy"}
    with pytest.raises(CemError, match=r"model\.scale=0 is invalid; allowed: a finite number > 0"):
        registry.resolve({"name": toy, "scale": 0})
    with pytest.raises(CemError, match=r"evaluation\.policies='learned' needs a model with"):
        resolve_config({"model": {"name": toy}, "evaluation": {"policies": ["learned"]}})


def test_the_speed_benchmark_times_a_new_model_unchanged(toy: str) -> None:
    spec = importlib.util.spec_from_file_location("speed", ROOT / "benchmarks" / "speed.py")
    assert spec is not None and spec.loader is not None
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    seconds, steps = speed.bare("xor", toy, 2, 0)
    assert steps == 2 * 9 and seconds > 0  # 2 epochs of 2100 rows in batches of 256


def test_a_model_yaml_must_start_from_one_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "odd.yaml").write_text("name: odd\nbottleneck: bool\n")
    monkeypatch.setattr(registry, "EXTRA_CONFIG_DIRS", [tmp_path])
    with pytest.raises(CemError, match=r"model file .*odd\.yaml' is invalid; allowed: .*_self_"):
        registry.resolve({"name": "odd"})
    (tmp_path / "odd.yaml").write_text("defaults:\n  - _nokind\n  - _self_\nname: odd\n")
    with pytest.raises(CemError, match=r"^model\.kind='nokind' is unknown; allowed: .*cbm"):
        registry.resolve({"name": "odd"})


def test_a_cbm_variant_is_yaml_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cbm_hybrid_bool.yaml").write_text(
        "defaults:\n  - _cbm\n  - _self_\nname: cbm_hybrid_bool\nbottleneck: bool\nhybrid: true\n"
    )
    monkeypatch.setattr(registry, "EXTRA_CONFIG_DIRS", [tmp_path])
    cfg = registry.resolve({"name": "cbm_hybrid_bool", "emb_size": 3})
    net = registry.build_model(cfg, 5, 2, 1)
    out = net(torch.randn(4, 5))
    assert out.reps.shape == (4, 2, 2) and net.bottleneck == "bool"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_metrics_are_pure_and_generic_layers_name_no_model() -> None:
    for path in (ROOT / "cem" / "metrics").glob("*.py"):
        ours = {m for m in _imports(path) if m.split(".")[0] == "cem"}
        assert all(
            m in ("cem.errors", "cem.settings") or m.startswith("cem.metrics") for m in ours
        ), (
            path.name,
            ours,
        )
    kinds = {f"cem.models.{k}" for k in ("cbm", "cem", "intcem")}
    generic = [
        "cem/models/lightning.py",
        "cem/models/registry.py",
        "cem/models/base.py",
        "cem/models/inference.py",
        "cem/train.py",
        "cem/evaluate.py",
        "cem/interventions.py",
        "cem/config.py",
        "cem/cli.py",
    ]
    for rel in generic:
        assert not _imports(ROOT / rel) & kinds, rel
