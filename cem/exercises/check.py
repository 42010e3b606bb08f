"""Every checker of the course, one call per task: ``check.<task>(answer)``.

Each prints ``✓ <task>: …`` and returns True when the answer is right; otherwise it raises
:class:`cem.exercises.CheckFailed` (or :class:`cem.exercises.NotAnswered` for a ``...`` still in
place) with what is wrong and a hint, shown without a traceback in Jupyter. Each exercise's
checkers live in their own module (listed in its ``__all__``; the comment on each import
names the exercise); ``__all__`` below is in course order.
"""

from cem.exercises.alignment import (  # 8. Concept alignment
    alignment_why,
    kmeans,
    my_cas,
    normalised_area,
)
from cem.exercises.cbm_scratch import (  # 3. A joint CBM from scratch
    cbm_forward,
    cbm_loss,
    cbm_training,
)
from cem.exercises.cem_scratch import (  # 4. A CEM from scratch
    cem_forward,
    cem_training,
    randint_mask,
)
from cem.exercises.completeness import (  # 2. Concept completeness
    ceiling_function,
    ceilings,
    trig_worst_pattern,
    why_incomplete,
)
from cem.exercises.interventions import (  # 5. Interventions
    curve_function,
    intervene_function,
    intervention_effects,
    why_correct_hurts,
)
from cem.exercises.probing import (  # 7. Probing a black box
    hidden_layers,
    ois_meaning,
    probe_accuracy,
    probing_meaning,
    purity,
)
from cem.exercises.regions import (  # 1. Dot: which parts of the plane?
    dot_halfplanes,
    dot_latents,
    dot_regions,
    dot_task,
    xor_regions,
)
from cem.exercises.tradeoff import (  # 6. The accuracy-explainability trade-off
    alpha_sweep,
    cem_on_front,
    dominates_function,
    pareto_function,
)

__all__ = [
    "xor_regions",
    "dot_latents",
    "dot_halfplanes",
    "dot_regions",
    "dot_task",
    "ceiling_function",
    "ceilings",
    "trig_worst_pattern",
    "why_incomplete",
    "cbm_forward",
    "cbm_loss",
    "cbm_training",
    "cem_forward",
    "cem_training",
    "randint_mask",
    "curve_function",
    "intervene_function",
    "intervention_effects",
    "why_correct_hurts",
    "alpha_sweep",
    "cem_on_front",
    "dominates_function",
    "pareto_function",
    "hidden_layers",
    "probe_accuracy",
    "purity",
    "probing_meaning",
    "ois_meaning",
    "kmeans",
    "normalised_area",
    "my_cas",
    "alignment_why",
]
