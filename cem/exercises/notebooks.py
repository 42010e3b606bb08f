"""One source per exercise, two notebooks: the student's and the solution.

A source is a jupytext percent-format ``.py`` file (``exercises/<name>.py``). Its solution parts
are marked so that one file gives both notebooks:

* ``answer = 4  # SOLUTION`` — one assignment; the student sees ``answer = ...  # TODO``;
* a block between ``# BEGIN SOLUTION: <what to do>`` and ``# END SOLUTION`` — the student sees
  ``# TODO: <what to do>`` and ``...`` at the block's indentation; lines of the block written
  ``# STUDENT: <code>`` are the student's only and replace that ``...`` (e.g.
  ``# STUDENT: ceilings = ...`` when the cell goes on to use ``ceilings``);
* a markdown cell tagged ``solution`` (``# %% [markdown] tags=["solution"]``) — a written
  answer; the student sees an empty answer cell.

The solution notebook keeps the solutions and drops the markers. Both are written without
outputs, with deterministic cell ids, so ``cem-exercises build --check`` (and a test) can tell
when a committed notebook is out of sync with its source.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cem.errors import CemError

VERSIONS: tuple[str, ...] = ("student", "solutions")
SOLUTION_TAG = "solution"
STUDENT_ANSWER = "**Your answer:** *(double-click this cell and write it here)*"

_LINE = re.compile(r"^(?P<lhs>\s*[A-Za-z_][\w\[\]'\". ,]*=)\s*\S.*?\s*#\s*SOLUTION\s*$")
_BEGIN = re.compile(r"^(?P<indent>\s*)#\s*BEGIN SOLUTION\s*(?::\s*(?P<todo>.*\S))?\s*$")
_END = re.compile(r"^\s*#\s*END SOLUTION\s*$")
_STUDENT = re.compile(r"^(?P<indent>\s*)#\s*STUDENT:\s?(?P<code>.*)$")
_ANY_MARKER = re.compile(r"#\s*(BEGIN SOLUTION|END SOLUTION|SOLUTION\s*$)")


def _split_code(source: str, where: str) -> tuple[str, str]:
    """(student code, solution code) of one code cell's source."""
    student: list[str] = []
    solution: list[str] = []
    block: str | None = None  # the indentation of an open BEGIN SOLUTION block
    stub: list[str] = []  # the open block's STUDENT lines
    for n, line in enumerate(source.splitlines(), 1):
        begin, end, one = _BEGIN.match(line), _END.match(line), _LINE.match(line)
        only_student = _STUDENT.match(line)
        if begin:
            if block is not None:
                raise CemError(f"{where}, line {n}: BEGIN SOLUTION inside an open block")
            block, stub = begin["indent"], []
            student.append(f"{block}# TODO: {begin['todo'] or 'your code here'}")
        elif end:
            if block is None:
                raise CemError(f"{where}, line {n}: END SOLUTION without BEGIN SOLUTION")
            student.extend(stub or [f"{block}..."])
            block = None
        elif only_student:
            if block is None:
                raise CemError(f"{where}, line {n}: STUDENT line outside a SOLUTION block")
            student.append(f"{only_student['indent']}{only_student['code']}")
            stub.append(student.pop())
        elif block is not None:
            solution.append(line)
        elif one:
            student.append(f"{one['lhs']} ...  # TODO")
            solution.append(re.sub(r"\s*#\s*SOLUTION\s*$", "", line))
        elif _ANY_MARKER.search(line):
            raise CemError(
                f"{where}, line {n}: a SOLUTION marker must end an assignment "
                "(`name = value  # SOLUTION`) or be a BEGIN/END SOLUTION line"
            )
        else:
            student.append(line)
            solution.append(line)
    if block is not None:
        raise CemError(f"{where}: BEGIN SOLUTION without END SOLUTION")
    return "\n".join(student), "\n".join(solution)


def _read_source(path: Path) -> Any:
    try:
        import jupytext
    except ImportError:
        raise CemError(
            "building notebooks needs jupytext; allowed: pip install 'cem-bench[course]'"
        ) from None
    return jupytext.read(path, fmt="py:percent")


def build(path: str | Path) -> dict[str, str]:
    """The two notebooks of one source, as ``{"student": json, "solutions": json}`` text."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise CemError(f"exercise source={str(path)!r} is not a file; allowed: exercises/*.py")
    source = _read_source(path)
    out: dict[str, str] = {}
    for version in VERSIONS:
        nb = nbformat.v4.new_notebook()
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "cem_exercise": {"name": path.stem, "version": version, "source": path.name},
        }
        for i, cell in enumerate(source.cells):
            where = f"{path.name}, cell {i + 1}"
            tags = list(cell.metadata.get("tags", []))
            if cell.cell_type == "markdown":
                text = cell.source
                if SOLUTION_TAG in tags and version == "student":
                    text = STUDENT_ANSWER
                new = nbformat.v4.new_markdown_cell(text)
            else:
                student, solution = _split_code(cell.source, where)
                new = nbformat.v4.new_code_cell(student if version == "student" else solution)
            kept = [t for t in tags if t != SOLUTION_TAG]
            if kept:
                new.metadata["tags"] = kept
            new.id = f"{path.stem[:40]}-{i:03d}"
            nb.cells.append(new)
        nbformat.validate(nb)
        out[version] = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def build_all(folder: str | Path, write: bool = True) -> list[Path]:
    """Build every ``folder/*.py`` source into ``folder/student`` and ``folder/solutions``.

    With ``write=False`` nothing is written. Returns the notebooks that differ from what is on
    disk (written ones when ``write``), so an empty list means everything was in sync.
    """
    folder = Path(folder)
    sources = sorted(folder.glob("[0-9]*.py"))
    if not sources:
        raise CemError(f"exercises folder={str(folder)!r} holds no sources; allowed: NN_name.py")
    changed: list[Path] = []
    for src in sources:
        for version, text in build(src).items():
            target = folder / version / f"{src.stem}.ipynb"
            if target.is_file() and target.read_text(encoding="utf-8") == text:
                continue
            changed.append(target)
            if write:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return changed
