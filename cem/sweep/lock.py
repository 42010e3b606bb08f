"""Exclusive ownership of a folder by one process: a run being trained, a sweep's bookkeeping.

A lock is a file (``.cem-lock`` in a run folder) locked with ``flock``: the kernel (or, on a
network file system, the lock server) releases it when its process ends, however it ends, so a
lock can never outlive its owner. The file also records who holds it (host, pid, start time):
a lock file found *unlocked* but still holding a record was left by an owner that died without
releasing it (killed, timed out, preempted); whoever takes it over is told so in one line.

Protocol: open (creating) the file, ``flock`` it without waiting, check that the file locked is
still the one at the path (a releaser removes the file while holding the lock, so that the next
owner starts from a fresh one), then write the record. Releasing removes the file, then unlocks.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = ".cem-lock"


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock."""

    host: str
    pid: int
    since: float  # time.time() when it was taken

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"pid {self.pid} on {self.host}, since {when}"

    @staticmethod
    def me() -> Holder:
        return Holder(socket.gethostname(), os.getpid(), time.time())

    @staticmethod
    def parse(text: str) -> Holder | None:
        try:
            d = json.loads(text)
            return Holder(str(d["host"]), int(d["pid"]), float(d["since"]))
        except (ValueError, KeyError, TypeError):
            return None


class Lock:
    """A lock held by this process. ``stale`` is the record of a previous owner that died
    holding it (None when the lock was free and clean)."""

    def __init__(self, path: Path, fd: int, stale: Holder | None, stale_text: str) -> None:
        self.path, self._fd = path, fd
        self.stale = stale
        self._stale_text = stale_text

    @property
    def was_stale(self) -> bool:
        """Whether a previous owner left the lock behind (even with an unreadable record)."""
        return bool(self._stale_text.strip())

    def stale_notice(self, what: str) -> str:
        """The one line that says a dead owner's lock was taken over."""
        who = self.stale.describe() if self.stale else "an unknown process"
        return f"taking over {what}: its previous owner ({who}) ended without finishing"

    def release(self) -> None:
        """Remove the lock file and unlock (idempotent)."""
        if self._fd < 0:
            return
        try:
            if _same_file(self.path, self._fd):
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = -1

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same_file(path: Path, fd: int) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_ino, st.st_dev) == (own.st_ino, own.st_dev)


def try_lock(path: str | os.PathLike[str]) -> Lock | None:
    """Take the lock at ``path`` (its folder must exist) without waiting; None when a live
    process holds it."""
    path = Path(path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if not _same_file(path, fd):  # released (and removed) between our open and flock
            os.close(fd)
            continue
        try:
            old = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            record = json.dumps(Holder.me().__dict__).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, record, 0)
        except BaseException:
            os.close(fd)
            raise
        return Lock(path, fd, Holder.parse(old) if old.strip() else None, old)


def lock(path: str | os.PathLike[str], timeout_s: float = 60.0, poll_s: float = 0.05) -> Lock:
    """Take the lock at ``path``, waiting up to ``timeout_s`` for its holder; ``TimeoutError``
    after that. For short critical sections (a sweep's manifest), not for runs."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = try_lock(path)
        if got is not None:
            return got
        if time.monotonic() > deadline:
            who = holder(path)
            raise TimeoutError(
                f"{path} is held by {who.describe() if who else 'another process'} "
                f"for more than {timeout_s:g} s"
            )
        time.sleep(poll_s)


def holder(path: str | os.PathLike[str]) -> Holder | None:
    """The record in the lock file at ``path`` (None when absent or unreadable)."""
    try:
        return Holder.parse(Path(path).read_text())
    except OSError:
        return None


def is_held(path: str | os.PathLike[str]) -> bool:
    """Whether a live process holds the lock at ``path`` (a probe: never creates the file)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
