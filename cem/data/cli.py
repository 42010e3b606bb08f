"""``cem-data``: list, describe, generate, import, save and plot concept datasets.

Run ``cem-data --help`` or ``cem-data COMMAND --help``. Bad input of any kind prints one line
``cem-data: error: ...`` to stderr and exits with status 2, before anything is written (a request
that cannot fit in memory is refused up front). Interrupted (Ctrl-C or SIGTERM), it removes its
temporary file and exits with 130 / 143. Start-up stays fast: NumPy only; torch is imported only
to read or write ``.pt`` files and matplotlib only by ``plot``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cem import __version__
from cem.data import io, stats
from cem.data.budget import check_fits, generate_bytes
from cem.data.dataset import SPLITS, ConceptData, DataConfig, build, check_for_spec
from cem.data.plain import PlainColumns
from cem.data.spec import SPECS, DatasetSpec, get_spec, spec_for
from cem.errors import CemError
from cem.settings import resolve

PROG = "cem-data"
PLOT_FORMATS: tuple[str, ...] = (".png", ".pdf", ".svg")
DEFAULTS = DataConfig()  # the one place the dataset defaults are written

Command = Callable[[argparse.Namespace], int]


class _UsageError(CemError):
    """An argparse error, turned into our one-line error."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


# ---- commands ---------------------------------------------------------------------------------


def _one_line_formula(name: str) -> str:
    spec = get_spec(name)
    return f"{spec.task}; {spec.concepts}"


def cmd_list(args: argparse.Namespace) -> int:
    """Print every dataset: name, size of x and c, task and concepts, paper test ceiling."""
    print(f"{'name':<6} {'d':>2} {'k':>2}  {'ceiling':>7}  formula (task; concepts)")
    for name, spec in SPECS.items():
        test = build(name=name, protocol="paper")["test"]
        ceiling = spec.ceiling(test.c, test.y)
        line = f"{name:<6} {spec.n_features:>2} {spec.n_concepts:>2}  {100 * ceiling:>6.1f}%  "
        print(line + _one_line_formula(name))
    print("(ceiling: best accuracy of any function of the concepts, paper protocol, test split)")
    return 0


def _target(value: str) -> str | Path:
    """A dataset name as is, or a path when ``value`` looks like a saved file."""
    if value in SPECS:
        return value
    path = Path(value)
    if path.suffix.lower() in io.FORMATS or path.exists():
        return path
    names = ", ".join(sorted(SPECS))
    raise CemError(
        f"dataset={value!r} is unknown and is no saved file; allowed: {names}, "
        f"or a {'/'.join(io.FORMATS)} file"
    )


def _spec_of(data: ConceptData) -> DatasetSpec | None:
    """The spec of a synthetic dataset's file (its ceiling rule), None for other data."""
    name = data.meta.get("dataset")
    if name not in SPECS or data.meta.get("concept_names") is None:
        return None
    try:
        spec = spec_for(name, data.meta)
    except CemError:
        return None
    return spec if list(spec.concept_names) == list(data.meta["concept_names"]) else None


def describe_file(path: Path, data: ConceptData) -> str:
    """Metadata, array shapes and per-split statistics of a loaded file."""
    meta = {k: v for k, v in data.meta.items() if k != "formula"}
    lines = [
        f"file: {path} ({path.suffix.lstrip('.')})",
        "metadata:",
        json.dumps(meta, indent=2, ensure_ascii=False),
    ]
    if "formula" in data.meta:
        lines += ["formula:", data.meta["formula"]]
    lines += ["arrays:", io.describe(data), "statistics:"]
    spec = _spec_of(data)
    for s in SPLITS:
        sp = data.splits[s]
        st = stats.split_stats(sp.c, sp.y)
        ceiling = st["ceiling"] if spec is None else spec.ceiling(sp.c, sp.y)
        lines.append(
            f"{s:<5}  n {st['n']:>6}  y=1 {100 * st['class_balance']:6.2f}%  "
            f"concept-only ceiling {100 * ceiling:6.2f}%"
        )
    return "\n".join(lines)


def _columns(args: argparse.Namespace) -> PlainColumns:
    """How to read a plain file, from ``--concepts/--label/--features/--fractions/--seed``."""
    split = {"fractions": args.fractions, "seed": args.seed}
    settings = resolve(DataConfig, {k: v for k, v in split.items() if v is not None})
    return PlainColumns(
        args.concepts, args.label, args.features, settings["fractions"], settings["seed"]
    )


def _load(path: Path, args: argparse.Namespace) -> ConceptData:
    """A file read with the plain-file options; ``--fractions``/``--seed`` only where they drew
    the split (a plain file without one), else they would be silently ignored."""
    data = io.load(path, _columns(args))
    drawn = data.source is not None and data.source["kind"] == "plain"
    drawn = drawn and isinstance(data.meta.get("split"), dict)
    given = [f"--{k}" for k in ("fractions", "seed") if getattr(args, k) is not None]
    if given and not drawn:
        raise CemError(
            f"{'/'.join(given)} split a plain file without a split; input={str(path)!r} has "
            "its split already"
        )
    return data


def cmd_info(args: argparse.Namespace) -> int:
    """Print a dataset's card, or a saved (or plain) file's metadata and shapes."""
    target = _target(args.target)
    if isinstance(target, str):
        given = [f"--{k}" for k in _PLAIN_OPTIONS if getattr(args, k) is not None]
        if given:
            raise CemError(f"{'/'.join(given)} apply to files only; target={args.target!r}")
        from cem.data.cards import card

        print(card(target), end="")
    else:
        print(describe_file(target, _load(target, args)))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Read your own plain .npz or CSV, check every value, write a cem-bench file with metadata."""
    io.file_format(args.output)
    io.check_output(args.output, args.force)  # fail before reading
    source = Path(args.source)
    io.file_format(source)
    data = _load(source, args)
    name = args.name or data.meta["dataset"]
    if not name.strip() or "\n" in name or name in SPECS or name == "file":
        raise CemError(
            f"name={name!r} is invalid; allowed: a one-line name that is not a synthetic "
            f"dataset's ({', '.join(SPECS)}) or 'file'"
        )
    assert data.source is not None
    data.meta["dataset"] = name
    data.meta["source"] = {
        "file": source.name,
        "sha256": data.source["sha256"],
        "kind": data.source["kind"],
    }
    path = io.save(data, args.output, force=args.force)
    print(f"wrote {path}: {name} from {source.name} ({data.source['kind']} {source.suffix})")
    print(io.describe(data))
    return 0


def _config(args: argparse.Namespace) -> dict[str, object]:
    """The ``build`` keywords given on the command line (unset ones keep DataConfig's defaults)."""
    kw: dict[str, object] = {"name": args.name}
    keys = ("protocol", "size", "seed", "input_noise", "task_noise", "lift_dim", "lift_seed")
    for key in (*keys, "n_concepts", "latent_share"):
        if getattr(args, key) is not None:
            kw[key] = getattr(args, key)
    if args.fractions is not None:
        kw["fractions"] = tuple(args.fractions)
    if args.concept_noise is not None:
        cn = args.concept_noise
        kw["concept_noise"] = cn[0] if len(cn) == 1 else list(cn)
    if args.label_noise_splits is not None:
        kw["label_noise_splits"] = tuple(args.label_noise_splits)
    if args.hidden_concepts is not None:
        kw["hidden_concepts"] = list(args.hidden_concepts)
    return kw


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate a dataset and save it; the format follows the output's extension."""
    fmt = io.file_format(args.output)
    io.check_output(args.output, args.force)  # fail before generating
    settings = resolve(DataConfig, _config(args))
    spec = spec_for(settings["name"], settings)
    check_for_spec(settings, spec)
    # The output format adds its own cost (a CSV holds a split's cells as strings).
    needed = generate_bytes(
        settings["size"], spec.n_features, spec.n_concepts, settings["lift_dim"], fmt
    )
    check_fits(needed, "size", settings["size"], f"to generate and write as {fmt}")
    data = build(**settings)
    path = io.save(data, args.output, force=args.force)
    m = data.meta
    print(f"wrote {path}: {m['dataset']}, protocol {m['protocol']}, seed {m['seed']}")
    print(io.describe(data))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw every panel of a dataset (name or saved file) into an image file."""
    io.file_format(args.output, PLOT_FORMATS)  # fail before the slow part
    io.check_output(args.output, args.force)
    target = _target(args.target)
    if isinstance(target, Path):
        given = [f"--{k}" for k in ("protocol", "seed", "size") if getattr(args, k) is not None]
        if given:
            opts = "/".join(given)
            raise CemError(f"{opts} apply to dataset names only; target={args.target!r} is a file")
        data = io.load(target)
    else:
        kw = {k: getattr(args, k) for k in ("seed", "size") if getattr(args, k) is not None}
        data = build(name=target, protocol=args.protocol or DEFAULTS.protocol, **kw)
    from cem.data.plots import plot_dataset  # lazy: matplotlib only for this command

    fig, axes = plot_dataset(data, split=args.split)
    with io.atomic_path(args.output, args.force) as tmp:
        fig.savefig(tmp, dpi=args.dpi)
    print(f"wrote {args.output}: {len(axes)} panels of {data.meta['dataset']}, {args.split} split")
    return 0


def cmd_cards(args: argparse.Namespace) -> int:
    """Print the dataset cards, or (--write) regenerate the files under --dir."""
    from cem.data import cards

    if not args.write:
        print("\n\n".join(cards.card(name) for name in SPECS), end="")
        return 0
    if not Path(args.dir).is_dir():
        raise CemError(f"dir={args.dir!r} is not an existing folder")
    for path in cards.write_all(args.dir):
        print(f"wrote {path}")
    return 0


# ---- parser -----------------------------------------------------------------------------------


_PLAIN_OPTIONS = ("concepts", "label", "features", "fractions", "seed")


def _add_plain_options(p: argparse.ArgumentParser) -> None:
    """How to read a plain file of your own (see ``cem.data.plain``)."""
    d = DEFAULTS
    p.add_argument("--concepts", nargs="+", metavar="COL", help="a plain CSV's concept columns")
    p.add_argument("--label", metavar="COL", help="a plain CSV's label column")
    p.add_argument(
        "--features", nargs="+", metavar="COL", help="feature columns (default: all the others)"
    )
    p.add_argument(
        "--fractions",
        type=float,
        nargs=3,
        metavar=("TRAIN", "VAL", "TEST"),
        help="split fractions when the file has no split "
        f"(default: {' '.join(map(str, d.fractions))})",
    )
    p.add_argument("--seed", type=int, help=f"seed of that split (default: {d.seed})")


def _add_generate_options(p: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    p.add_argument("name", help=f"dataset: {', '.join(SPECS)}")
    p.add_argument(
        "--protocol",
        help="paper (one RandomState stream, the CEM paper's arrays) or random (a stream per "
        f"split) (default: {d.protocol})",
    )
    p.add_argument("--size", type=int, help=f"total samples (default: {d.size})")
    p.add_argument(
        "--fractions",
        type=float,
        nargs=3,
        metavar=("TRAIN", "VAL", "TEST"),
        help=f"split fractions summing to 1 (default: {' '.join(map(str, d.fractions))})",
    )
    p.add_argument("--seed", type=int, help=f"data seed >= 0 (default: {d.seed})")
    p.add_argument("--input-noise", type=float, metavar="STD", help="std of noise added to x")
    p.add_argument(
        "--concept-noise",
        type=float,
        nargs="+",
        metavar="P",
        help="concept flip probability: one value, or one per concept",
    )
    p.add_argument("--task-noise", type=float, metavar="P", help="task label flip probability")
    p.add_argument(
        "--label-noise-splits",
        nargs="+",
        metavar="SPLIT",
        help="splits whose labels get flipped (default: train)",
    )
    p.add_argument(
        "--hidden-concepts",
        type=int,
        nargs="+",
        metavar="I",
        help="indices of concepts without supervision (kept for evaluation)",
    )
    p.add_argument("--lift-dim", type=int, metavar="D", help="lift x into D >= d dims (0 = off)")
    p.add_argument("--lift-seed", type=int, metavar="S", help="seed of the lift map")
    p.add_argument(
        "--n-concepts", type=int, metavar="K", help="many: its number of concepts, 2..64 (12)"
    )
    p.add_argument(
        "--latent-share",
        type=float,
        metavar="RHO",
        help="many: share of the task score from a latent that is no concept, 0..1 (0.1)",
    )
    p.add_argument("-o", "--output", required=True, help="output file: .npz, .csv or .pt")
    p.add_argument("--force", action="store_true", help="replace an existing output file")


def make_parser() -> argparse.ArgumentParser:
    """The ``cem-data`` argument parser."""
    parser = _Parser(
        prog=PROG,
        formatter_class=_formatter,
        description="The synthetic concept datasets of the CEM paper (XOR, Trig, Dot), a "
        "many-concept one (many), and yours.",
        epilog=_examples(
            "cem-data list",
            "cem-data info dot",
            "cem-data generate trig --protocol paper -o trig.npz",
            "cem-data import mine.csv --concepts a b --label y -o mine.npz",
            "cem-data plot dot -o dot.png",
            "cem-data COMMAND --help",
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, fn: Command, summary: str, *examples: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary,
            formatter_class=_formatter,
            epilog=_examples(*examples),
        )
        p.set_defaults(run=fn)
        return p

    command("list", cmd_list, "list the datasets with formula and concept-only ceiling", PROG)
    p = command(
        "info",
        cmd_info,
        "print a dataset's card (computed), or a file's metadata, shapes and statistics",
        "cem-data info xor",
        "cem-data info xor.npz",
        "cem-data info datasets/dot_reference.csv",
        "cem-data info mine.npz                          # plain arrays x, c, y",
        "cem-data info mine.csv --concepts a b --label y # a plain CSV",
    )
    p.add_argument("target", metavar="NAME|FILE", help="dataset name or a .npz/.csv/.pt file")
    _add_plain_options(p)

    p = command(
        "import",
        cmd_import,
        "turn your own plain .npz (x, c, y, optional split) or CSV into a cem-bench file with "
        "metadata, every value checked",
        "cem-data import mine.npz -o mine_cem.npz",
        "cem-data import mine.csv --concepts a b --label y --name mine -o mine.npz",
        "cem-data import mine.csv --concepts a b --label y --fractions 0.8 0.1 0.1 -o m.pt",
    )
    p.add_argument("source", metavar="FILE", help="a plain .npz or .csv (or a cem-bench file)")
    p.add_argument("-o", "--output", required=True, help="output file: .npz, .csv or .pt")
    p.add_argument("--name", help="the dataset's name in reports (default: the file's name)")
    _add_plain_options(p)
    p.add_argument("--force", action="store_true", help="replace an existing output file")

    p = command(
        "generate",
        cmd_generate,
        "generate a dataset and save it (.npz, .csv or .pt, from the extension)",
        "cem-data generate xor -o xor.npz                       # the paper's data",
        "cem-data generate dot --protocol random --size 10000 --seed 1 -o dot.csv",
        "cem-data generate trig --fractions 0.8 0.1 0.1 --concept-noise 0.1 -o trig.pt",
        "cem-data generate dot --hidden-concepts 1 --lift-dim 16 -o dot16.npz --force",
    )
    _add_generate_options(p)

    p = command(
        "plot",
        cmd_plot,
        "plot what the concepts and the task of a dataset separate (.png, .pdf, .svg)",
        "cem-data plot xor -o xor.png",
        "cem-data plot dot --protocol random --seed 3 --split test -o dot.pdf",
        "cem-data plot trig.npz -o trig.png",
    )
    p.add_argument("target", metavar="NAME|FILE", help="dataset name or saved .npz/.csv/.pt")
    p.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg")
    p.add_argument("--protocol", help=f"paper or random (default: {DEFAULTS.protocol})")
    p.add_argument("--seed", type=int, help=f"data seed (default: {DataConfig.seed})")
    p.add_argument("--size", type=int, help=f"total samples (default: {DataConfig.size})")
    p.add_argument("--split", default="train", choices=SPLITS, help="(default: %(default)s)")
    p.add_argument("--dpi", type=int, default=110, help="(default: %(default)s)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")

    p = command(
        "cards",
        cmd_cards,
        "print the dataset cards, or regenerate datasets/ (cards, reference CSVs, checksums)",
        "cem-data cards",
        "cem-data cards --write                 # run from the repository root",
        "python -m cem.data.cards --write --dir datasets",
    )
    p.add_argument("--write", action="store_true", help="write the files instead of printing")
    p.add_argument("--dir", default="datasets", help="target folder (default: %(default)s)")
    return parser


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


class Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that temporary files are removed."""


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` for the duration (the default action would kill the
    process and leave a half-written temporary file behind)."""

    def handler(signum: int, frame: Any) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cem-data``; returns the exit status (0 ok, 2 bad input, 130 / 143
    interrupted by SIGINT / SIGTERM)."""
    parser = make_parser()
    try:
        with _sigterm_unwinds():
            args = parser.parse_args(argv)
            return args.run(args)
    except SystemExit as e:  # --help and --version exit through argparse
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:  # e.g. `cem-data info dot | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CemError, OSError) as e:
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as e:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130 if isinstance(e, KeyboardInterrupt) else 143


if __name__ == "__main__":
    raise SystemExit(main())
