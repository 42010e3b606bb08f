"""Dataset cards computed by code: every number on a card comes from the generated arrays.

``card(name)`` renders the Markdown card of a dataset under the paper's protocol (seed 42,
2100/300/600); ``write_all(folder)`` regenerates ``NAME.md``, ``NAME_reference.csv`` (the first
rows of every split, exact) and ``checksums.json`` for every dataset. From a shell::

    cem-data cards --write            # or: python -m cem.data.cards --write
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from io import StringIO
from pathlib import Path

import numpy as np

from cem.data import generators, io, stats
from cem.data.dataset import PAPER_ORDER, SPLITS, ConceptData, Split, paper
from cem.data.spec import SPECS, DatasetSpec, get_spec

REFERENCE_ROWS = 8
CHECKSUMS_FILE = "checksums.json"

_INCOMPLETE = (
    "The dataset is concept-incomplete by design: a model that squeezes everything through the "
    "k scalar concepts cannot beat this ceiling; concept embeddings can."
)
_COMPLETE = "The concepts determine the task exactly: a concept bottleneck can reach 100%."


# Per-dataset remarks printed under the source line.
NOTES: dict[str, str] = {
    "trig": "The paper's appendix prints the task as h1 + h2 > 0; every public implementation "
    "uses a + b + z > 1, and so does this one. sin and cos come from libm, element by element, "
    "so x has the same bytes on every CPU (NumPy's AVX-512 kernels can differ by an ulp).",
    "dot": "v2 is drawn after v1 from the same stream. A peer copy re-seeds before drawing v2, "
    "which makes v2 = v1 and y always 1; the tests guard against that.",
    "many": "XOR, Trig and Dot have 2-3 concepts, so an intervention curve has 2-3 points and "
    "every policy looks alike. Here k concepts (12 by default, `--n-concepts` up to 64) weigh "
    "unequally in the task, every input mixes every latent non-linearly (so concepts are "
    "learned imperfectly and interventions help), and a hidden latent h, in x but no concept, "
    "takes a share ρ of the task score (`--latent-share`, 0.1 by default; 0: the concepts "
    "decide the task). The mixing is fixed by k and invertible, so the labels are re-derived "
    "from x alone (the tests do, for every sample).",
}
POPULATION = 1_000_000  # fresh latents for a card's population estimate of a known ceiling


def sha256(a: np.ndarray) -> str:
    """sha256 hex digest of ``a.tobytes()`` (C order, dtype as generated)."""
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def checksums(data: ConceptData) -> dict[str, dict[str, str]]:
    """``split -> array ('x', 'c', 'y') -> sha256`` of every array of ``data``."""
    return {s: {a: sha256(getattr(data.splits[s], a)) for a in io.ARRAYS} for s in SPLITS}


def _pct(v: float) -> str:
    return f"{100 * v:.2f}%"


def _code(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _definition(name: str) -> list[str]:
    spec = get_spec(name)
    return [
        "## Definition",
        "",
        "```text",
        spec.formula,
        "```",
        "",
        "| part | names |",
        "|---|---|",
        f"| inputs x (d = {spec.n_features}) | {_code(spec.feature_names)} |",
        f"| concepts c (k = {spec.n_concepts}) | {_code(spec.concept_names)} |",
        f"| task y (binary) | `{spec.task_name}` |",
    ]


def _balance_table(data: ConceptData) -> list[str]:
    names = data.meta["concept_names"]
    head = ["split", "n", "y = 1", *(f"`{n}` = 1" for n in names), "concept-only ceiling"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in SPLITS:
        sp = data.splits[s]
        st = stats.split_stats(sp.c, sp.y)
        cells = [
            s,
            str(st["n"]),
            _pct(st["class_balance"]),
            *(_pct(v) for v in st["concept_balance"]),
            _pct(data.spec.ceiling(sp.c, sp.y)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pattern_table(split: Split, concept_names: list[str]) -> list[str]:
    head = f"| pattern ({', '.join(concept_names)}) | y = 0 | y = 1 | best guess | errors |"
    lines = [head, "|---|---|---|---|---|"]
    for pattern, counts in stats.pattern_counts(split.c, split.y).items():
        best = int(np.argmax(counts))
        cells = [str(pattern), *map(str, counts), f"y = {best}", str(sum(counts) - counts[best])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _weights_table(spec: DatasetSpec) -> list[str]:
    """``many``: each concept's weight in the task score."""
    w = generators.many_weights(spec.n_concepts)
    lines = ["| concept | weight w_i | share of Σ w² |", "|---|---|---|"]
    for name, v in zip(spec.concept_names, w, strict=True):
        lines.append(f"| `{name}` | {v:+.4f} | {_pct(v * v)} |")
    return lines


def _population_ceiling(spec: DatasetSpec) -> float:
    """A known concept rule's accuracy over fresh latents (``many``: no inputs are needed)."""
    k, rho = spec.params["n_concepts"], spec.params["latent_share"]
    u = np.random.default_rng(0).normal(0, 1, (POPULATION, k + 1))
    c, s, y = generators.many_rule(u[:, :k], u[:, k], rho)
    return float(np.mean((s > 0) == y))


def _ceiling_text(spec: DatasetSpec, ceiling: float) -> str:
    head = f"**Concept-only ceiling on the test split: {_pct(ceiling)}**"
    if spec.concept_rule is None:
        return (
            f"{head} — the best accuracy of ANY function of the binary concepts (predict each "
            "concept pattern's majority class). " + (_COMPLETE if ceiling == 1.0 else _INCOMPLETE)
        )
    return (
        f"{head} — the accuracy of the best function of the binary concepts, ŷ = 1[s(c) > 0] "
        "(h is independent of the concepts and symmetric, so P(y = 1 | c) > 1/2 exactly when "
        f"s(c) > 0); over {POPULATION:,} fresh samples it is {_pct(_population_ceiling(spec))}. "
        f"With 2^{spec.n_concepts} concept patterns, most seen once in a split, counting each "
        "pattern's majority class would fit the split's own labels, so this card does not. "
        + (_COMPLETE if ceiling == 1.0 else _INCOMPLETE)
    )


def _protocol(data: ConceptData) -> list[str]:
    sizes = data.meta["sizes"]
    order = " → ".join(f"{s} ({sizes[s]})" for s in PAPER_ORDER)
    test = data.splits["test"]
    spec = data.spec
    ceiling = spec.ceiling(test.c, test.y)
    whose = (
        "These are the CEM paper's arrays byte for byte (the data seed is the same for all trials)."
        if spec.in_paper
        else "The same protocol as the CEM paper's datasets (this dataset is not in the paper)."
    )
    details = (
        ["Concept patterns of the test split:", "", *_pattern_table(test, spec.concept_names)]
        if spec.concept_rule is None
        else ["Concept weights in the task score:", "", *_weights_table(spec)]
    )
    return [
        "## Paper protocol",
        "",
        f"{data.meta['size']} samples from ONE legacy NumPy stream "
        f"`np.random.RandomState({data.meta['seed']})` (MT19937), drawn in the order {order}; "
        f"each split draws all its latents at once, in the order of the formula. {whose}",
        "",
        *_balance_table(data),
        "",
        _ceiling_text(spec, ceiling),
        "",
        *details,
    ]


def _checksum_table(data: ConceptData) -> list[str]:
    lines = [
        "## Checksums",
        "",
        "sha256 of `arr.tobytes()` of each generated array (C order, dtype as generated); the "
        f"same values are in `{CHECKSUMS_FILE}`.",
        "",
        "| split | array | shape | dtype | sha256 |",
        "|---|---|---|---|---|",
    ]
    sums = checksums(data)
    for s in SPLITS:
        for a in io.ARRAYS:
            arr = getattr(data.splits[s], a)
            lines.append(f"| {s} | {a} | {arr.shape} | {arr.dtype} | `{sums[s][a]}` |")
    return lines


def _regenerate(name: str) -> list[str]:
    return [
        "## Regenerate",
        "",
        "```bash",
        f"cem-data generate {name} --protocol paper -o {name}.npz   # or .csv / .pt",
        f"cem-data info {name}.npz",
        f"cem-data plot {name} -o {name}.png",
        "```",
        "",
        "```python",
        "from cem.data import paper",
        f'data = paper("{name}")  # data["train"].x, data["train"].c, data["train"].y',
        "```",
        "",
        f"`{name}_reference.csv` holds the first {REFERENCE_ROWS} rows of every split in the "
        "cem-bench CSV format (exact `repr` floats; `cem-data info` reads it). This card, the "
        "reference sample and the checksums are written by `cem-data cards --write`; do not edit "
        "them by hand.",
    ]


def card(name: str) -> str:
    """The Markdown dataset card of ``name`` under the paper's protocol, computed from the data.

    Parameters
    ----------
    name : str
        ``"xor"``, ``"trig"``, ``"dot"`` or ``"many"`` (its defaults); anything else raises a
        one-line ``CemError``.

    Returns
    -------
    str
        Markdown: title, source, formula, sizes, class and concept balances, concept-only ceiling
        per split (test = the headline), concept patterns (``many``: the concept weights and
        the ceiling over fresh samples), sha256 of every array, how to regenerate.
        Deterministic (no dates, no versions), so committed cards can be checked.
    """
    spec = get_spec(name)
    data = paper(name)
    source = (
        "Source: *Concept Embedding Models: Beyond the Accuracy-Explainability Trade-Off*, "
        f"{spec.source}; labelling rule of the authors' public code."
        if spec.in_paper
        else f"Source: {spec.source}."
    )
    lines = [
        f"# {spec.title} (`{name}`): synthetic concept dataset",
        "",
        source,
        "",
        *([NOTES[name], ""] if name in NOTES else []),
        *_definition(name),
        "",
        *_protocol(data),
        "",
        *_checksum_table(data),
        "",
        *_regenerate(name),
    ]
    return "\n".join(lines) + "\n"


def reference_sample(data: ConceptData, rows: int = REFERENCE_ROWS) -> str:
    """The first ``rows`` rows of every split in the CSV format of :mod:`cem.data.io`.

    The metadata gains ``reference_rows`` and drops the package version, so the file only changes
    when the data does.
    """
    meta = {k: v for k, v in data.meta.items() if k != "cem_bench_version"}
    meta["reference_rows"] = rows
    buf = StringIO()
    io.write_csv(ConceptData(data.splits, meta), buf, rows=rows)
    return buf.getvalue()


def expected_files() -> dict[str, str]:
    """Every file ``write_all`` writes, ``file name -> content``."""
    files: dict[str, str] = {}
    sums: dict[str, dict[str, dict[str, str]]] = {}
    for name in SPECS:
        data = paper(name)
        files[f"{name}.md"] = card(name)
        files[f"{name}_reference.csv"] = reference_sample(data)
        sums[name] = checksums(data)
    files[CHECKSUMS_FILE] = json.dumps(sums, indent=2) + "\n"
    return files


def write_all(folder: str | os.PathLike[str] = "datasets") -> list[Path]:
    """(Re)write the cards, reference samples and checksums of every dataset into ``folder``.

    Returns
    -------
    list of Path
        The written files. Each write is atomic; ``folder`` must exist.
    """
    return [
        io.write_text(Path(folder) / fname, text, force=True)
        for fname, text in expected_files().items()
    ]


if __name__ == "__main__":  # python -m cem.data.cards [--write] [--dir DIR]
    from cem.data.cli import main

    raise SystemExit(main(["cards", *sys.argv[1:]]))
