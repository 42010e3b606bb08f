"""IntCEM: its network and ψ, the rollout target, the horizon schedule, the learned policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cem.config import resolve_config
from cem.errors import CemError
from cem.interventions import intervention_curve, intervention_orders
from cem.models import build_model, build_objective, resolve
from cem.models.intcem import IntCEM, IntCEMObjective, rollout_target
from cem.models.lightning import ConceptLightningModule
from cem.train import run

SMALL = {"emb_size": 4, "extractor": {"hidden": [16], "out": 16}, "policy": {"hidden": [8]}}
B, D, K = 16, 5, 4


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, D, generator=g)
    c = (torch.rand(B, K, generator=g) > 0.5).float()
    y = (torch.rand(B, generator=g) > 0.5).long()
    return x, c, y


def small_net(n_out: int = 1, **over: object) -> tuple[IntCEM, IntCEMObjective]:
    cfg = resolve({"name": "intcem", **SMALL, **over})
    net = build_model(cfg, D, K, n_out)
    assert isinstance(net, IntCEM)
    objective = build_objective(cfg, K)
    assert isinstance(objective, IntCEMObjective)
    return net, objective


def test_shapes_and_policy_masks_what_was_intervened() -> None:
    torch.manual_seed(0)
    net, _ = small_net()
    x, c, _ = batch()
    out = net(x)
    assert out.y_logits.shape == (B, 1) and out.c_logits.shape == (B, K)
    assert out.reps.shape == (B, K, 4)
    assert net.policy[-1].out_features == K and net.policy[0].num_features == K * 4 + K
    mask = torch.zeros(B, K, dtype=torch.bool)
    mask[:, [1, 3]] = True
    net.eval()
    scores = net.policy_logits(x, c, mask)
    assert scores.shape == (B, K)
    assert torch.isinf(scores[:, [1, 3]]).all() and torch.isfinite(scores[:, [0, 2]]).all()


def test_a_step_changes_the_weights_of_the_cem_and_of_psi() -> None:
    torch.manual_seed(0)
    net, objective = small_net()
    x, c, y = batch()
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):  # a rollout needs T_max >= 1 free concept: every step has one
        loss = objective.training_loss(net, x, c, y, "joint")
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    changed = {n for n, p in net.named_parameters() if not torch.equal(before[n], p)}
    assert any(n.startswith("policy.") for n in changed)  # ψ learns from the rollouts
    assert any(n.startswith("embedding.") for n in changed) and "c2y.weight" in changed
    assert objective.horizon_limit == pytest.approx(2 * 1.005**3)


def test_rollout_target_on_a_hand_made_case() -> None:
    # m = 1, every positive embedding 1 and negative 0: the logit is Σ w_i p̂_i, so correcting
    # concept i (true value 1) from p̂_i = 0.5 moves the logit by w_i / 2.
    net, _ = small_net(emb_size=1)
    with torch.no_grad():
        net.c2y.weight.copy_(torch.tensor([[1.0, 5.0, -2.0, 0.5]]))
        net.c2y.bias.zero_()
    pos, neg = torch.ones(3, K, 1), torch.zeros(3, K, 1)
    p = torch.full((3, K), 0.5)
    c = torch.ones(3, K)
    y = torch.tensor([1, 1, 0])
    mask = torch.zeros(3, K)
    mask[1, 1] = 1.0  # sample 1 already has concept 1 (the best one) intervened on
    got = rollout_target(net, pos, neg, p, c, y, mask)
    # y = 1: raise the logit most (w = 5); without concept 1, w = 1; y = 0: lower it (w = -2).
    assert got.tolist() == [1, 0, 2]


@pytest.mark.parametrize("n_out", [1, 3])
def test_rollout_target_is_the_argmax_of_the_true_log_odds_gain(n_out: int) -> None:
    torch.manual_seed(3)
    net, _ = small_net(n_out=n_out)
    x, c, _ = batch(1)
    y = torch.randint(0, max(n_out, 2), (B,))
    pos, neg, logits = net.embeddings(x)
    p = torch.sigmoid(logits)
    mask = (torch.rand(B, K) < 0.3).float()
    mask[:, 0] = 0.0  # at least one free concept
    got = rollout_target(net, pos, neg, p, c, y, mask)
    best = torch.full((B,), float("-inf"))
    want = torch.zeros(B, dtype=torch.long)
    for j in range(K):  # brute force: intervene on j, run c2y, read the true label's log-odds
        m = mask.clone()
        m[:, j] = 1.0
        out = net.c2y(net.mix(pos, neg, m * c + (1 - m) * p).flatten(1))
        if n_out == 1:
            gain = torch.where(y == 1, out[:, 0], -out[:, 0])
        else:
            lp = torch.log_softmax(out, 1)
            py = lp.gather(1, y.view(-1, 1)).squeeze(1)
            gain = py - torch.log1p(-py.exp())
        gain = gain.masked_fill(mask[:, j] > 0, float("-inf"))
        better = gain > best + 1e-6
        best, want = torch.where(better, gain, best), torch.where(better, j, want)
    assert torch.equal(got, want)


def test_horizon_draws_stay_within_the_schedule() -> None:
    _, objective = small_net()
    objective.horizon_limit = 3.7  # ⌊T_max⌋ = 3
    torch.manual_seed(0)
    seen_t, seen_extra = set(), set()
    for _ in range(300):
        mask = torch.zeros(B, K)
        mask[:, 0] = 1.0  # RandInt took concept 0 everywhere: 3 free concepts
        steps, after = objective.horizon(mask)
        extra = int(after[0].sum()) - 1
        assert (after.sum(1) == extra + 1).all() and (after[:, 0] == 1).all()
        assert 1 <= steps <= min(3, 6, K - 1 - extra)
        seen_t.add(steps)
        seen_extra.add(extra)
    assert seen_t == {1, 2, 3} and seen_extra == {0, 1}  # extra: uniform in [0, min(3, 3 - 1))
    full = torch.ones(B, K)
    assert objective.horizon(full)[0] == 0  # nothing left to intervene on: no rollout


def test_rollouts_wait_for_the_initial_steps() -> None:
    torch.manual_seed(0)
    net, objective = small_net(rollout_init_steps=2)
    x, c, y = batch()
    for step in range(4):
        objective.training_loss(net, x, c, y, "joint")
        expected = 2.0 * 1.005 ** max(0, step - 1)  # grows from the third step on
        assert objective.horizon_limit == pytest.approx(expected)
    assert objective.get_extra_state() == {"horizon_limit": pytest.approx(2 * 1.005**2), "steps": 4}


def test_learned_policy_never_picks_an_intervened_concept() -> None:
    torch.manual_seed(0)
    net, _ = small_net()
    with torch.no_grad():
        net.policy[-1].bias.copy_(torch.tensor([50.0, 40.0, 30.0, 20.0]))  # ψ loves concept 0
    x, c, y = batch()
    order = intervention_orders(net, x, c, y, "learned")[0]
    assert order.shape == (B, K)
    assert (order.sort(dim=1).values == torch.arange(K)).all()  # each concept once
    assert (order[:, 0] == 0).all() and (order[:, 1] == 1).all()  # then the next best free one
    grouped = intervention_orders(net, x, c, y, "learned", groups=[[1, 2], [0], [3]])[0]
    assert (grouped.sort(dim=1).values == torch.arange(3)).all() and (grouped[:, 0] == 1).all()
    curve = intervention_curve(net, x, c, y, "learned")
    assert curve["n_groups"] == list(range(K + 1))


def test_intcem_learns_xor_and_its_policy_is_measured(tmp_path: Path) -> None:
    r = run(
        {
            "dataset": {"name": "xor", "protocol": "random", "size": 800, "seed": 1},
            "model": {"name": "intcem", **SMALL, "emb_size": 8},
            "trainer": {"max_epochs": 60, "progress": "none", "check_val_every_n_epoch": 60},
            "evaluation": {"alignment": False, "impurity": False, "policies": ["learned"]},
            "seed": 0,
            "output_dir": str(tmp_path),
        }
    )
    assert r.metrics["test/task_acc"] >= 0.95 and r.metrics["test/concept_acc"] >= 0.95
    acc = r.curves["interventions"]["learned"]["correct"]["task_acc"]
    assert len(acc) == 3 and acc[-1] >= acc[0] - 0.02
    reloaded = ConceptLightningModule.load_from_checkpoint(tmp_path / "last.ckpt")
    assert reloaded.objective.horizon_limit == pytest.approx(r.module.objective.horizon_limit)
    assert reloaded.objective.horizon_limit > 2.0  # the schedule moved, and was saved


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ({"model": {"name": "intcem", "initial_horizon": 0.5}}, r"^model\.initial_horizon=0\.5 "),
        ({"model": {"name": "intcem", "max_horizon": 0}}, r"^model\.max_horizon=0 .*>= 1$"),
        (
            {"model": {"name": "intcem", "intervention_task_discount": 0}},
            r"^model\.intervention_task_discount=0 is invalid; allowed: a finite number > 0$",
        ),
        ({"model": {"name": "intcem", "horizon_rate": 0.9}}, r"^model\.horizon_rate=0\.9 .*>= 1"),
        ({"model": {"name": "intcem", "policy": {"hiden": [3]}}}, r"model\.policy\.hiden is unk"),
        (
            {"model": {"name": "cem"}, "evaluation": {"policies": ["learned"]}},
            r"^evaluation\.policies='learned' needs a model with a learned intervention policy, "
            r"and model='cem' has none; allowed: random, uncertainty, optimal_greedy$",
        ),
        ({"model": {"name": "cem", "max_horizon": 3}}, r"^model\.max_horizon is unknown"),
    ],
)
def test_bad_intcem_settings_are_one_line_errors(cfg: dict, match: str) -> None:
    with pytest.raises(CemError, match=match) as e:
        resolve_config(cfg)
    assert "\n" not in str(e.value)


def test_policies_default_to_what_the_model_offers() -> None:
    assert resolve_config({"model": {"name": "intcem"}})["evaluation"]["policies"] == [
        "random",
        "uncertainty",
        "optimal_greedy",
        "learned",
    ]
    assert "learned" not in resolve_config({"model": {"name": "cem"}})["evaluation"]["policies"]
