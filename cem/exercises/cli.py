"""``cem-exercises``: list the course exercises, export their notebooks, and (for course
authors) rebuild them from their sources and run them headless.

Bad input prints one line ``cem-exercises: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cem.errors import CemError
from cem.exercises import catalog
from cem.exercises.files import exercises_dir, export, notebook

PROG = "cem-exercises"


class _UsageError(CemError):
    """An argparse error, turned into our one-line error."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def cmd_list(args: argparse.Namespace) -> int:
    """One line per exercise: name and goal."""
    width = max(len(e.name) for e in catalog.EXERCISES)
    for e in catalog.EXERCISES:
        print(f"{e.name:<{width}}  {e.title}: {e.goal}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Copy the notebooks into the student's folder."""
    written = export(args.dir, solutions=args.solutions, force=args.force)
    kind = "solution" if args.solutions else "student"
    print(f"wrote {len(written)} {kind} notebooks to {Path(args.dir)}/")
    print(f"open them with:  jupyter lab {Path(args.dir)}")
    return 0


def _source_dir(value: str | None) -> Path:
    folder = Path(value) if value else exercises_dir()
    if not any(folder.glob("[0-9]*.py")):
        raise CemError(
            f"--dir={str(folder)!r} holds no exercise sources; allowed: the clone's exercises/ "
            "folder (building is for course authors working in a clone)"
        )
    return folder


def cmd_build(args: argparse.Namespace) -> int:
    """Make the student and solution notebooks from the sources (or only check them)."""
    from cem.exercises.notebooks import build_all

    folder = _source_dir(args.dir)
    changed = build_all(folder, write=not args.check)
    if args.check:
        for path in changed:
            print(f"out of sync: {path} (run: cem-exercises build)")
        print("all notebooks in sync with their sources" if not changed else "")
        return 1 if changed else 0
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} notebooks rebuilt" if changed else "all notebooks already in sync")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Execute notebooks headless; print each one's time and where it stopped."""
    from cem.exercises.execute import execute

    names = [catalog.get(n).name for n in args.names] or [e.name for e in catalog.EXERCISES]
    version = "student" if args.student else "solutions"
    failed = 0
    for name in names:
        r = execute(notebook(name, version), fast=args.fast, timeout=args.timeout)
        if r.ok:
            status = "ok"
        else:
            first = r.evalue.strip().splitlines()[0] if r.evalue.strip() else ""
            status = f"stopped at cell {r.error_cell + 1}: {r.ename}: {first}"
        expected = r.ok if version == "solutions" else r.ename == "NotAnswered"
        failed += not expected
        print(f"{name:<22} {version:<9} {r.seconds:6.1f} s  {status}", flush=True)
    return 1 if failed else 0


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="The course exercises of cem-bench: self-checking Jupyter notebooks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  cem-exercises list\n"
            "  cem-exercises export ~/xai-course          # the student notebooks\n"
            "  cem-exercises export ~/answers --solutions\n"
            "  cem-exercises build                          # course authors, in a clone\n"
            "  cem-exercises run 01 02 --fast               # execute headless, with times"
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the exercises and their goals")
    p.set_defaults(run=cmd_list)
    p = sub.add_parser("export", help="write the notebooks to a folder of your choice")
    p.add_argument("dir", help="target folder (created if missing)")
    p.add_argument("--solutions", action="store_true", help="the solution notebooks instead")
    p.add_argument("--force", action="store_true", help="overwrite notebooks already there")
    p.set_defaults(run=cmd_export)
    p = sub.add_parser("build", help="(authors) make both notebooks from exercises/NN_*.py")
    p.add_argument("--dir", help="the sources' folder (default: the clone's exercises/)")
    p.add_argument("--check", action="store_true", help="only report notebooks out of sync")
    p.set_defaults(run=cmd_build)
    p = sub.add_parser("run", help="(authors, CI) execute notebooks headless")
    p.add_argument("names", nargs="*", help="exercise names or numbers (default: all)")
    p.add_argument(
        "--student",
        action="store_true",
        help="the student notebooks (must stop "
        "at their first placeholder) instead of the solutions (must run through)",
    )
    p.add_argument("--fast", action="store_true", help="small budgets (CEM_EXERCISES_FAST=1)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    p.set_defaults(run=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cem-exercises``; returns the exit status (0 ok, 1 check failed, 2 bad
    input)."""
    try:
        args = make_parser().parse_args(argv)
        return args.run(args)
    except SystemExit as e:  # --help exits through argparse
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CemError, OSError) as e:
        print(f"{PROG}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
