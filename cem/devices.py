"""Is the accelerator a config asks for there? Checked before anything starts, so that
``trainer=gpu`` on a machine without CUDA fails with one line instead of a traceback from inside
Lightning after start-up."""

from __future__ import annotations

from typing import Any

from cem.errors import CemError

GPU_ACCELERATORS: tuple[str, ...] = ("gpu", "cuda")


def check_accelerator(accelerator: Any, devices: Any = 1) -> None:
    """Raise a one-line ``CemError`` when ``accelerator`` (``trainer.accelerator``) asks for a
    CUDA GPU that torch cannot see, or for more GPUs than there are."""
    if str(accelerator).lower() not in GPU_ACCELERATORS:
        return
    import torch

    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise CemError(
            f"trainer.accelerator={accelerator!r} needs a CUDA GPU, but torch {torch.__version__} "
            f"({build}) sees none; allowed: trainer=cpu here, or install a CUDA build of torch "
            "on a machine with a GPU"
        )
    count = torch.cuda.device_count()
    if isinstance(devices, int) and not isinstance(devices, bool) and devices > count:
        raise CemError(
            f"trainer.devices={devices} is invalid; allowed: an integer in 1..{count} "
            f"(GPUs visible to torch)"
        )
