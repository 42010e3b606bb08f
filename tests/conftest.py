"""Shared test settings: keep Lightning's start-up chatter out of the test output."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import torch

for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric"):
    logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread for the test (a second one on 2 shared cores slows training many-fold),
    then the caller's count back."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
