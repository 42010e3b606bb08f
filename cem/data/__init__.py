"""Synthetic concept datasets. Importing this package never imports torch or Lightning."""

from cem.data.dataset import SPLITS, ConceptData, DataConfig, Split, build, paper
from cem.data.plain import from_arrays
from cem.data.spec import SPECS, DatasetSpec, get_spec

__all__ = [
    "SPLITS",
    "SPECS",
    "ConceptData",
    "DataConfig",
    "DatasetSpec",
    "Split",
    "build",
    "from_arrays",
    "get_spec",
    "paper",
]
