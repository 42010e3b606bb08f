"""Run-folder locks: one owner at a time, released with their process, stale owners reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from cem.sweep.lock import Holder, holder, is_held, lock, try_lock

HOLD = """
import sys, time
from cem.sweep.lock import try_lock
got = try_lock(sys.argv[1])
print("held" if got else "busy", flush=True)
time.sleep(60)
"""


def _holder_process(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_one_owner_at_a_time_and_release_removes_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".cem-lock"
    first = try_lock(path)
    assert first is not None and not first.was_stale
    assert try_lock(path) is None  # another open file, same process: still refused
    assert is_held(path)
    record = holder(path)
    assert record is not None and record.pid == os.getpid()
    first.release()
    assert not path.exists() and not is_held(path)
    with try_lock(path) as again:
        assert again is not None
    assert not path.exists()


def test_a_lock_dies_with_its_process_and_the_next_owner_is_told(tmp_path: Path) -> None:
    path = tmp_path / ".cem-lock"
    proc = _holder_process(path)
    try:
        assert try_lock(path) is None and is_held(path)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    taken = try_lock(path)  # the kernel released it; the record is still there
    assert taken is not None and taken.was_stale
    assert taken.stale is not None and taken.stale.pid == proc.pid
    notice = taken.stale_notice("outputs/x/run")
    assert f"pid {proc.pid}" in notice and "\n" not in notice
    assert notice.startswith("taking over outputs/x/run: its previous owner")
    taken.release()


def test_racing_threads_get_exactly_one_lock(tmp_path: Path) -> None:
    path = tmp_path / ".cem-lock"
    won: list[object] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        got = try_lock(path)
        if got is not None:
            won.append(got)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_waiting_lock_times_out_naming_the_holder(tmp_path: Path) -> None:
    import pytest

    path = tmp_path / ".lock"
    with lock(path):
        with pytest.raises(TimeoutError, match=f"pid {os.getpid()} on "):
            lock(path, timeout_s=0.2)
    assert Holder.parse("not json") is None
