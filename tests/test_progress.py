"""A run's progress: the bar counts data epochs, not Lightning's blocks of them."""

from __future__ import annotations

import re

import pytest

from cem.progress import quiet_progress
from cem.train import run

CFG = {
    "dataset": {"name": "xor", "protocol": "random", "size": 120},
    "model": {"name": "cbm_sigmoid", "extractor": {"hidden": [8]}},
    "evaluation": {"alignment": False, "impurity": False},
}


def test_the_bar_counts_data_epochs(capsys: pytest.CaptureFixture[str]) -> None:
    # 12 data epochs, validated every 4: Lightning sees 3 epochs of 4 data epochs each.
    run({**CFG, "trainer": {"max_epochs": 12, "check_val_every_n_epoch": 4, "progress": "bar"}})
    frames = re.split(r"[\r\n]", capsys.readouterr().out)
    shown = [int(m.group(1)) for f in frames if (m := re.match(r"epoch (\d+)/12 ", f))]
    assert shown and shown[-1] == 12 and {4, 8} <= set(shown)
    assert not any(re.match(r"Epoch \d", f) for f in frames)  # no Lightning bar
    assert any("val/task_acc=" in f for f in frames)


def test_quiet_progress_silences_bar_and_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with quiet_progress():
        for mode in ("bar", "plain"):
            run(
                {
                    **CFG,
                    "trainer": {"max_epochs": 4, "check_val_every_n_epoch": 2, "progress": mode},
                }
            )
    assert "epoch" not in capsys.readouterr().out
    run({**CFG, "trainer": {"max_epochs": 4, "check_val_every_n_epoch": 2, "progress": "plain"}})
    assert re.search(r"^epoch 4/4 ", capsys.readouterr().out, re.M)
