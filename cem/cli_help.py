"""``cem-train --help``: written for people, built from the config groups on disk so that it
lists exactly the choices ``cem-train`` accepts (Hydra's own dump stays at ``--hydra-help``)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

# What each group is for; the choices themselves come from conf/ (files starting with "_" are
# shared bases, not choices).
GROUP_HELP: dict[str, str] = {
    "dataset": "which data (paper protocol by default; every cem-data setting is a key)",
    "model": "which concept model (the paper's synthetic settings)",
    "trainer": "how to train (epochs, validation, threads, device)",
    "logger": "where training curves go, besides metrics.json",
    "experiment": "a preset that sets groups and a sweep (use with -m)",
    "hydra/launcher": "how a sweep (-m) runs its jobs",
    "hydra/sweeper": "what a sweep runs: cem (every combination, or a search: experiment=pareto)",
}

EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "one run: CEM on the paper's Trig data, 100 epochs",
        "cem-train dataset=trig trainer.max_epochs=100",
    ),
    (
        "a sweep: 2 models x 3 seeds on XOR, one job per core",
        "cem-train -m model=cem,cbm_sigmoid seed=0,1,2 hydra/launcher=joblib",
    ),
    (
        "a preset: the paper's 135 runs, then the report",
        "cem-train -m experiment=paper_synthetic hydra/launcher=joblib "
        "hydra.sweep.dir=outputs/paper && cem-report outputs/paper",
    ),
    (
        "your own data file (written by cem-data generate)",
        "cem-train dataset=file dataset.path=$PWD/outputs/data/trig.npz model=cbm_hybrid_sigmoid",
    ),
    (
        "on a SLURM cluster (one array job per run)",
        "cem-train -m experiment=quick hydra/launcher=slurm hydra.launcher.partition=cpu "
        "hydra.sweep.dir=$SCRATCH/quick",
    ),
)


def help_text(options: Callable[[str], Sequence[str]], groups: Sequence[str]) -> str:
    """The text of ``cem-train --help``; ``options(group)`` lists a group's choices."""
    width = 100
    lines = [
        "usage: cem-train [-m] [GROUP=CHOICE ...] [KEY=VALUE ...]",
        "",
        "Train one concept model (or, with -m, a sweep of them) from Hydra configs, then test it",
        "and measure interventions, concept alignment (CAS) and impurity (OIS/NIS). With no",
        "arguments it trains CEM on the CEM paper's XOR data with the paper's settings.",
        "",
        "config groups (GROUP=CHOICE; default first):",
    ]
    defaults = {
        "dataset": "xor",
        "model": "cem",
        "trainer": "cpu",
        "logger": "csv",
        "hydra/launcher": "basic",
        "hydra/sweeper": "cem",
    }
    for group in groups:
        choices = list(options(group))
        first = defaults.get(group)
        if first in choices:
            choices.remove(first)
            choices.insert(0, first)
        lines.append(f"  {group:<15} {GROUP_HELP.get(group, '')}")
        wrapped = textwrap.wrap(", ".join(choices), width=width - 18)
        lines += [" " * 18 + w for w in wrapped]
    lines += [
        "",
        "settings (KEY=VALUE), e.g. model.emb_size=16 model.concept_loss_weight=0.1",
        "  seed=42 trainer.max_epochs=100 trainer.num_threads=0 dataset.size=5000",
        "  evaluation.alignment=false; a list sweeps with -m: seed=0,1,2.",
        "  Show the full resolved config without training: cem-train --cfg job [overrides]",
        "",
        "examples:",
    ]
    for what, command in EXAMPLES:
        lines += [f"  # {what}", f"  {command}"]
    lines += [
        "",
        "where results go:",
        "  one run:  outputs/runs/<time>_<dataset>_<model>_s<seed>/  (or hydra.run.dir=DIR)",
        "  a sweep:  outputs/sweeps/<time>/<overrides>/              (or hydra.sweep.dir=DIR)",
        "  in each run folder: metrics.json (config, metrics, curves), last.ckpt, the logger's",
        "  files (log_*/ for CSV and TensorBoard; MLflow: its store, logger.tracking_uri)",
        "  summarise runs with: cem-report DIR  -> DIR/report.md, summary.md, runs.csv",
        "  reload a run in Python: from cem.load import load_run; load_run(DIR)",
        "",
        "A bad override fails at once with one line naming the key and the allowed values",
        "(HYDRA_FULL_ERROR=1 for a traceback). Hydra's own options: cem-train --hydra-help",
    ]
    return "\n".join(lines) + "\n"
