"""Pictures of the synthetic datasets that show what each concept and the task separate.

Every panel function draws one panel, takes ``ax=`` (a new figure when omitted) and returns
``(fig, ax)``; :func:`plot_dataset` lays out all the panels of a dataset and returns
``(fig, axes)``. Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, no global
backend change): ``fig.savefig("xor.png")`` renders them with Agg.

- XOR: the input square coloured by the task, with the concept boundaries x1 = 0.5, x2 = 0.5.
- Dot: one latent plane per concept (v1 for c1, v2 for c2) with the separating line v·w = 0 and
  the concept's half-plane shaded; the task as v2 seen in v1's frame (y = 1 is the half-plane
  ahead of v1); and the task over the two concept scores, where each quadrant (concept pattern)
  mixes both classes: why the concept-only ceiling is below 100%.
- Trig: per concept the two features of its latent (sin t + t, cos t + t) with the boundary
  t = 0; the task as a + b + z (recovered from x) against the squared-norm feature.
- Many: one concept over two of the inputs (the mixing is non-linear: no input separates it);
  the task as the concepts' score s(c) against the hidden latent h (recovered from x), with the
  boundary √(1−ρ)·s + √ρ·h = 0; the concepts' weights in s.
- XOR, Trig, Dot: the concept patterns as stacked bars of the two classes (the ceiling in the
  title).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import SubplotSpec

from cem.data import generators, stats
from cem.data.dataset import ConceptData, build, paper
from cem.data.spec import SPECS, spec_for
from cem.errors import check

# Colour-blind safe pair (Okabe-Ito): blue for 0 / false, vermillion for 1 / true.
COLORS = ("#0072B2", "#D55E00")
SHADE_ALPHA = 0.10
BOUNDARY = {"color": "0.15", "linestyle": "--", "linewidth": 1.3}

Panel = tuple[Figure, Axes]


# ---- shared helpers ---------------------------------------------------------------------------


def _axes(ax: Axes | None, size: tuple[float, float] = (4.8, 4.6)) -> Panel:
    """``(fig, ax)`` of the given axes, or of a new one-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _scatter(ax: Axes, u: np.ndarray, v: np.ndarray, label: np.ndarray, name: str) -> None:
    """Scatter points u, v: (n,) coloured by ``label``: (n,) in {0, 1}; legend from ``name``."""
    size, alpha = (12, 0.75) if len(label) <= 1000 else (7, 0.6)
    for value, text in ((0, f"not {name}"), (1, name)):
        m = label == value
        ax.scatter(u[m], v[m], s=size, alpha=alpha, color=COLORS[value], lw=0, rasterized=True)
        ax.plot([], [], "o", color=COLORS[value], label=f"{text} ({int(m.sum())})")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9, handletextpad=0.2)


def _limit(*arrays: np.ndarray) -> float:
    """Symmetric axis limit holding 99.5% of all values, with a margin."""
    values = np.concatenate([np.abs(a).ravel() for a in arrays])
    return float(np.percentile(values, 99.5) * 1.1) if values.size else 1.0


def _halfplane(ax: Axes, normal: tuple[float, float], lim: float, label: str) -> None:
    """Shade {p : p·normal > 0} in the square [-lim, lim]^2; draw its boundary and ``normal``."""
    n = np.asarray(normal, dtype=float) / np.hypot(*normal)
    t = np.array([-n[1], n[0]]) * 3 * lim  # along the boundary line, far out
    far = n * 3 * lim
    poly = np.array([-t, t, t + far, -t + far])
    ax.fill(poly[:, 0], poly[:, 1], color=COLORS[1], alpha=SHADE_ALPHA, lw=0, zorder=0)
    ax.plot([-t[0], t[0]], [-t[1], t[1]], **BOUNDARY, zorder=3)
    tip = n * lim * 0.5
    ax.annotate("", xy=tip, xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "lw": 1.6}, zorder=4)
    ax.text(*(tip * 1.18), label, ha="center", va="center", fontsize=10, weight="bold", zorder=4)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")


def _note(ax: Axes, text: str) -> None:
    """A small boxed note in the lower-right corner of the panel."""
    ax.text(
        0.98,
        0.02,
        text,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        bbox={"boxstyle": "round", "fc": "white", "alpha": 0.85, "lw": 0.5, "ec": "0.7"},
    )


def _plain_inputs(data: ConceptData) -> None:
    """Plots read the latents back from x: a synthetic dataset's own inputs, unlifted (your own
    data, or a lifted x, hide them)."""
    name = data.meta.get("dataset")
    spec = spec_for(name, data.meta) if isinstance(name, str) and name in SPECS else None
    ok = spec is not None and data.meta.get("feature_names") == list(spec.feature_names)
    lift = data.meta.get("lift_dim", 0)
    check(not lift, "lift_dim", lift, "0 (plots read the latents from the unlifted inputs)")
    check(ok, "dataset", name, f"a synthetic dataset ({', '.join(SPECS)}): plots read its latents")


# ---- every dataset ----------------------------------------------------------------------------


def plot_patterns(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """Stacked bars: samples of each class in every concept pattern.

    The smaller part of each bar is what any concept-only predictor must get wrong; the title
    gives the resulting concept-only ceiling.
    """
    fig, ax = _axes(ax)
    sp = data.splits[split]
    counts = stats.pattern_counts(sp.c, sp.y)
    labels = ["".join(map(str, p)) for p in counts]
    neg = np.array([v[0] for v in counts.values()])
    pos = np.array([v[1] for v in counts.values()])
    task = data.meta["task_name"]
    ax.bar(labels, neg, color=COLORS[0], alpha=0.85, label=f"not {task}")
    ax.bar(labels, pos, bottom=neg, color=COLORS[1], alpha=0.85, label=task)
    ceiling = stats.concept_ceiling(sp.c, sp.y)
    ax.set_title(f"concept patterns → {task}\nconcept-only ceiling {100 * ceiling:.1f}%")
    ax.set_xlabel("pattern of (" + ", ".join(data.meta["concept_names"]) + ")")
    ax.set_ylabel(f"samples ({split})")
    ax.set_ylim(0, max(1, int((neg + pos).max(initial=0))) * 1.15)  # headroom for the legend
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    return fig, ax


# ---- XOR --------------------------------------------------------------------------------------


def plot_xor(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """XOR's input square coloured by the task; concept boundaries x1 = 0.5, x2 = 0.5 dashed."""
    _plain_inputs(data)
    fig, ax = _axes(ax)
    x, y = data.splits[split].x, data.splits[split].y
    c_names, task = data.meta["concept_names"], data.meta["task_name"]
    for x0, y0 in ((0, 0.5), (0.5, 0)):  # the two quadrants where y = 1
        ax.fill_between([x0, x0 + 0.5], y0, y0 + 0.5, color=COLORS[1], alpha=SHADE_ALPHA, lw=0)
    _scatter(ax, x[:, 0], x[:, 1], y, task)
    ax.axvline(0.5, **BOUNDARY)
    ax.axhline(0.5, **BOUNDARY)
    box = {"boxstyle": "round", "fc": "white", "alpha": 0.85, "lw": 0}
    for cx in (0, 1):
        for cy in (0, 1):
            label = f"c = ({cx}, {cy})\ny = {cx ^ cy}"
            ax.text(
                0.25 + cx / 2, 0.25 + cy / 2, label, ha="center", va="center", bbox=box, zorder=5
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{data.meta['feature_names'][0]}   (boundary of {c_names[0]})")
    ax.set_ylabel(f"{data.meta['feature_names'][1]}   (boundary of {c_names[1]})")
    ax.set_title(f"task {task} on the input square\nconcepts {c_names[0]} and {c_names[1]}")
    return fig, ax


# ---- Dot --------------------------------------------------------------------------------------


def dot_latents(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dot's latents from its inputs x (n, 4) = [v1 + v2, v1 - v2]: v1 (n, 2), v2 (n, 2)."""
    return (x[:, :2] + x[:, 2:]) / 2, (x[:, :2] - x[:, 2:]) / 2


def plot_dot_concept(
    data: ConceptData, i: int, split: str = "train", ax: Axes | None = None
) -> Panel:
    """Concept ``i`` of Dot in its latent plane: v1 for c1 (v1·w > 0), v2 for c2 (v2·(-w) > 0).

    Points are coloured by the concept; the line v·w = 0 separates the plane and the concept's
    half-plane (direction w for c1, -w for c2) is shaded.
    """
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    v = dot_latents(sp.x)[i]
    name = data.meta["concept_names"][i]
    lim = _limit(v)
    w = generators.DOT_W * (1 if i == 0 else -1)
    _halfplane(ax, (w[0], w[1]), lim, "w" if i == 0 else "-w")
    _scatter(ax, v[:, 0], v[:, 1], sp.c[:, i], name)
    ax.set_xlabel(f"v{i + 1}[1]")
    ax.set_ylabel(f"v{i + 1}[2]")
    ax.set_title(f"concept c{i + 1}: {name}\nseparates the v{i + 1} plane at v{i + 1}·w = 0")
    return fig, ax


def plot_dot_task(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """Dot's task v1·v2 > 0: v2 drawn in v1's frame (v1 along the first axis).

    In that frame the task is the half-plane ahead of v1 (angle between v1 and v2 below 90°).
    """
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    v1, v2 = dot_latents(sp.x)
    u = v1 / np.maximum(np.linalg.norm(v1, axis=1, keepdims=True), 1e-12)
    along = (v2 * u).sum(axis=1)
    across = u[:, 0] * v2[:, 1] - u[:, 1] * v2[:, 0]
    lim = _limit(along, across)
    task = data.meta["task_name"]
    _halfplane(ax, (1.0, 0.0), lim, "v1")
    _scatter(ax, along, across, sp.y, task)
    ax.set_xlabel("v2 along v1   (v2·v1 / |v1|)")
    ax.set_ylabel("v2 across v1")
    ax.set_title(f"task {task}\nv2 in v1's frame: the half-plane ahead of v1")
    return fig, ax


def plot_dot_scores(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """Dot's task over the two concept scores (v1·w, v2·(-w)): each quadrant is one concept
    pattern, and every quadrant holds both classes, so concepts alone cannot decide the task."""
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    v1, v2 = dot_latents(sp.x)
    s1, s2 = v1 @ generators.DOT_W, v2 @ -generators.DOT_W
    lim = _limit(s1, s2)
    names, task = data.meta["concept_names"], data.meta["task_name"]
    _scatter(ax, s1, s2, sp.y, task)
    ax.axvline(0, **BOUNDARY)
    ax.axhline(0, **BOUNDARY)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(f"score of c1 (v1·w);  c1 = {names[0]}")
    ax.set_ylabel(f"score of c2 (v2·(-w));  c2 = {names[1]}")
    ceiling = stats.concept_ceiling(sp.c, sp.y)
    ax.set_title(f"task {task} over the concept scores\nevery quadrant mixes both classes")
    _note(ax, f"concept-only ceiling {100 * ceiling:.1f}%")
    return fig, ax


# ---- Trig -------------------------------------------------------------------------------------


def trig_latents(x: np.ndarray) -> np.ndarray:
    """Trig's latents (a, b, z): (n, 3), inverted from the features sin t + t of x (n, 7)."""
    return np.stack([generators._invert_sin_plus_id(x[:, j]) for j in (0, 2, 4)], axis=1)


def plot_trig_concept(
    data: ConceptData, i: int, split: str = "train", ax: Axes | None = None
) -> Panel:
    """Concept ``i`` of Trig (latent t = a, b or z > 0) on its two features (sin t + t, cos t + t).

    sin t + t is increasing, so the concept is the half-plane sin t + t > 0 (shaded).
    """
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    fu, fv = sp.x[:, 2 * i], sp.x[:, 2 * i + 1]
    name = data.meta["concept_names"][i]
    f_names = data.meta["feature_names"]
    lim = _limit(fu, fv)
    ax.axvspan(0, lim, color=COLORS[1], alpha=SHADE_ALPHA, lw=0)
    ax.axvline(0, **BOUNDARY)
    _scatter(ax, fu, fv, sp.c[:, i], name)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(f_names[2 * i])
    ax.set_ylabel(f_names[2 * i + 1])
    ax.set_title(f"concept c{i + 1}: {name}\nseparated by {f_names[2 * i]} = 0")
    return fig, ax


def plot_trig_task(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """Trig's task a + b + z > 1: the latent sum (recovered from x) against the feature a²+b²+z².

    The task is the half-plane a + b + z > 1 (shaded); the concepts only see the signs of a, b, z.
    """
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    total = trig_latents(sp.x).sum(axis=1)
    sq = sp.x[:, 6]
    task = data.meta["task_name"]
    lim = _limit(total)
    ax.axvspan(1, lim, color=COLORS[1], alpha=SHADE_ALPHA, lw=0)
    ax.axvline(1, **BOUNDARY)
    _scatter(ax, total, sq, sp.y, task)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(0, float(np.percentile(sq, 99.5)) * 1.1 if len(sq) else 1)
    ax.set_xlabel("a + b + z   (recovered from x)")
    ax.set_ylabel(data.meta["feature_names"][6])
    ax.set_title(f"task {task}\nthe half-plane a + b + z > 1")
    return fig, ax


# ---- Many -------------------------------------------------------------------------------------


def plot_many_concept(
    data: ConceptData, i: int = 0, split: str = "train", ax: Axes | None = None
) -> Panel:
    """Concept ``i`` of ``many`` over the first two inputs: the classes overlap, because every
    input mixes every latent non-linearly (no single input, nor a line, separates a concept)."""
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    name = data.meta["concept_names"][i]
    f_names = data.meta["feature_names"]
    _scatter(ax, sp.x[:, 0], sp.x[:, 1], sp.c[:, i], name)
    ax.set_xlabel(f_names[0])
    ax.set_ylabel(f_names[1])
    ax.set_title(f"concept c{i + 1}: {name}\nover the inputs {f_names[0]}, {f_names[1]}: mixed")
    return fig, ax


def plot_many_task(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """``many``'s task: the concepts' score s(c) = Σ w_i (2c_i − 1) against the hidden latent h
    (recovered from x); y = 1 above the line √(1−ρ)·s + √ρ·h = 0. The concepts alone see only
    s, so the best they can do is ŷ = 1[s > 0]: the points on the wrong side of s = 0 are the
    concept-only errors."""
    _plain_inputs(data)
    fig, ax = _axes(ax)
    sp = data.splits[split]
    k, rho = data.meta["n_concepts"], data.meta["latent_share"]
    score = generators.many_score(sp.c)
    h = generators.many_latents(sp.x)[:, k]
    task = data.meta["task_name"]
    _scatter(ax, score, h, sp.y, task)
    lim_s, lim_h = _limit(score) or 1.0, _limit(h) or 1.0
    t = np.array([-lim_s, lim_s])
    if rho > 0:
        ax.plot(t, -np.sqrt((1 - rho) / rho) * t, **BOUNDARY)
    else:
        ax.axvline(0, **BOUNDARY)
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.set_xlim(-lim_s, lim_s)
    ax.set_ylim(-lim_h, lim_h)
    ax.set_xlabel("concept score s(c) = Σ w_i (2c_i − 1)")
    ax.set_ylabel("hidden latent h   (recovered from x)")
    ax.set_title(f"task {task}\nthe concepts' score against the hidden latent (ρ = {rho:g})")
    ceiling = data.spec.ceiling(sp.c, sp.y)
    _note(ax, f"concept-only ceiling {100 * ceiling:.1f}%")
    return fig, ax


def plot_many_weights(data: ConceptData, split: str = "train", ax: Axes | None = None) -> Panel:
    """``many``'s concept weights w_i in the task score (vermillion: c_i = 1 pushes y to 1; blue:
    to 0): a few concepts decide most of the task, so which one is intervened on first matters."""
    fig, ax = _axes(ax)
    names = data.meta["concept_names"]
    w = generators.many_weights(len(names))
    ax.bar(range(len(w)), w, color=[COLORS[int(v > 0)] for v in w], alpha=0.85)
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(range(len(w)), names, rotation=90 if len(w) > 8 else 0, fontsize=8)
    ax.set_ylabel("weight w_i in s(c)")
    ax.set_title("concept weights in the task score\nfirst concepts first: |w_i| ∝ 0.8^(i−1)")
    return fig, ax


# ---- whole figure -----------------------------------------------------------------------------

PanelFn = Callable[[ConceptData, str, Axes], Panel]


def _rows(data: ConceptData) -> list[list[PanelFn]]:
    """The panels of each dataset, one list per figure row."""
    k = len(data.meta["concept_names"])
    name = data.meta["dataset"]
    if name == "xor":
        return [[plot_xor, plot_patterns]]

    def concept(fn: Callable[..., Panel], i: int) -> PanelFn:
        return lambda d, s, ax: fn(d, i, s, ax)

    if name == "many":
        return [[concept(plot_many_concept, 0), plot_many_task, plot_many_weights]]

    if name == "dot":
        concepts = [concept(plot_dot_concept, i) for i in range(k)]
        return [[*concepts, plot_dot_task], [plot_dot_scores, plot_patterns]]
    concepts = [concept(plot_trig_concept, i) for i in range(k)]
    return [concepts, [plot_trig_task, plot_patterns]]


# Fixed layout in inches (faster than constrained layout, which doubles the drawing time).
PANEL_IN = 4.6
MARGIN_IN = {"left": 0.65, "right": 0.15, "top": 0.95, "bottom": 0.6, "wgap": 0.8, "hgap": 1.1}


def _grid(fig: Figure, counts: list[int]) -> list[list[SubplotSpec]]:
    """One row of ``counts[r]`` equal panels per figure row, with fixed margins in inches."""
    w, h = fig.get_size_inches()
    m = MARGIN_IN
    n = len(counts)
    axes_h = (h - m["top"] - m["bottom"] - (n - 1) * m["hgap"]) / n
    outer = fig.add_gridspec(
        n,
        1,
        left=m["left"] / w,
        right=1 - m["right"] / w,
        top=1 - m["top"] / h,
        bottom=m["bottom"] / h,
        hspace=m["hgap"] / axes_h,
    )
    rows = []
    for r, k in enumerate(counts):
        axes_w = (w - m["left"] - m["right"] - (k - 1) * m["wgap"]) / k
        inner = outer[r].subgridspec(1, k, wspace=m["wgap"] / axes_w)
        rows.append([inner[0, j] for j in range(k)])
    return rows


def _resolve(name_or_data: str | ConceptData, **build_kw: object) -> ConceptData:
    """A ConceptData as given, or built: the paper's data by default, ``build(...)`` with kw."""
    if isinstance(name_or_data, ConceptData):
        return name_or_data
    return build(name=name_or_data, **build_kw) if build_kw else paper(name_or_data)


def plot_dataset(
    name_or_data: str | ConceptData, split: str = "train", **build_kw: object
) -> tuple[Figure, np.ndarray]:
    """Every panel of a dataset in one figure.

    Parameters
    ----------
    name_or_data : str or ConceptData
        A dataset name (``"xor"``, ``"trig"``, ``"dot"``, ``"many"``: the paper protocol's data
        unless ``build_kw`` is given) or generated/loaded data (unlifted).
    split : str
        ``"train"``, ``"val"`` or ``"test"``.
    **build_kw
        Passed to :func:`cem.data.dataset` with the name (e.g. ``protocol="random", seed=1``).

    Returns
    -------
    fig : Figure
    axes : (n_panels,) object array of Axes
        Concept panels first (Dot, Trig: one per concept; XOR: the input square with both
        concept boundaries; Many: its first concept), titles naming the concepts; then the task
        and pattern panels (Many: the concept weights).
    """
    data = _resolve(name_or_data, **build_kw)
    _plain_inputs(data)
    check(split in data.splits, "split", split, ", ".join(data.splits))
    rows = _rows(data)
    fig = Figure(figsize=(PANEL_IN * max(map(len, rows)), PANEL_IN * len(rows) + 0.5))
    axes = []
    for panels, specs in zip(rows, _grid(fig, [len(r) for r in rows]), strict=True):
        for fn, spec in zip(panels, specs, strict=True):
            ax = fig.add_subplot(spec)
            fn(data, split, ax)
            axes.append(ax)
    title = f"{data.spec.title} ({data.meta['dataset']}): {split} split, n = {len(data[split])}"
    fig.suptitle(title + f", protocol {data.meta['protocol']}, seed {data.meta['seed']}")
    return fig, np.array(axes, dtype=object)
