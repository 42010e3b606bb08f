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
    "cas_public": "CAS is given twice. cas: REFERENCE's representations clustered with our "
    "k-medoids (BUILD + alternate + PAM swaps). cas_public: CAS as the authors' code computes it "
    "(cem/metrics/cas.py): their representation (a CBM's scores before the Bool threshold; a "
    "Hybrid-CBM's probability beside all its free units) and sklearn_extra's KMedoids() defaults "
    "(heuristic init, alternate, no swaps), re-implemented and checked label for label against "
    "sklearn_extra 0.3.0. Within 3 points of the paper: cas in 8 of the 12 target cells, "
    "cas_public in 7. The four that cas misses (Bool and Hybrid on Trig, Fuzzy and Hybrid on "
    "Dot) miss with cas_public too, so what is left of those gaps lies in the trained networks, "
    "not in the metric.",
    "cas_bool": "CAS, Bool-CBM: cas clusters the hard 0/1 values the label predictor reads "
    "(identical points share a cluster), so it equals h(c, ĉ), the homogeneity of the hard "
    "predictions. With sklearn_extra's clustering a two-valued representation falls into one "
    "cluster for every ρ up to the majority's size (47 on XOR for our hard values), so the "
    "paper's 99.86 on XOR must come from the unthresholded scores, which cas_public clusters: "
    "99.71 on XOR. On Trig and Dot cas_public gives 99.25 and 99.35 against the paper's 85.80 "
    "and 93.40: by the authors' own computation our Bool concepts are better aligned. Their "
    "Bool-CBM also scores 77.77% on Trig, under the 81.8% any function of correct concepts "
    "reaches (ours 82.43%): their concept predictions were less accurate.",
    "cas_hybrid": "CAS, Hybrid-CBM: cas clusters REFERENCE's representation (the free units split "
    "into k chunks): Trig 86.17, Dot 87.78. cas_public (each probability beside all free units, "
    "their clustering) gives 78.52 and 86.11, against the paper's 73.75 and 72.66: their "
    "clustering stops at costlier, less concept-pure clusterings, and their computation lowers "
    "CAS by 8 points on Trig and 2 on Dot. The remaining 5 (Trig) and 13 (Dot) points are not "
    "in the metric. Our Hybrid-CBMs match the paper's task accuracy within 1 point, so those "
    "points lie in how the paper's networks arranged their free units, which we could not "
    "recover.",
    "cas_fuzzy": "CAS, Fuzzy-CBM on Dot: our sigmoid concepts are 99.4% accurate and separate the "
    "two classes almost perfectly: 99.93 (cas) and 99.23 (cas_public) against the paper's "
    "87.86, which comes from runs whose task accuracy collapsed to 48%. On XOR and Trig both "
    "CAS variants agree with the paper within 1 point.",
}


def is_paper_run(config: dict[str, Any] | None) -> bool:
    """True for a run of the paper's protocol (paper data and 500 epochs)."""
    if not config:
        return False
    return (
        config.get("dataset", {}).get("protocol") == "paper"
        and config.get("trainer", {}).get("max_epochs") == 500
    )
