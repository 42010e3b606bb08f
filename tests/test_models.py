"""Networks of the concept-model family: shapes, losses, a step, bad configs."""

from __future__ import annotations

import pytest
import torch

from cem.errors import CemError
from cem.models import build_model, model_names, resolve
from cem.models.lightning import ConceptLightningModule

SMALL = {"emb_size": 4, "extractor": {"hidden": [16, 16], "out": 16}}
B, D, K = 8, 5, 3


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, D, generator=g)
    c = (torch.rand(B, K, generator=g) > 0.5).float()
    y = (torch.rand(B, generator=g) > 0.5).long()
    return x, c, y


@pytest.mark.parametrize("name", model_names())
def test_forward_shapes(name: str) -> None:
    cfg = resolve({"name": name, **SMALL})
    net = build_model(cfg, D, K, 1)
    out = net(batch()[0])
    assert out.y_logits.shape == (B, 1)
    if name == "dnn":
        assert out.c_logits is None
        assert out.reps.shape == (B, K, 3)  # (m - 1) free units per concept
    else:
        assert out.c_logits.shape == (B, K)
        expected_r = {"cem": 4, "intcem": 4, "cbm_hybrid_sigmoid": 3, "cbm_hybrid_logit": 3}.get(
            name, 1
        )
        assert out.reps.shape == (B, K, expected_r)


@pytest.mark.parametrize("name", model_names())
def test_loss_finite_and_step_changes_weights(name: str) -> None:
    torch.manual_seed(0)
    module = ConceptLightningModule({"name": name, **SMALL}, D, K, 1)
    x, c, y = batch()
    before = [p.detach().clone() for p in module.net.parameters()]
    opt = torch.optim.SGD([p for p in module.parameters() if p.requires_grad], lr=0.1)
    loss = module.loss(module.net(x), c, y)
    assert torch.isfinite(loss)
    loss.backward()
    opt.step()
    changed = [not torch.equal(a, p) for a, p in zip(before, module.net.parameters(), strict=True)]
    assert any(changed)


def test_multiclass_head() -> None:
    module = ConceptLightningModule({"name": "cem", **SMALL}, D, K, n_out=4)
    x, c, _ = batch()
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    out = module.net(x)
    assert out.y_logits.shape == (B, 4)
    assert torch.isfinite(module.loss(out, c, y))


def test_cem_intervention_selects_positive_or_negative_embedding() -> None:
    net = build_model(resolve({"name": "cem", **SMALL}), D, K, 1)
    x, c, _ = batch()
    pos, neg, _ = net.embedding(net.extractor(x))
    out = net(x, c, torch.ones(B, K, dtype=torch.bool))
    expected = torch.where(c.bool().unsqueeze(-1), pos, neg)
    torch.testing.assert_close(out.reps, expected)


def test_logit_intervention_uses_training_percentiles() -> None:
    net = build_model(resolve({"name": "cbm_logit", **SMALL}), D, K, 1)
    x, c, _ = batch()
    net.set_intervention_logits(torch.randn(200, D))
    assert torch.all(net.logit_lo < net.logit_hi)
    out = net(x, c, torch.ones(B, K, dtype=torch.bool))
    bottleneck = torch.where(c > 0.5, net.logit_hi, net.logit_lo)
    torch.testing.assert_close(out.y_logits, net.c2y(bottleneck))


def test_bool_bottleneck_is_hard_and_blocks_task_gradient() -> None:
    net = build_model(resolve({"name": "cbm_bool", **SMALL}), D, K, 1)
    x, _, _ = batch()
    out = net(x)
    assert set(out.reps.unique().tolist()) <= {0.0, 1.0}
    out.y_logits.sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in net.extractor.parameters())


def test_randint_per_batch_mask_is_shared_across_samples() -> None:
    module = ConceptLightningModule(
        {
            "name": "cem",
            **SMALL,
            "intervention_granularity": "batch",
            "training_intervention_prob": 0.5,
        },
        D,
        K,
    )
    torch.manual_seed(1)
    objective = module.objective
    masks = [objective.intervention_mask(torch.zeros(64, K), "joint") for _ in range(20)]
    assert all(bool((m == m[:1]).all()) for m in masks)
    assert any(bool(m.any()) for m in masks)
    objective.per_batch = False
    mask = objective.intervention_mask(torch.zeros(4000, K), "joint")
    assert abs(mask.float().mean().item() - 0.5) < 0.03  # per-sample Bernoulli(0.5)


def test_sequential_second_stage_freezes_the_extractor() -> None:
    module = ConceptLightningModule({"name": "cbm_sequential", **SMALL}, D, K)
    assert module.stages == ("concepts", "task_predicted") and module.stage == "concepts"
    module.stage = "task_predicted"
    assert not any(p.requires_grad for p in module.net.extractor.parameters())
    assert all(p.requires_grad for p in module.net.c2y.parameters())


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"name": "cbn"}, r"model='cbn' is unknown; allowed: .*cbm_bool.*cem"),
        ({"concept_loss_weight": -1.0}, r"model.concept_loss_weight=-1.0 .*>= 0"),
        ({"emb_size": 0}, r"model.emb_size=0 .*integer >= 1"),
        ({"training_intervention_prob": 1.5}, r"training_intervention_prob=1.5 .*\[0, 1\]"),
        ({"intervention_granularity": "epoch"}, r"intervention_granularity='epoch'.*batch, sample"),
        ({"extractor": {"activation": "swish"}}, r"activation='swish' is unknown"),
        ({"concept_weights": "auto"}, r"concept_weights='auto' is unknown; allowed: balanced"),
    ],
)
def test_bad_model_config(override: dict, match: str) -> None:
    with pytest.raises(CemError, match=match):
        resolve({"name": "cem", **override})
