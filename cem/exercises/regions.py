"""Checkers of exercise 1: how XOR's and Dot's concepts and tasks divide the plane."""

from __future__ import annotations

from typing import Any

import numpy as np

from cem.data.generators import DOT_W
from cem.exercises.answers import as_array, as_choice, as_int, as_patterns
from cem.exercises.feedback import fail, passed

__all__ = ["xor_regions", "dot_latents", "dot_halfplanes", "dot_regions", "dot_task"]

XOR_POSITIVE = {(0, 1), (1, 0)}

# Exercise 1's multiple-choice question: what does Dot's task ask about v1 and v2?
DOT_TASK_CHOICES = {
    "a": "v1 and v2 lie on the same side of the line v·w = 0",
    "b": "the angle between v1 and v2 is less than 90 degrees",
    "c": "v1 lies in c1's half-plane and v2 in c2's half-plane",
    "d": "v1 is longer than v2",
}
DOT_TASK_HINTS = {
    "a": "that is a statement about the concepts: 'same side of v·w = 0' is c1 != c2 "
    "(c1 XOR c2). Compute it on the data and compare with y: they disagree on about a quarter "
    "of the samples.",
    "c": "that is c1 AND c2, a function of the concepts. Compare it with y on the data.",
    "d": "v1·v2 > 0 does not change when you scale v1 or v2 by a positive number, so lengths "
    "cannot matter. What does the sign of a dot product tell you?",
}


def xor_regions(n_regions: Any, positive: Any) -> bool:
    """XOR warm-up: how many regions the concepts cut [0, 1]² into, and where y = 1.

    n_regions : int, the number of regions of the unit square that the two concept boundaries
        x1 = 0.5 and x2 = 0.5 make.
    positive : set of concept patterns ``(c1, c2)`` whose region has y = 1.
    """
    what = "xor_regions"
    n = as_int(what, "n_regions", n_regions)
    pats = as_patterns(what, "positive", positive, 2)
    if n != 4:
        hint = {
            2: "there are two boundaries, x1 = 0.5 and x2 = 0.5, and they cross inside the "
            "square. Look at the plot: how many coloured blocks do you see?",
        }.get(n, "each concept is one straight boundary across the square; two crossing lines.")
        fail(what, f"n_regions = {n} is not right.", hint)
    if pats != XOR_POSITIVE:
        if pats == {(1, 1)}:
            hint = "y = 1 only where both concepts are on would be AND, not XOR."
        elif pats == {(0, 0), (1, 1)}:
            hint = "those are the regions where y = 0: XOR is 1 when exactly one input is 1."
        else:
            hint = "XOR is 1 when exactly one of c1, c2 is 1; list those patterns as tuples."
        fail(what, f"positive = {sorted(pats)} is not the set of patterns with y = 1.", hint)
    return passed(what, "4 regions; y = 1 in the two where exactly one concept is on.")


def dot_latents(x: Any, v1: Any, v2: Any) -> bool:
    """Dot: the latent vectors recovered from x = [v1 + v2, v1 - v2].

    x : (n, 4) the inputs; v1, v2 : (n, 2) the student's recovered latents.
    """
    what = "dot_latents"
    xs = as_array(what, "x", x, (None, 4))
    a = as_array(what, "v1", v1, (len(xs), 2))
    b = as_array(what, "v2", v2, (len(xs), 2))
    s, d = xs[:, :2], xs[:, 2:]
    t1, t2 = (s + d) / 2, (s - d) / 2

    def close(u: np.ndarray, v: np.ndarray) -> bool:
        return bool(np.allclose(u, v, rtol=1e-9, atol=1e-9))

    if close(a, t1) and close(b, t2):
        return passed(what, "v1 = (x[:, :2] + x[:, 2:]) / 2 and v2 = (x[:, :2] - x[:, 2:]) / 2.")
    if close(a, t2) and close(b, t1):
        fail(what, "v1 and v2 are swapped.", "x[:, 2:] is v1 - v2: which vector has the + sign?")
    if close(a, 2 * t1) or close(b, 2 * t2):
        fail(
            what,
            "your vectors are twice as long as the latents.",
            "(v1 + v2) + (v1 - v2) = 2·v1: divide by 2.",
        )
    if close(a, t1) and close(b, -t2):
        fail(what, "v1 is right, v2 has the wrong sign.", "(v1 + v2) - (v1 - v2) = 2·v2.")
    if close(a, s) or close(b, d) or close(b, s):
        fail(
            what,
            "you returned the input halves x[:, :2] or x[:, 2:] themselves.",
            "x holds the sum v1 + v2 and the difference v1 - v2; solve these two equations.",
        )
    fail(
        what,
        "v1 and v2 do not match the latents.",
        "x = [v1 + v2, v1 - v2]: add and subtract the two halves of x.",
    )


def _direction(what: str, name: str, value: Any) -> np.ndarray:
    v = as_array(what, name, value, (2,))
    if np.linalg.norm(v) == 0:
        fail(what, f"`{name}` is the zero vector, which has no direction.")
    return v / np.linalg.norm(v)


def dot_halfplanes(c1_normal: Any, c2_normal: Any) -> bool:
    """Dot: the normal vector n_i of each concept's half-plane {v : v·n_i > 0} (any scale)."""
    what = "dot_halfplanes"
    answers = [_direction(what, "c1_normal", c1_normal), _direction(what, "c2_normal", c2_normal)]
    truth = [DOT_W / np.linalg.norm(DOT_W), -DOT_W / np.linalg.norm(DOT_W)]
    for i, (got, want) in enumerate(zip(answers, truth, strict=True), 1):
        cos = float(got @ want)
        name = f"c{i}_normal"
        vec = f"v{i}"
        if cos > 1 - 1e-6:
            continue
        if cos < -1 + 1e-6:
            fail(
                what,
                f"`{name}` points into the half-plane where c{i} = 0.",
                f"c{i} = 1 when {vec}·{'w' if i == 1 else '(-w)'} > 0; check the sign.",
            )
        if abs(cos) < 1e-6:
            fail(
                what,
                f"`{name}` runs along the boundary line, not across it.",
                "the normal of {v : v·n > 0} is n itself, perpendicular to the line v·n = 0.",
            )
        fail(what, f"`{name}` is not the normal of c{i}'s half-plane.", "read it off the formula.")
    return passed(what, "c1 keeps v1 on the side of w = (1, 1); c2 keeps v2 on the side of -w.")


def dot_regions(n_regions: Any) -> bool:
    """Dot, the course's poll: into how many parts do the concepts' lines divide the plane?"""
    what = "dot_regions"
    n = as_int(what, "n_regions", n_regions)
    if n == 2:
        return passed(
            what,
            "2. Both concepts use the same line v·w = 0 (w and -w are normals of one line): "
            "c1 asks on which side v1 lies, c2 on which side v2 lies.",
        )
    hints = {
        4: "two concepts, but do they use two different lines? Compare {v : v·w = 0} with "
        "{v : v·(-w) = 0}.",
        1: "a line through the origin does split the plane.",
        3: "lines through the origin always cut the plane into an even number of parts.",
    }
    fail(what, f"n_regions = {n} is not right.", hints.get(n, "draw the concepts' line(s)."))


def dot_task(answer: Any) -> bool:
    """Dot: which statement is the task y = 1[v1·v2 > 0]? (a letter of DOT_TASK_CHOICES)."""
    what = "dot_task"
    letter = as_choice(what, "answer", answer, DOT_TASK_CHOICES)
    if letter == "b":
        return passed(
            what,
            "v1·v2 = |v1||v2|cos θ > 0 exactly when the angle θ between them is below 90°. "
            "The task is about the angle between the vectors; the concepts only see on which "
            "side of one fixed line each vector lies.",
        )
    fail(what, f'"{letter}" ({DOT_TASK_CHOICES[letter]}) is not the task.', DOT_TASK_HINTS[letter])
