"""Shared test settings: keep Lightning's start-up chatter out of the test output."""

from __future__ import annotations

import logging

for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric"):
    logging.getLogger(name).setLevel(logging.ERROR)
