"""The end of a sweep: what became of each run, in a few lines, and the exit status.

Statuses (from :func:`cem.sweep.job.execute`): ``completed`` (trained now), ``reused`` (a
completed record of the same config was there), ``failed`` (recorded with its error),
``busy`` (in progress in another process: skipped, not trained twice). A sweep with any failed
run exits 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cem.sweep.job import first_line
from cem.sweep.progress import duration

MAX_LISTED = 20


def exit_code(outcomes: Sequence[dict[str, Any]]) -> int:
    """1 when a run failed, else 0."""
    return int(any(o["status"] == "failed" for o in outcomes))


def _name(run_dir: str, sweep_dir: Path) -> str:
    try:
        return Path(run_dir).resolve().relative_to(sweep_dir.resolve()).as_posix()
    except ValueError:
        return run_dir


def summary_lines(
    outcomes: Sequence[dict[str, Any]], sweep_dir: Path, elapsed_s: float
) -> list[str]:
    """``cem-train: 27 runs in 3m12s: 25 completed (3 reused), 1 failed, 1 skipped`` and one
    line per failed (first line of its error) and skipped run."""
    n = Counter(o["status"] for o in outcomes)
    done = n["completed"] + n["reused"]
    reused = f" ({n['reused']} reused)" if n["reused"] else ""
    busy = f", {n['busy']} skipped (in progress in another process)" if n["busy"] else ""
    lines = [
        f"cem-train: {len(outcomes)} runs in {duration(elapsed_s)}: {done} completed{reused}, "
        f"{n['failed']} failed{busy}; results in {sweep_dir}"
    ]
    listed = [o for o in outcomes if o["status"] in ("failed", "busy")]
    for o in listed[:MAX_LISTED]:
        what = "failed" if o["status"] == "failed" else "skipped"
        lines.append(f"  {what} {_name(o['run_dir'], sweep_dir)}: {first_line(o['error'])}")
    if len(listed) > MAX_LISTED:
        lines.append(f"  ... and {len(listed) - MAX_LISTED} more (cem-report {sweep_dir})")
    if n["failed"]:
        lines.append(
            "  failed runs are recorded with their error (cem-report lists them); rerunning the "
            "same command trains them again and reuses the completed ones"
        )
    elif n["busy"]:
        lines.append(
            "  skipped runs are being trained by another process; rerun the same command once "
            "it has finished to check"
        )
    return lines


def interrupted_line(signame: str, done: int, total: int, sweep_dir: Path, resumable: bool) -> str:
    """The one line printed when a sweep is stopped by a signal."""
    how = (
        "rerun the same command to resume"
        if resumable
        else f"rerun it with hydra.sweep.dir={sweep_dir} to resume"
    )
    return (
        f"cem-train: interrupted ({signame}): {done} of {total} runs completed, "
        f"{total - done} left; {how} (completed runs are reused)"
    )
