"""Write a report's files as a set: all of them, or none (the previous set stays whole).

The files are written into a fresh hidden folder inside the output folder; only when every one
of them is written do they move into place, each with an atomic rename (a folder such as
``plots/`` is swapped whole). A failure while writing (a plot that cannot be drawn, a full disk)
removes the hidden folder and leaves the output folder as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a hidden folder inside ``out`` to write the set into; publish it if the block
    succeeds, discard it either way. ``OSError`` (read-only or full folder) propagates."""
    stage = Path(tempfile.mkdtemp(prefix=".cem-report-", dir=out))
    try:
        yield stage
        publish(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage: Path, out: Path) -> list[Path]:
    """Move every entry of ``stage`` into ``out``, replacing what is there; returns the paths."""
    moved = []
    for item in sorted(stage.iterdir()):
        target = out / item.name
        if item.is_dir() and target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{item.name}-old-", dir=out))
            os.replace(target, old / item.name)  # aside, then the new folder in, then drop it
            os.replace(item, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(item, target)
        moved.append(target)
    return moved
