"""Console entry points ``cem-train`` (Hydra) and ``cem-report``.

``cem-train`` checks every override before Hydra starts (group choices, keys, types, values), so
a typo fails at once with one line naming the key and the allowed values; set
``HYDRA_FULL_ERROR=1`` for tracebacks. In a sweep (``-m``), a run that fails is recorded as
failed in its ``metrics.json`` and the sweep goes on; a run whose folder already holds a completed
``metrics.json`` for the same config is not recomputed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from cem.errors import CemError, unknown

GROUPS: tuple[str, ...] = (
    "dataset",
    "model",
    "trainer",
    "logger",
    "experiment",
    "hydra/launcher",
    "hydra/sweeper",
)
# Hydra's own choices beside our files in conf/hydra/.
HYDRA_LAUNCHERS: tuple[str, ...] = ("basic", "joblib", "submitit_local", "submitit_slurm")
HYDRA_SWEEPERS: tuple[str, ...] = ("basic", "cem")  # cem: cem/sweep/sweeper.py
REMOTE_LAUNCHERS: tuple[str, ...] = ("slurm", "submitit_slurm")
# Hydra's own flags that take a value.
_FLAGS_WITH_VALUE = {
    "-c",
    "--cfg",
    "-p",
    "--package",
    "-cp",
    "--config-path",
    "-cn",
    "--config-name",
    "-cd",
    "--config-dir",
    "--info",
    "--experimental-rerun",
}


def short_dirname(overrides: str, limit: int = 120) -> str:
    """A sweep job's folder name: its overrides (``dataset=xor,model=cem,seed=42``), cut to
    ``limit`` characters plus a digest when longer (file names stop at 255 bytes)."""
    if len(overrides) <= limit:
        return overrides
    digest = hashlib.sha1(overrides.encode()).hexdigest()[:10]
    return f"{overrides[: limit - 11]}_{digest}"


# Used by conf/train.yaml's hydra.sweep.subdir; registered on import so that the sweep's worker
# processes (which import this module to run _task) know it too.
if not OmegaConf.has_resolver("cem_dirname"):
    OmegaConf.register_new_resolver("cem_dirname", short_dirname)


def register_defaults() -> None:
    """Store every group's defaults (:func:`cem.config.hydra_defaults`) in Hydra's ConfigStore
    as ``_defaults``, the first entry of ``conf/train.yaml``'s defaults list, and each model
    kind's as ``model/_<kind>``, the first entry of its model YAMLs' defaults lists: the YAML
    files hold only what differs from them. Idempotent; imports torch (the model schemas need
    it)."""
    from hydra.core.config_store import ConfigStore

    from cem.config import hydra_defaults
    from cem.models.registry import kind_defaults, model_names, preset
    from cem.sweep.settings import config_nodes

    store = ConfigStore.instance()
    store.store(name="_defaults", node=hydra_defaults())
    for kind in sorted({preset(name)[0] for name in model_names()}):
        store.store(group="model", name=f"_{kind}", node=kind_defaults(kind))
    for path, node in config_nodes().items():  # hydra/sweeper/cem, search/optuna
        group, name = path.rsplit("/", 1)
        store.store(group=group, name=name, node=node, provider="cem-bench")
    register_plugins()


def register_plugins() -> None:
    """Make cem-bench's sweepers and launchers (``hydra_plugins.cem_bench``) known to Hydra.

    Hydra finds plugins by scanning the ``hydra_plugins`` folders on ``sys.path``, which an
    editable install (``pip install -e .``) does not show it; registering them by hand works
    for every kind of install. Idempotent."""
    from hydra.core.plugins import Plugins

    import hydra_plugins.cem_bench as ours

    plugins = Plugins.instance()
    for cls in (ours.CemSweeper, ours.SlurmLauncher, ours.LocalLauncher):
        plugins.register(cls)


def config_dir() -> Path:
    """The Hydra configs: ``cem/conf`` inside an installed wheel, else the clone's ``conf/``.

    Composing from it needs the defaults they extend: this registers them
    (:func:`register_defaults`), so that ``initialize_config_dir(config_dir())`` just works.
    """
    register_defaults()
    return _conf()


def _conf() -> Path:
    from cem.paths import conf_root

    return conf_root()


def group_options(group: str) -> list[str]:
    """The config names of a group (files starting with ``_`` are shared bases, not choices)."""
    names = {p.stem for p in (_conf() / group).glob("*.yaml") if not p.stem.startswith("_")}
    if group == "hydra/launcher":
        names |= set(HYDRA_LAUNCHERS)
    if group == "hydra/sweeper":
        names |= set(HYDRA_SWEEPERS)
    return sorted(names)


def split_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(Hydra flags, overrides) of a cem-train command line."""
    flags, overrides = [], []
    it = iter(argv)
    for a in it:
        if a.startswith("-"):
            flags.append(a)
            if a in _FLAGS_WITH_VALUE:
                nxt = next(it, None)
                if nxt is not None:
                    flags.append(nxt)
        else:
            overrides.append(a)
    return flags, overrides


def _values(ov: Any) -> list[str]:
    if ov.is_sweep_override():
        return [str(v) for v in ov.sweep_string_iterator()]
    v = ov.value()
    return [] if v is None else [str(v)]


def check_overrides(overrides: Sequence[str], multirun: bool = False) -> None:
    """Fail fast, with one line, on a malformed override, an unknown group choice or key, or a
    value that ``cem.config.resolve_config`` rejects (a dataset file's values too) — for every
    value of every sweep; with ``multirun``, the sweeper's settings too
    (:func:`cem.sweep.checks.check_sweeper`: a search's space)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed.append(parser.parse_override(text))
        except HydraException as e:
            first = str(e).strip().splitlines()[0]
            raise CemError(
                f"override {text!r} is malformed ({first}); expected key=value, "
                "e.g. model=cem or trainer.max_epochs=50"
            ) from None
    for ov in parsed:
        key = ov.get_key_element().lstrip("~+")
        if key in GROUPS and not ov.is_delete():
            options = group_options(key)
            for v in _values(ov):
                if v not in options and v != "null":
                    raise unknown(key, v, options)
    # Compose once per swept value (the other sweeps at their first value) and resolve it as a
    # run would: every key and value checked, a dataset file read and its values checked.
    from cem.config import resolve_config

    # A launcher that trains elsewhere (SLURM) may have GPUs that this machine lacks.
    launchers = [v for o in parsed if o.get_key_element() == "hydra/launcher" for v in _values(o)]
    local = not any(v in REMOTE_LAUNCHERS for v in launchers)

    def single(o: Any, value: str | None = None) -> str:
        if value is None and not o.is_sweep_override():
            return str(o.input_line)  # as typed: a dict or list value keeps Hydra's syntax
        vals = _values(o)
        v = value if value is not None else (vals[0] if vals else "null")
        return f"{o.input_line.split('=', 1)[0]}={v}"

    variants = [[single(o) for o in parsed]]
    for i, o in enumerate(parsed):
        for v in _values(o)[1:]:
            variant = [single(p) for p in parsed]
            variant[i] = single(o, v)
            variants.append(variant)
    with initialize_config_dir(str(config_dir()), version_base="1.3", job_name="cem-train"):
        for variant in variants:
            try:
                cfg = compose("train", overrides=[v for v in variant if not v.startswith("hydra")])
            except HydraException as e:
                raise CemError(_compose_error(e, variant)) from None
            cfg.output_dir = None  # ${hydra:runtime.output_dir} only resolves inside a run
            resolve_config(cfg, hardware=local)
        if multirun:
            from cem.sweep.checks import check_sweeper

            try:
                check_sweeper(compose, variants, local)
            except HydraException as e:
                raise CemError(_compose_error(e, variants[0])) from None


def _compose_error(e: Exception, overrides: Sequence[str]) -> str:
    """Hydra's composition error as one line; a key that is not in the config gets the keys
    that are (the cause names it: ``full_key: model.emb_sise``)."""
    import re

    from cem.config import hydra_defaults

    msg = " ".join(str(e).split())
    found = re.search(r"full_key: (\S+)", str(e.__cause__ or ""))
    if found and "not in struct" in str(e.__cause__):
        key = found.group(1)
    else:
        keys = [t.split("=", 1)[0].lstrip("~+") for t in overrides]
        key = next((k for k in keys if f"'{k}'" in msg and "Could not override" in msg), "")
    if not key:
        return msg.split(". ")[0]
    parent, _, leaf = key.rpartition(".")
    if parent in ("model.optimizer", "model.scheduler"):
        return (
            f"{key} is not a setting of {parent}; to pass another keyword of its class "
            f"write +{key}=..."
        )
    if parent.startswith("hydra.sweeper"):
        from cem.sweep.settings import allowed_keys

        return f"{key} is not a setting of {parent}; allowed: {allowed_keys(parent)}"
    node: Any = hydra_defaults()
    if parent.split(".")[0] == "model":
        from cem.models.registry import DEFAULT_NAME, kind_defaults, preset

        chosen = [t.split("=", 1)[1] for t in overrides if t.split("=", 1)[0] == "model"]
        name = chosen[-1] if chosen else DEFAULT_NAME
        try:
            node = {"model": {"name": name, **kind_defaults(preset(name)[0])}}
        except CemError:
            node = {}
    for part in parent.split(".") if parent else []:
        node = node.get(part) if isinstance(node, dict) else None
    allowed = ", ".join(node) if isinstance(node, dict) else "none"
    return f"{key} is not a setting of {parent or 'the config'}; allowed: {allowed}"


# ---- cem-train ------------------------------------------------------------------------------


def _print_table(metrics: dict[str, Any]) -> None:
    names = ["task_acc", "task_auc", "concept_acc", "concept_auc"]
    print(f"{'split':<6}" + "".join(f"{n:>13}" for n in names))
    for split in ("train", "val", "test"):
        cells = [metrics.get(f"{split}/{n}") for n in names]
        print(f"{split:<6}" + "".join(f"{'–' if c is None else f'{c:.4f}':>13}" for c in cells))


def _task(cfg: Any) -> dict[str, Any]:
    """One Hydra job: :func:`cem.sweep.job.execute` (claim the run folder, reuse or train,
    record); its outcome goes back to the sweeper."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from cem.sweep.job import execute

    sweep = HydraConfig.get().mode == RunMode.MULTIRUN
    output_dir = Path(cfg.output_dir)
    try:
        result = execute(cfg, sweep)
    except CemError as e:
        if os.environ.get("HYDRA_FULL_ERROR"):
            raise
        print(f"cem-train: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    if not sweep:
        if result["status"] == "reused":
            _print_table(json.loads((output_dir / "metrics.json").read_text())["metrics"])
        else:
            _print_table(result["metrics"])
            print(f"wrote {output_dir / 'metrics.json'}")
    return result


def train_main(argv: Sequence[str] | None = None) -> int:
    """``cem-train [hydra flags] [overrides]``: train one model, or sweep with ``-m``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    flags, overrides = split_args(argv)
    if {"-h", "--help"} & set(flags):
        from cem.cli_help import help_text

        print(help_text(group_options, GROUPS), end="")
        return 0
    informational = {"-h", "--help", "--hydra-help", "--info", "-c", "--cfg", "--version"}
    if not informational & set(flags):
        try:
            check_overrides(overrides, multirun=bool({"-m", "--multirun"} & set(flags)))
        except CemError as e:
            if os.environ.get("HYDRA_FULL_ERROR"):
                raise
            print(f"cem-train: error: {e}", file=sys.stderr)
            return 2
    import hydra

    main = hydra.main(config_path=str(config_dir()), config_name="train", version_base="1.3")(_task)
    saved = sys.argv
    sys.argv = ["cem-train", *argv]
    try:
        main()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv = saved
    return 0


# ---- cem-report -----------------------------------------------------------------------------


class _ReportParser(argparse.ArgumentParser):
    """Usage errors as one line (argparse prints the usage block and exits otherwise)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CemError(f"{message}; see cem-report --help")


def report_main(argv: Sequence[str] | None = None) -> int:
    """``cem-report DIR``: tidy CSV + Markdown table (mean ± std, 95% CI over seeds)."""
    parser = _ReportParser(
        prog="cem-report",
        description="Summarise every cem-train run under DIR (nested sweeps too): writes "
        "DIR/runs.csv (one row per run), DIR/summary.md (dataset x model, mean ± std and "
        "95%% CI over seeds) and DIR/report.md with every table and plot (DIR/plots/, PNG and "
        "SVG), and prints the table. Failed or incomplete runs are listed apart.",
        epilog="example:\n  cem-train -m dataset=xor,dot model=cem,cbm_sigmoid seed=0,1,2 "
        "hydra.sweep.dir=outputs/demo\n  cem-report outputs/demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dir", help="a cem-train run or sweep directory")
    parser.add_argument("--out", help="where to write the files (default: DIR)")
    parser.add_argument(
        "--no-plots",
        action="store_true",
        help="only runs.csv and summary.md, no report.md and plots",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 2
    except CemError as e:
        print(f"cem-report: error: {e}", file=sys.stderr)
        return 2
    from cem.report.document import write_report
    from cem.report.publish import staged
    from cem.report.runs import collect
    from cem.report.table import problems_markdown, summarise, to_csv, to_markdown

    try:
        rows = collect(args.dir)
    except CemError as e:
        print(f"cem-report: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or args.dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(
            f"cem-report: error: --out={str(out)!r} cannot be created: {e.strerror}",
            file=sys.stderr,
        )
        return 2
    summary = summarise(rows)
    table = to_markdown(summary)
    problems = problems_markdown(rows)
    text = (
        "## Results (test split, %)\n\nn = completed runs (seeds); cells: mean ± std over "
        "seeds (± 95% CI half-width); the mean alone when n = 1.\n\n" + table + "\n"
    )
    if problems:
        text += "\n## Runs left out (failed, incomplete or never started)\n\n" + problems + "\n"
    # Written as a set (cem.report.publish): a failure leaves the previous files whole.
    try:
        with staged(out) as stage:
            (stage / "runs.csv").write_text(to_csv(rows))
            (stage / "summary.md").write_text(text)
            report = None if args.no_plots else write_report(rows, stage)
    except OSError as e:
        why = e.strerror or type(e).__name__
        print(
            f"cem-report: error: output folder {str(out)!r} cannot be written ({why}); allowed: "
            "a folder you can write to, with free space (--out)",
            file=sys.stderr,
        )
        return 2
    except Exception as e:  # noqa: BLE001 - whatever went wrong, the previous set is whole
        why = " ".join(f"{type(e).__name__}: {e}".split())
        print(
            f"cem-report: error: the report could not be made ({why}); the files in "
            f"{str(out)!r} are unchanged",
            file=sys.stderr,
        )
        return 2
    n_ok = sum(r["status"] == "completed" for r in rows)
    n_unreadable = sum(r["status"] == "unreadable" for r in rows)
    print(text)
    written = [out / "runs.csv", out / "summary.md", *([out / report.name] if report else [])]
    unreadable = f", {n_unreadable} unreadable (not run records)" if n_unreadable else ""
    print(
        f"{n_ok} completed, {len(rows) - n_ok - n_unreadable} left out{unreadable}; wrote "
        + ", ".join(str(p) for p in written)
    )
    return 0
