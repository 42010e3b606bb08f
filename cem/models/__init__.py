"""Concept models: plain networks (``concept_models``), the registry of config names, and the
Lightning module that trains them (``cem.models.lightning``, imported on demand)."""

from cem.models.concept_models import (
    ConceptBottleneckModel,
    ConceptEmbeddingModel,
    ConceptModel,
    ConceptOutput,
)
from cem.models.registry import DEFAULTS, VARIANTS, build_model, resolve

__all__ = [
    "ConceptBottleneckModel",
    "ConceptEmbeddingModel",
    "ConceptModel",
    "ConceptOutput",
    "DEFAULTS",
    "VARIANTS",
    "build_model",
    "resolve",
]
