"""Memory budgets: refuse, in one line and before any allocation, what cannot fit in memory.

Two kinds of request are bounded: generating a dataset (its size and lift dimension decide the
arrays built) and reading a file (what its headers claim once decompressed). Estimates are
deliberately generous (the peak of the temporaries, not just the final arrays): refusing a request
that would have fit is cheaper than a memory traceback halfway through.
"""

from __future__ import annotations

import os

from cem.errors import CemError

FLOAT = 8  # bytes of a float64 / int64 cell
# Peak cost of a CSV cell while it is written or parsed: a Python str of ~20 characters plus its
# list slot (both writer and reader hold one split's cells as lists of strings at once).
CSV_CELL = 100
# Reading CSV text: lists of row strings and cells, then the arrays; per byte of the file.
CSV_READ_FACTOR = 12
FALLBACK_MEMORY = 8 * 2**30  # when the platform does not say (8 GiB)


def available_memory() -> int:
    """Bytes of memory this process may still use: MemAvailable on Linux, else free pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY


def human(n: float) -> str:
    """Bytes as text: ``1.5 GB``."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


def generate_bytes(
    size: int, n_features: int, n_concepts: int, lift_dim: int, fmt: str = ""
) -> int:
    """Peak memory of ``build`` (and of writing ``fmt``) for ``size`` samples.

    The base arrays and latents (n × (d + k + 4)), twice for temporaries; with a lift, three
    (n, D) temporaries and the D × D orthogonal map with its QR workspace; input noise another
    two (n, D) arrays; a CSV output holds one split's cells as strings.
    """
    n, d, k = size, n_features, n_concepts
    dim = lift_dim or d
    cells = 2 * n * (d + k + 4) + 4 * n * dim + (3 * n * dim + 3 * dim * dim if lift_dim else 0)
    total = FLOAT * cells
    if fmt == ".csv":
        total += CSV_CELL * n * (dim + k + 2)
    return total


def check_fits(needed: int, name: str, value: object, what: str) -> None:
    """Raise a one-line ``CemError`` naming ``name=value`` unless ``needed`` bytes fit in memory.

    ``what`` says what needs them, e.g. ``"to generate"``.
    """
    free = available_memory()
    if needed > free:
        raise CemError(
            f"{name}={value!r} is too large: it needs about {human(needed)} of memory {what}, "
            f"{human(free)} are available; allowed: a request that fits in memory"
        )
