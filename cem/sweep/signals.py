"""SIGTERM and SIGINT to a sweep: stop every worker, say where things stand in one line, exit.

Inside :func:`interrupts` (the sweep's main process, main thread), either signal:

1. runs the registered cancel callbacks (a launcher's jobs on a cluster: ``scancel``);
2. sends SIGTERM to every descendant process (joblib workers, submitit's local jobs), and
   SIGKILL to those still alive after ``grace_s`` — no worker goes on training as an orphan;
3. prints one line (the sweeper's: how many runs completed, how many are left, how to resume);
4. exits at once with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), without a
   traceback. A run interrupted half-way left no record; its folder's lock died with its
   process, so the next sweep into the folder trains it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_cancels: list[Callable[[], None]] = []


def on_interrupt(cancel: Callable[[], None]) -> Callable[[], None]:
    """Run ``cancel`` when the sweep is interrupted (before its workers are stopped); returns
    a function that unregisters it."""
    _cancels.append(cancel)
    return lambda: _cancels.remove(cancel) if cancel in _cancels else None


def _children_map() -> dict[int, list[int]]:
    """ppid -> child pids of every live (non-zombie) process: /proc on Linux, else ``ps``."""
    out: dict[int, list[int]] = {}
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if fields[0] != "Z":
                out.setdefault(int(fields[1]), []).append(int(entry.name))
        return out
    ps = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,stat="], capture_output=True, text=True)
    for row in ps.stdout.splitlines():
        pid, ppid, stat = row.split()[:3]
        if not stat.startswith("Z"):
            out.setdefault(int(ppid), []).append(int(pid))
    return out


def descendants(pid: int | None = None) -> list[int]:
    """Live descendant processes of ``pid`` (default: this process), parents first."""
    children = _children_map()
    found, todo = [], [os.getpid() if pid is None else pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rfind(")") + 2] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def stop_processes(pids: list[int], grace_s: float = 5.0) -> None:
    """SIGTERM to each of ``pids``; SIGKILL to those still alive after ``grace_s``."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@contextmanager
def interrupts(message: Callable[[str], str], grace_s: float = 3.0) -> Iterator[None]:
    """Handle SIGTERM and SIGINT as this module says while inside; ``message(signal name)`` is
    the line printed. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C does not cut this short
        for cancel in list(_cancels):
            try:
                cancel()
            except Exception:  # noqa: BLE001, S110 - stopping the rest matters more
                pass
        stop_processes(descendants(), grace_s)
        try:
            line = message(signal.Signals(signum).name)
        except Exception as e:  # noqa: BLE001 - the line must come out whatever happens
            line = f"cem-train: interrupted ({signal.Signals(signum).name}; {e})"
        sys.stdout.flush()
        sys.stderr.write(("\n" if sys.stdout.isatty() else "") + line + "\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    old = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
