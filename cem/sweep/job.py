"""One run of ``cem-train``, alone or in a sweep, from its folder's claim to its record.

:func:`execute` claims the run folder (:mod:`cem.sweep.lock`), so that one process trains a run
at a time: a second sweep into the same folder skips a run in progress instead of training it
again. Under the claim it reuses a completed record of the same config, else clears what an
interrupted attempt left (CSV logs, checkpoint, temporary files), trains and writes the record
(``metrics.json``: completed, or failed with its error). It returns an outcome for the sweeper:
``{"status": completed | reused | failed | busy, "run_dir", "error"}``.

The run record itself: :func:`cem.train.write_metrics` (completed), :func:`record_failure`
(failed), :func:`is_completed` (reuse), :func:`cem.report.runs.read_record` (reading).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from cem.sweep.lock import LOCK_NAME, holder, try_lock

SWEEP_PID_ENV = "CEM_SWEEP_PID"  # set by the sweepers: the sweep's main process

STATUSES: tuple[str, ...] = ("completed", "reused", "failed", "busy")


def outcome(status: str, run_dir: Path, error: str = "") -> dict[str, str]:
    """What a job returns to its sweeper."""
    return {"status": status, "run_dir": str(run_dir), "error": error}


def is_completed(output_dir: Path, config: dict[str, Any]) -> bool:
    """Whether ``output_dir`` holds a completed record of exactly this resolved config."""
    path = output_dir / "metrics.json"
    if not path.is_file():
        return False
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    plain = json.loads(json.dumps(config, default=str))
    return (
        isinstance(record, dict)
        and record.get("status") == "completed"
        and (record.get("config") == plain)
    )


def record_failure(output_dir: Path, cfg: Any, err: BaseException) -> None:
    """Write a failed run's record (its error and traceback) atomically into ``output_dir``."""
    from omegaconf import OmegaConf

    from cem.data.io import write_text

    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        plain = OmegaConf.to_container(cfg, resolve=True) if not isinstance(cfg, dict) else cfg
    except Exception:  # noqa: BLE001 - the config itself may be what failed; keep the error
        plain = {}
    record = {
        "status": "failed",
        "dataset": (plain.get("dataset") or {}).get("name"),
        "model": (plain.get("model") or {}).get("name"),
        "seed": plain.get("seed"),
        "error": f"{type(err).__name__}: {err}",
        "traceback": traceback.format_exc(),
        "config": plain,
        "metrics": {},
    }
    write_text(output_dir / "metrics.json", json.dumps(record, indent=2, default=str), force=True)


def clear_attempt(output_dir: Path) -> None:
    """Remove what an earlier, unfinished attempt at this run left: its logs (which a new
    attempt would append to), its checkpoint and temporary files. The record stays until the
    new attempt replaces it."""
    for item in output_dir.iterdir():
        name = item.name
        if item.is_dir() and name.startswith("log_"):
            shutil.rmtree(item, ignore_errors=True)
        elif name.endswith(".ckpt") or name == "metrics.json.tmp" or name.startswith(".metrics."):
            item.unlink(missing_ok=True)


def first_line(text: str, limit: int = 300) -> str:
    """The first line of an error, cut to ``limit`` characters."""
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _describe(resolved: dict[str, Any]) -> str:
    return f"{resolved['model']['name']} on {resolved['dataset']['name']}, seed {resolved['seed']}"


def execute(cfg: Any, sweep: bool) -> dict[str, str]:
    """Run the job of ``cfg`` (a composed run config with ``output_dir``) in its folder.

    In a sweep a failure is recorded and returned; alone, it is recorded and raised. A run
    folder held by another live process is not touched (``busy``; alone: ``CemError``).
    """
    from cem.config import resolve_config
    from cem.errors import CemError
    from cem.progress import quiet_progress
    from cem.train import run

    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if sweep:
        watch_parent()
    # On a terminal the sweep draws one progress line: runs keep quiet under it.
    talk = not (sweep and sys.stdout.isatty())
    claim = try_lock(output_dir / LOCK_NAME)
    if claim is None:
        who = holder(output_dir / LOCK_NAME)
        where = who.describe() if who else "another process"
        if not sweep:
            raise CemError(
                f"hydra.run.dir={str(output_dir)!r} is in use by a run in progress ({where}); "
                "allowed: another hydra.run.dir, or the same once it has finished"
            )
        if talk:
            print(f"{output_dir}: in progress in another process ({where}), skipped", flush=True)
        return outcome("busy", output_dir, f"in progress in another process ({where})")
    with claim:
        if claim.was_stale:
            print(f"cem-train: {claim.stale_notice(str(output_dir))}", file=sys.stderr, flush=True)
        try:
            resolved = resolve_config(cfg)  # once: run() takes it as it is
            if is_completed(output_dir, resolved):
                if talk:
                    print(f"{output_dir}: already completed, not recomputed", flush=True)
                return outcome("reused", output_dir)
            clear_attempt(output_dir)
            if talk:
                print(f"training {_describe(resolved)} -> {output_dir}", flush=True)
            with quiet_progress(not talk):
                metrics = run(resolved).metrics
        except Exception as e:  # noqa: BLE001 - one failed run must not abort a sweep
            record_failure(output_dir, cfg, e)
            if not sweep:
                raise
            if talk:
                print(f"cem-train: run failed ({output_dir}): {e}", file=sys.stderr, flush=True)
            return outcome("failed", output_dir, first_line(f"{type(e).__name__}: {e}"))
    if talk and sweep:
        acc = metrics.get("test/task_acc")
        shown = "–" if acc is None else f"{acc:.4f}"
        print(f"done {_describe(resolved)}: test/task_acc={shown}", flush=True)
    result = outcome("completed", output_dir)
    if not sweep:
        result["metrics"] = metrics  # type: ignore[assignment]
    return result


_watching = threading.Event()


def watch_parent(interval_s: float = 1.0) -> None:
    """In a sweep's worker process (a child of the sweep's main process), end this process
    when the main process is gone (killed with SIGKILL, say), instead of training on as an
    orphan. Once per process; a no-op in the main process itself or elsewhere."""
    main = os.environ.get(SWEEP_PID_ENV, "")
    if _watching.is_set() or not main.isdigit() or os.getppid() != int(main):
        return
    _watching.set()
    parent = int(main)
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C reaches the whole process group: the main process stops the workers, so that
        # they do not each print a KeyboardInterrupt traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:  # re-parented: the sweep's main process is gone
                os._exit(1)

    threading.Thread(target=watch, name="cem-watch-parent", daemon=True).start()
