"""Where the exercise notebooks are, and exporting them to a folder of the student's choice."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from cem.errors import CemError
from cem.exercises.catalog import EXERCISES

NOTEBOOK_VERSIONS: tuple[str, ...] = ("student", "solutions")


def exercises_dir() -> Path:
    """The exercise sources and notebooks: ``cem/exercises/notebooks`` inside an installed wheel,
    else the clone's top-level ``exercises/`` folder."""
    packaged = Path(str(resources.files("cem"))) / "exercises" / "notebooks"
    if (packaged / "student").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "exercises"


def notebook(name: str, version: str = "student") -> Path:
    """The path of one committed notebook (``version``: ``student`` or ``solutions``)."""
    return exercises_dir() / version / f"{name}.ipynb"


def export(dest: str | Path, solutions: bool = False, force: bool = False) -> list[Path]:
    """Copy every student (or solution) notebook into ``dest``; returns the written paths.

    Refuses, writing nothing, when any of them already exists there (unless ``force``) or when
    ``dest`` is a file.
    """
    version = "solutions" if solutions else "student"
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise CemError(
            f"export folder={str(dest)!r} is a file; allowed: a folder (new or existing)"
        )
    sources = [notebook(e.name, version) for e in EXERCISES]
    missing = [p for p in sources if not p.is_file()]
    if missing:
        raise CemError(f"notebook={str(missing[0])!r} is missing; reinstall cem-bench")
    targets = [dest / p.name for p in sources]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise CemError(
            f"{existing[0]} already exists ({len(existing)} of {len(targets)} notebooks would be "
            "overwritten); allowed: another folder, or --force to overwrite"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for src, target in zip(sources, targets, strict=True):
        shutil.copyfile(src, target)
    return targets
