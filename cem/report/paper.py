"""The CEM paper's synthetic results (Espinosa Zarlenga et al., NeurIPS 2022, Appendix A.7; means
of 5 seeds, in %), keyed by our model names, and the reasons ours may differ."""

from __future__ import annotations

from typing import Any

# Our config name -> the paper's column.
PAPER_MODELS: dict[str, str] = {
    "dnn": "No concepts",
    "cbm_bool": "Bool-CBM",
    "cbm_sigmoid": "Fuzzy-CBM",
    "cbm_hybrid_sigmoid": "Hybrid-CBM",
    "cem": "CEM",
}
TASK_ACC: dict[str, dict[str, float]] = {
    "xor": {
        "dnn": 99.33,
        "cbm_bool": 51.33,
        "cbm_sigmoid": 51.42,
        "cbm_hybrid_sigmoid": 99.23,
        "cem": 99.17,
    },
    "trig": {
        "dnn": 98.47,
        "cbm_bool": 77.77,
        "cbm_sigmoid": 98.37,
        "cbm_hybrid_sigmoid": 98.67,
        "cem": 98.43,
    },
    "dot": {
        "dnn": 97.57,
        "cbm_bool": 48.00,
        "cbm_sigmoid": 48.17,
        "cbm_hybrid_sigmoid": 96.67,
        "cem": 97.13,
    },
}
CAS: dict[str, dict[str, float]] = {
    "xor": {
        "dnn": 79.65,
        "cbm_bool": 99.86,
        "cbm_sigmoid": 99.92,
        "cbm_hybrid_sigmoid": 98.53,
        "cem": 98.79,
    },
    "trig": {
        "dnn": 63.02,
        "cbm_bool": 85.80,
        "cbm_sigmoid": 97.84,
        "cbm_hybrid_sigmoid": 73.75,
        "cem": 97.55,
    },
    "dot": {
        "dnn": 57.31,
        "cbm_bool": 93.40,
        "cbm_sigmoid": 87.86,
        "cbm_hybrid_sigmoid": 72.66,
        "cem": 95.98,
    },
}
# Best accuracy of any function of the true binary concepts (paper test splits).
CEILING: dict[str, float] = {"xor": 100.0, "trig": 81.8, "dot": 76.8}

NOTES: dict[str, str] = {
    "threshold": "The public code thresholds the task *logit* at 0.5 (not the probability): a "
    "near-constant predictor then lands on the minority class, which explains the paper's ~48% "
    "for Bool/Fuzzy CBMs on Dot; we threshold p = 0.5.",
    "xor_linear": "XOR of two binary concepts is not linearly separable, so a CBM whose label "
    "predictor is one Linear layer on k scalar concepts cannot solve XOR (Bool, Fuzzy, "
    "Sequential, Independent): ~50% or below is the expected outcome, not a bug.",
    "ceiling": "Trig and Dot are concept-incomplete: any function of the binary concepts is capped "
    "at 81.8% (Trig) and 76.8% (Dot). Bool, Sequential-on-hard and Independent CBMs sit near that "
    "cap; soft (sigmoid/logit) bottlenecks can pass extra information through the concept scores.",
    "cas_bool": "CAS, Bool-CBM: points with identical representations share a cluster (as with "
    "the public code's argmin assignment), so a hard 0/1 concept's curve is flat at h(c, ĉ), the "
    "homogeneity of its predictions: Bool CAS measures concept accuracy alone. The paper's 85.80 "
    "on Trig is the h of hard concepts about 98% accurate; ours are 99.5% accurate (CAS 95.5).",
    "cas_hybrid": "CAS, Hybrid-CBM: we follow REFERENCE (the extra units split into k chunks); the "
    "public code clusters each concept's probability beside all extra units, with sklearn_extra's "
    "KMedoids (heuristic init, no swaps), which stops at costlier clusterings than our BUILD + "
    "alternate + PAM swaps. On our seed-42 models: Trig 86.7 with ours; 87.4 with their "
    "representation; 77.3 with their clustering; 77.6 with both (paper 73.75). Dot: 87.8, 88.7, "
    "84.7, 85.5 (paper 72.66). The clustering explains 3-9 points, the representation under 1; "
    "the rest lies in the trained networks.",
    "cas_fuzzy": "CAS, Fuzzy-CBM on Dot: our sigmoid concepts separate the two classes almost "
    "perfectly (concept accuracy 99.4%), so even two clusters of the 1-d value are nearly pure "
    "(99.9). The paper's 87.86 comes from runs whose task collapsed to the minority class; we "
    "found no cause in the metric. CEM's CAS and Fuzzy's on XOR and Trig agree with the paper.",
}


def is_paper_run(config: dict[str, Any] | None) -> bool:
    """True for a run of the paper's protocol (paper data and 500 epochs)."""
    if not config:
        return False
    return (
        config.get("dataset", {}).get("protocol") == "paper"
        and config.get("trainer", {}).get("max_epochs") == 500
    )
