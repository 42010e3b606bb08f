"""Concept models: the interface (``base``), one module per kind (``cbm``, ``cem``, ...), the
registry that maps a config to a network and its objective, and the Lightning module that
trains any of them (``cem.models.lightning``, imported on demand)."""

from cem.models.base import ConceptModel, ConceptOutput, LearnedPolicy, Objective
from cem.models.registry import (
    ModelKind,
    ModelSettings,
    build_model,
    build_objective,
    model_names,
    register,
    resolve,
)

__all__ = [
    "ConceptModel",
    "ConceptOutput",
    "LearnedPolicy",
    "ModelKind",
    "ModelSettings",
    "Objective",
    "build_model",
    "build_objective",
    "model_names",
    "register",
    "resolve",
]
