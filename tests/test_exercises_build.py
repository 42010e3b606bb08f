"""One source, two notebooks: the markers, the builder's errors, and the sync check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cem.errors import CemError
from cem.exercises.notebooks import STUDENT_ANSWER, _split_code, build, build_all

ROOT = Path(__file__).resolve().parents[1]

SOURCE = """# %% [markdown]
# # A title

# %%
answer = 4  # SOLUTION
print(answer)

# %%
def f(x):
    y = x + 1
    # BEGIN SOLUTION: return twice y
    z = 2 * y
    return z
    # END SOLUTION

# %%
# BEGIN SOLUTION: a dict of results
# STUDENT: results = ...
results = {"a": 1}
# END SOLUTION

# %% [markdown] tags=["solution"]
# The written answer.

# %% tags=["keep-me"]
x = 1
"""


def cells(text: str) -> list[dict]:
    return json.loads(text)["cells"]


def source_of(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "09_demo.py"
    path.write_text(SOURCE)
    return path


def test_student_and_solution_versions(source: Path) -> None:
    out = build(source)
    student, solution = cells(out["student"]), cells(out["solutions"])
    assert [source_of(c) for c in student[1:4]] == [
        "answer = ...  # TODO\nprint(answer)",
        "def f(x):\n    y = x + 1\n    # TODO: return twice y\n    ...",
        "# TODO: a dict of results\nresults = ...",
    ]
    assert [source_of(c) for c in solution[1:4]] == [
        "answer = 4\nprint(answer)",
        "def f(x):\n    y = x + 1\n    z = 2 * y\n    return z",
        'results = {"a": 1}',
    ]
    assert source_of(student[4]) == STUDENT_ANSWER
    assert source_of(solution[4]) == "The written answer."
    # The solution tag is consumed; other tags are kept.
    assert "tags" not in student[4]["metadata"] and "tags" not in solution[4]["metadata"]
    assert student[5]["metadata"]["tags"] == ["keep-me"]


def test_build_is_deterministic_and_records_its_source(source: Path) -> None:
    a, b = build(source), build(source)
    assert a == b
    meta = json.loads(a["student"])["metadata"]
    assert meta["cem_exercise"] == {"name": "09_demo", "version": "student", "source": "09_demo.py"}
    assert meta["kernelspec"]["name"] == "python3"
    ids = [c["id"] for c in cells(a["solutions"])]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("# BEGIN SOLUTION\nx = 1", "BEGIN SOLUTION without END SOLUTION"),
        ("x = 1\n# END SOLUTION", "END SOLUTION without BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside an open block"),
        ("print(1)  # SOLUTION", "must end an assignment"),
        ("# STUDENT: x = ...", "STUDENT line outside"),
    ],
)
def test_malformed_markers_are_one_line_errors(code: str, message: str) -> None:
    with pytest.raises(CemError, match=message):
        _split_code(code, "demo.py, cell 1")


def test_build_all_reports_notebooks_out_of_sync(tmp_path: Path, source: Path) -> None:
    assert {p.name for p in build_all(tmp_path, write=True)} == {"09_demo.ipynb"}
    assert build_all(tmp_path, write=False) == []
    source.write_text(SOURCE.replace("answer = 4", "answer = 5"))  # the solution only
    changed = build_all(tmp_path, write=False)
    assert [p.parent.name for p in changed] == ["solutions"]
    assert "answer = 4" in (tmp_path / "solutions" / "09_demo.ipynb").read_text()  # untouched
    source.write_text(SOURCE.replace("print(answer)", "print(answer + 1)"))  # both
    changed = build_all(tmp_path, write=False)
    assert sorted(p.parent.name for p in changed) == ["solutions", "student"]


def test_build_all_refuses_a_folder_without_sources(tmp_path: Path) -> None:
    with pytest.raises(CemError, match="holds no sources"):
        build_all(tmp_path)


def test_the_repository_sources_are_in_sync(tmp_path: Path) -> None:
    """The same check as ``cem-exercises build --check`` on a copy of exercises/."""
    copy = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", copy)
    assert build_all(copy, write=False) == []
