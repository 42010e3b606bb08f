"""Execute an exercise notebook headless (nbclient), as CI and course authors do.

``execute`` runs the notebook top to bottom in a fresh kernel and reports how far it got: a
solution notebook must finish without an error cell; a student notebook must stop at its first
placeholder with the checker's ``NotAnswered`` message.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cem.errors import CemError
from cem.exercises.session import FAST_ENV


@dataclass
class Execution:
    """What running one notebook gave.

    error_cell : index of the cell that raised (None when all ran), with ``ename``/``evalue``
    outputs : per code cell, the text it printed (stdout and stderr together)
    """

    path: Path
    seconds: float
    error_cell: int | None = None
    ename: str = ""
    evalue: str = ""
    cells: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_cell is None

    def text(self, index: int) -> str:
        """Everything cell ``index`` printed (streams and error message)."""
        parts = []
        for out in self.cells[index].get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        return "".join(parts)


@contextmanager
def _env(fast: bool):
    old = os.environ.get(FAST_ENV)
    os.environ[FAST_ENV] = "1" if fast else "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(FAST_ENV, None)
        else:
            os.environ[FAST_ENV] = old


def execute(path: str | Path, fast: bool = True, timeout: int = 600) -> Execution:
    """Run the notebook at ``path`` in a fresh ``python3`` kernel (in its folder's parent's
    working directory: a temporary copy is never needed, nothing is written back)."""
    try:
        import nbclient
        import nbformat
    except ImportError:
        raise CemError(
            "running notebooks needs nbclient and ipykernel; "
            "allowed: pip install 'cem-bench[course]'"
        ) from None
    path = Path(path)
    if not path.is_file():
        raise CemError(f"notebook={str(path)!r} is not a file; allowed: an exercise .ipynb")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": "."}}
    )
    result = Execution(path, 0.0, cells=nb.cells)
    t0 = time.perf_counter()
    with _env(fast), client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as e:
                result.error_cell, result.ename, result.evalue = index, e.ename, e.evalue
                break
    result.seconds = time.perf_counter() - t0
    return result
