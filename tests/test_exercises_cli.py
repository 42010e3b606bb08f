"""``cem-exercises``: list, export (never overwriting without --force), build --check, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cem.exercises import catalog
from cem.exercises.cli import main

ROOT = Path(__file__).resolve().parents[1]
NAMES = [e.name for e in catalog.EXERCISES]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_gives_every_exercise_with_its_goal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["list"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert all(e.goal in line for e, line in zip(catalog.EXERCISES, lines, strict=True))


def test_export_writes_the_student_notebooks(tmp_path: Path, capsys) -> None:
    code, out, _ = run(["export", str(tmp_path / "course")], capsys)
    assert code == 0 and f"wrote {len(NAMES)} student notebooks" in out
    for name in NAMES:
        text = (tmp_path / "course" / f"{name}.ipynb").read_text()
        assert text == (ROOT / "exercises" / "student" / f"{name}.ipynb").read_text()


def test_export_solutions(tmp_path: Path, capsys) -> None:
    assert run(["export", str(tmp_path), "--solutions"], capsys)[0] == 0
    first = (tmp_path / f"{NAMES[0]}.ipynb").read_text()
    assert first == (ROOT / "exercises" / "solutions" / f"{NAMES[0]}.ipynb").read_text()


def test_export_never_overwrites_without_force(tmp_path: Path, capsys) -> None:
    run(["export", str(tmp_path)], capsys)
    mine = tmp_path / f"{NAMES[1]}.ipynb"
    mine.write_text("my work")
    code, out, err = run(["export", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "already exists" in err and "--force" in err
    assert mine.read_text() == "my work"
    assert run(["export", str(tmp_path), "--force"], capsys)[0] == 0
    assert mine.read_text() != "my work"


def test_export_into_a_file_is_refused(tmp_path: Path, capsys) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, _, err = run(["export", str(target)], capsys)
    assert code == 2 and "is a file" in err and target.read_text() == "x"


def test_build_check_reports_out_of_sync_sources(tmp_path: Path, capsys) -> None:
    copy = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", copy)
    assert run(["build", "--check", "--dir", str(copy)], capsys)[0] == 0
    src = copy / f"{NAMES[0]}.py"
    src.write_text(src.read_text().replace("# Exercise 1", "# Exercise one"))
    code, out, _ = run(["build", "--check", "--dir", str(copy)], capsys)
    assert code == 1 and "out of sync" in out
    assert run(["build", "--dir", str(copy)], capsys)[0] == 0
    assert run(["build", "--check", "--dir", str(copy)], capsys)[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lsit"], "invalid choice: 'lsit'"),
        (["export"], "the following arguments are required: dir"),
        (["run", "09"], "exercise='09' is unknown; allowed: 01_dot_regions"),
        (["build", "--dir", "/nonexistent"], "holds no exercise sources"),
    ],
)
def test_bad_input_is_one_line_with_status_2(args: list[str], message: str, capsys) -> None:
    code, _, err = run(args, capsys)
    assert code == 2
    assert err.startswith("cem-exercises: error: ") and err.count("\n") == 1
    assert message in err


def test_the_readme_shows_a_student_the_way_in(tmp_path: Path, capsys) -> None:
    """The README's course commands: install with the course extra, list, export, open."""
    import re
    import shlex

    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "cem-exercises" in b)
    lines = [line.split("  #")[0].strip() for line in block.strip().splitlines()]
    assert "pip install" in lines[0] and "'.[course]'" in lines[0]
    pyproject = (ROOT / "pyproject.toml").read_text()
    course = re.search(r"^course = \[(.*?)\]", pyproject, re.M | re.S).group(1)
    assert "jupyterlab" in course and "ipykernel" in course
    assert lines[-1].startswith(".venv/bin/jupyter lab ")
    for line in lines[1:-1]:
        words = shlex.split(line.replace("~/xai-course", str(tmp_path / "course")))
        assert words[0] == ".venv/bin/cem-exercises"
        assert main(words[1:]) == 0
    opened = lines[-1].split()[-1].replace("~/xai-course", str(tmp_path / "course"))
    assert (Path(opened) / "01_dot_regions.ipynb").is_file()
    capsys.readouterr()
