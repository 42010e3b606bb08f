"""Tidy rows of runs -> summary (mean ± std, 95% CI over seeds) -> CSV and Markdown."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Sequence
from typing import Any

from scipy.stats import t as student_t

SUMMARY_METRICS: tuple[str, ...] = (
    "test/task_acc",
    "test/task_auc",
    "test/concept_acc",
    "test/concept_auc",
)
LEAD_COLUMNS: tuple[str, ...] = (
    "run_dir",
    "status",
    "dataset",
    "model",
    "variant",
    "seed",
    "error",
)


def ci95(values: Sequence[float]) -> float:
    """Half-width of the Student-t 95% confidence interval of the mean (NaN below 2 values)."""
    if len(values) < 2:
        return float("nan")
    return float(
        student_t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    )


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _order(key: tuple[str, str, str]) -> tuple[Any, ...]:
    """Sort key of (dataset, model, variant): a variant's settings compare as numbers where they
    are numbers (α = 0.1, 1, 5, 10, not the text order 1, 10, 5)."""
    dataset, model, variant = key
    settings = []
    for part in variant.split(",") if variant else []:
        name, _, value = part.partition("=")
        num = _number(value)
        settings.append((name, 0, num, "") if num is not None else (name, 1, 0.0, value))
    return (dataset, model, settings)


def summarise(
    rows: Sequence[dict[str, Any]], metrics: Sequence[str] = SUMMARY_METRICS
) -> list[dict[str, Any]]:
    """One entry per (dataset, model) over completed runs: n and mean/std/ci95 of each metric."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") == "completed":
            key = (str(r["dataset"]), str(r["model"]), str(r.get("variant") or ""))
            groups.setdefault(key, []).append(r)
    out = []
    for (dataset, model, variant), rs in sorted(groups.items(), key=lambda g: _order(g[0])):
        entry: dict[str, Any] = {
            "dataset": dataset,
            "model": model,
            "variant": variant,
            "n": len(rs),
            "runs": rs,
        }
        for m in metrics:
            vals = [float(r[m]) for r in rs if r.get(m) is not None and not _nan(r[m])]
            entry[m] = {
                "mean": statistics.mean(vals) if vals else float("nan"),
                "std": statistics.stdev(vals) if len(vals) > 1 else 0.0 if vals else float("nan"),
                "ci95": ci95(vals),
                "n": len(vals),
            }
        out.append(entry)
    return out


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Tidy CSV: one row per run, the lead columns first, then every metric seen, sorted."""
    extra = sorted({k for r in rows for k in r if not k.startswith("_")} - set(LEAD_COLUMNS))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*LEAD_COLUMNS, *extra], extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in writer.fieldnames})
    return buf.getvalue()


def _cell(stat: dict[str, float]) -> str:
    """``mean ± std (±ci95)`` in %; the mean alone for one run (no spread to show)."""
    if stat["n"] == 0:
        return "–"
    mean, std, ci = 100 * stat["mean"], 100 * stat["std"], 100 * stat["ci95"]
    if stat["n"] == 1:
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f}" + ("" if math.isnan(ci) else f" (±{ci:.2f})")


def to_markdown(
    summary: Sequence[dict[str, Any]],
    metrics: Sequence[str] = SUMMARY_METRICS,
    paper: dict[str, dict[str, float]] | None = None,
) -> str:
    """Dataset × model table, percentages: mean ± std (± 95% CI half-width) over seeds (the mean
    alone when n = 1).

    A ``variant`` column appears when runs of one (dataset, model) differ in a setting; with
    ``paper`` (dataset -> model -> %), a column puts the paper's number beside the first metric.
    """
    variants = any(e.get("variant") for e in summary)
    head = ["dataset", "model", *(["variant"] if variants else []), "n"]
    head += [m.split("/", 1)[1] + " %" for m in metrics]
    if paper is not None:
        head.insert(len(head) - len(metrics) + 1, "paper %")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in summary:
        cells = [e["dataset"], e["model"], *([e.get("variant", "")] if variants else [])]
        cells += [str(e["n"]), *[_cell(e[m]) for m in metrics]]
        if paper is not None:
            ref = paper.get(e["dataset"], {}).get(e["model"])
            cells.insert(len(cells) - len(metrics) + 1, "–" if ref is None else f"{ref:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def problems_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The runs left out of the summary (failed, incomplete, never started, unreadable), with
    their error."""
    bad = [r for r in rows if r.get("status") != "completed"]
    if not bad:
        return ""
    lines = ["| run | status | dataset | model | seed | error |", "|---|---|---|---|---|---|"]
    for r in bad:
        err = str(r.get("error") or "").replace("|", "/").splitlines()
        lines.append(
            f"| {r['run_dir']} | {r['status']} | {r.get('dataset')} | {r.get('model')} | "
            f"{r.get('seed')} | {err[0] if err else ''} |"
        )
    return "\n".join(lines)
