"""cem-bench: benchmark package for concept-based models (CBM, CEM) on synthetic concept data."""

__version__ = "0.1.0"
