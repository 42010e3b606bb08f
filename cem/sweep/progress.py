"""A sweep's progress, seen from its main process: k/N done, failed, elapsed, ETA.

:class:`SweepProgress` watches the run folders of a sweep (their ``metrics.json``) from a thread,
so it works with every launcher (in-process, joblib workers, submitit jobs on other machines).
On a terminal it redraws one line; in a log it prints a plain line every ``every_s`` seconds,
and one at the end. The ETA is the rate at which this sweep's runs finished so far (runs reused
from an earlier sweep count as done, not in the rate).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``."""
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass(frozen=True)
class Counts:
    """Runs of a sweep by state, as its folders show them."""

    total: int
    done: int  # a completed record (this sweep's or reused)
    reused: int  # completed before this sweep started
    failed: int  # a failed record written during this sweep

    @property
    def left(self) -> int:
        return max(0, self.total - self.done - self.failed)


class SweepProgress:
    """Watch ``run_dirs`` from a thread while a sweep runs (a context manager)."""

    def __init__(
        self,
        run_dirs: list[Path],
        total: int | None = None,
        mode: str = "auto",
        every_s: float = 30.0,
        stream: TextIO | None = None,
    ) -> None:
        self.run_dirs = list(run_dirs)
        self.total = total
        self.stream = stream or sys.stdout
        self.every_s = every_s
        self.tty = mode == "bar" or (mode == "auto" and self.stream.isatty())
        self.on = mode != "none"
        self.t0 = time.time()
        self._seen: dict[Path, tuple[int, str]] = {}  # run dir -> (mtime_ns, status)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_print = time.monotonic()

    def add(self, run_dirs: list[Path]) -> None:
        """Watch more runs (a search adds its trials as it asks for them)."""
        with self._lock:
            self.run_dirs += [d for d in run_dirs if d not in self.run_dirs]

    def _status(self, run_dir: Path) -> tuple[int, str]:
        path = run_dir / "metrics.json"
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return (0, "")
        seen = self._seen.get(run_dir)
        if seen is not None and seen[0] == mtime:
            return seen
        try:
            status = json.loads(path.read_text()).get("status", "")
        except (OSError, ValueError, AttributeError):
            return (0, "")  # being replaced, or not a record: look again next time
        self._seen[run_dir] = (mtime, str(status))
        return self._seen[run_dir]

    def counts(self) -> Counts:
        """The runs' states now (reads the folders)."""
        with self._lock:
            dirs = list(self.run_dirs)
        start = int(self.t0 * 1e9)
        done = reused = failed = 0
        for d in dirs:
            mtime, status = self._status(d)
            if status == "completed":
                done += 1
                reused += mtime < start
            elif status == "failed" and mtime >= start:
                failed += 1
        return Counts(max(self.total or 0, len(dirs)), done, reused, failed)

    def line(self, counts: Counts | None = None) -> str:
        """``[sweep] 12/135 done, 1 failed, 4m10s elapsed, ETA 38m20s``."""
        c = counts or self.counts()
        elapsed = time.time() - self.t0
        finished = c.done - c.reused + c.failed  # by this sweep
        if c.left == 0:
            eta = "0s"
        elif finished:
            eta = duration(elapsed / finished * c.left)
        else:
            eta = "–"
        reused = f" ({c.reused} reused)" if c.reused else ""
        return (
            f"[sweep] {c.done}/{c.total} done{reused}, {c.failed} failed, "
            f"{duration(elapsed)} elapsed, ETA {eta}"
        )

    def _draw(self, final: bool = False) -> None:
        if not self.on:
            return
        text = self.line()
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _loop(self) -> None:
        tick = 1.0 if self.tty else min(1.0, self.every_s)
        while not self._stop.wait(tick):
            if self.tty:
                self._draw()
            elif time.monotonic() - self._last_print >= self.every_s:
                self._last_print = time.monotonic()
                self._draw()

    def start(self) -> SweepProgress:
        self.t0 = time.time()
        self._last_print = time.monotonic()
        if self.on:
            self._thread = threading.Thread(
                target=self._loop, name="cem-sweep-progress", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, final: bool = True) -> None:
        """Stop watching; draw the last line (``final``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if final:
            self._draw(final=True)

    def __enter__(self) -> SweepProgress:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(final=exc[0] is None)
