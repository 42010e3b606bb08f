"""The course exercises: their names, titles and one-line goals, in course order.

Each exercise is one source file ``exercises/<name>.py`` (jupytext percent format) from which
``cem-exercises build`` makes ``exercises/student/<name>.ipynb`` and
``exercises/solutions/<name>.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cem.errors import unknown


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``name`` is its file stem (``01_dot_regions``)."""

    name: str
    title: str
    goal: str

    @property
    def number(self) -> int:
        return int(self.name.split("_", 1)[0])


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "01_dot_regions",
        "Dot: which parts of the plane?",
        "Recover Dot's latent vectors from x, plot them and say how its concepts and task "
        "divide the plane (XOR as the warm-up).",
    ),
    Exercise(
        "02_completeness",
        "Concept completeness",
        "Compute the best accuracy any function of the true concepts reaches on XOR, Trig and "
        "Dot, and explain why two of them stay below 100%.",
    ),
    Exercise(
        "03_cbm_from_scratch",
        "A joint CBM from scratch",
        "Write a joint Concept Bottleneck Model in plain torch (forward pass, joint loss, "
        "training loop) and match the library's.",
    ),
    Exercise(
        "04_cem_from_scratch",
        "A CEM from scratch",
        "Write a Concept Embedding Model: positive/negative embeddings, the shared scorer, "
        "the mixture and RandInt training interventions.",
    ),
    Exercise(
        "05_interventions",
        "Interventions",
        "Correct and incorrect concept interventions on CEM and the Sigmoid CBM on Trig, and "
        "why correcting concepts can lower a leaky CBM's accuracy.",
    ),
    Exercise(
        "06_tradeoff",
        "The accuracy-explainability trade-off",
        "Sweep the concept-loss weight alpha, plot task against concept accuracy, find the "
        "Pareto front and place CEM on it.",
    ),
    Exercise(
        "07_probing",
        "Probing a black box",
        "Fit linear probes on the hidden layers of a no-concept DNN, compare with CEM's "
        "concept accuracy and relate it to the oracle impurity score.",
    ),
    Exercise(
        "08_alignment",
        "Concept alignment",
        "Compute the Concept Alignment Score of CEM and Hybrid representations with a "
        "clustering of your own and compare with the library's.",
    ),
)

BY_NAME: dict[str, Exercise] = {e.name: e for e in EXERCISES}


def get(name: str) -> Exercise:
    """An exercise by its name or number (``"01_dot_regions"``, ``"1"`` or ``1``)."""
    if name in BY_NAME:
        return BY_NAME[str(name)]
    for e in EXERCISES:
        if str(name).lstrip("0") == str(e.number):
            return e
    raise unknown("exercise", name, BY_NAME)
