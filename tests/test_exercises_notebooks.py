"""The course notebooks: in sync with their sources, solutions run through in fast mode, student
versions stop at their first placeholder with the checker's message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cem.exercises import catalog
from cem.exercises.execute import execute
from cem.exercises.notebooks import build

pytestmark = pytest.mark.slow  # each notebook runs in its own Jupyter kernel (still run in CI)

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
NAMES = [e.name for e in catalog.EXERCISES]


def test_every_exercise_of_the_catalog_has_a_source_and_nothing_else_does() -> None:
    sources = sorted(p.stem for p in EXERCISES.glob("[0-9]*.py"))
    assert sources == NAMES
    for version in ("student", "solutions"):
        assert sorted(p.stem for p in (EXERCISES / version).glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_are_built_from_their_source(name: str) -> None:
    built = build(EXERCISES / f"{name}.py")
    for version, text in built.items():
        committed = (EXERCISES / version / f"{name}.ipynb").read_text(encoding="utf-8")
        assert committed == text, f"{version}/{name}.ipynb is out of sync: run cem-exercises build"
        nb = json.loads(committed)
        assert all(not cell.get("outputs") for cell in nb["cells"]), "committed with outputs"


@pytest.mark.parametrize("name", NAMES)
def test_solution_notebook_runs_in_fast_mode(name: str) -> None:
    result = execute(EXERCISES / "solutions" / f"{name}.ipynb", fast=True)
    print(f"{name}: {result.seconds:.1f} s")  # shown with -s / in the CI log on failure
    assert result.ok, f"cell {result.error_cell}: {result.ename}: {result.evalue}"
    checks = [
        i
        for i, cell in enumerate(result.cells)
        if cell.cell_type == "code" and re.search(r"^check\.\w+\(", cell.source, re.M)
    ]
    assert checks, "a solution notebook with no check"
    for i in checks:
        assert "✓" in result.text(i), f"cell {i} printed no pass: {result.text(i)!r}"


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_stops_at_its_first_placeholder_with_the_checkers_message(
    name: str,
) -> None:
    path = EXERCISES / "student" / f"{name}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    first_todo = next(
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and "TODO" in "".join(cell["source"])
    )
    result = execute(path, fast=True)
    assert result.error_cell == first_todo
    assert result.ename == "NotAnswered"
    text = result.text(first_todo)
    assert text.startswith("✗ ") and "Hint:" in text
    assert "Traceback" not in text and "File " not in text
