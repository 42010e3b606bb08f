"""Synthetic concept datasets. Importing this package never imports torch or Lightning."""

from cem.data.dataset import SPLITS, ConceptData, DataConfig, Split, build, paper
from cem.data.spec import SPECS, DatasetSpec, get_spec

__all__ = [
    "SPLITS",
    "SPECS",
    "ConceptData",
    "DataConfig",
    "DatasetSpec",
    "Split",
    "build",
    "get_spec",
    "paper",
]
