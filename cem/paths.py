"""Where the shipped Hydra configs are: ``cem/conf`` in an installed wheel, else the clone's
``conf/``. NumPy-free and torch-free, so command lines can list config choices quickly."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def conf_root() -> Path:
    """The folder holding ``train.yaml`` and the config groups (``model/``, ``dataset/``, ...)."""
    packaged = Path(str(resources.files("cem"))) / "conf"
    clone = Path(__file__).resolve().parents[1] / "conf"
    return packaged if (packaged / "train.yaml").is_file() else clone
