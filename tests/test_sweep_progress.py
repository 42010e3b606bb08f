"""A sweep's progress line, summary and interruption line, from its run folders."""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

from cem.sweep.progress import SweepProgress, duration
from cem.sweep.summary import exit_code, interrupted_line, summary_lines


def _record(run: Path, status: str, age_s: float = 0.0) -> None:
    run.mkdir(parents=True, exist_ok=True)
    path = run / "metrics.json"
    path.write_text(json.dumps({"status": status}))
    if age_s:
        t = time.time() - age_s
        os.utime(path, (t, t))


def test_counts_done_reused_failed_and_left(tmp_path: Path) -> None:
    runs = [tmp_path / f"r{i}" for i in range(5)]
    _record(runs[0], "completed", age_s=3600)  # from an earlier sweep: reused
    _record(runs[1], "failed", age_s=3600)  # an earlier failure: to be retried, not counted
    monitor = SweepProgress(runs, mode="none")
    monitor.t0 = time.time() - 10
    _record(runs[2], "completed")
    _record(runs[3], "failed")
    c = monitor.counts()
    assert (c.total, c.done, c.reused, c.failed, c.left) == (5, 2, 1, 1, 2)
    line = monitor.line(c)
    # 2 runs finished by this sweep in 10 s, 2 left: about 10 s to go.
    assert re.fullmatch(r"\[sweep\] 2/5 done \(1 reused\), 1 failed, 1\ds elapsed, ETA 1\ds", line)


def test_plain_lines_come_periodically_in_a_log(tmp_path: Path) -> None:
    out = io.StringIO()
    runs = [tmp_path / "a", tmp_path / "b"]
    with SweepProgress(runs, mode="plain", every_s=0.05, stream=out):
        _record(runs[0], "completed")
        time.sleep(0.4)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("[sweep] ") for line in lines)
    assert "\r" not in out.getvalue() and lines[-1].startswith("[sweep] 1/2 done")


def test_on_a_terminal_one_line_is_redrawn(tmp_path: Path) -> None:
    out = io.StringIO()
    with SweepProgress([tmp_path / "a"], mode="bar", stream=out):
        time.sleep(1.3)
    text = out.getvalue()
    assert text.count("\r\033[K") >= 2 and text.endswith("\n") and text.count("\n") == 1


def test_summary_lists_failures_and_skips_and_sets_the_exit_status(tmp_path: Path) -> None:
    outcomes = [
        {"status": "completed", "run_dir": str(tmp_path / "a"), "error": ""},
        {"status": "reused", "run_dir": str(tmp_path / "b"), "error": ""},
        {"status": "failed", "run_dir": str(tmp_path / "c"), "error": "RuntimeError: boom\nmore"},
        {"status": "busy", "run_dir": str(tmp_path / "d"), "error": "in progress (pid 7)"},
    ]
    lines = summary_lines(outcomes, tmp_path, 125)
    assert lines[0].startswith("cem-train: 4 runs in 2m05s: 2 completed (1 reused), 1 failed, ")
    assert "1 skipped (in progress in another process)" in lines[0]
    assert "  failed c: RuntimeError: boom" in lines and "  skipped d: in progress (pid 7)" in lines
    assert exit_code(outcomes) == 1 and exit_code(outcomes[:2] + outcomes[3:]) == 0


def test_interrupted_line_says_how_to_resume(tmp_path: Path) -> None:
    line = interrupted_line("SIGTERM", 5, 27, tmp_path, resumable=True)
    assert line == (
        "cem-train: interrupted (SIGTERM): 5 of 27 runs completed, 22 left; rerun the same "
        "command to resume (completed runs are reused)"
    )
    assert f"hydra.sweep.dir={tmp_path} to resume" in interrupted_line(
        "SIGINT", 0, 3, tmp_path, resumable=False
    )
    assert (duration(42), duration(185), duration(7500)) == ("42s", "3m05s", "2h05m")
