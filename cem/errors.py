"""One error type for bad user input, so entry points can print one line and exit 2."""

from __future__ import annotations

from collections.abc import Iterable


class CemError(ValueError):
    """Bad user input: the message is one line naming the field and the allowed values."""


def unknown(field: str, value: object, allowed: Iterable[object]) -> CemError:
    """The standard error, e.g. ``dataset='xr' is unknown; allowed: dot, many, trig, xor``."""
    choices = ", ".join(str(a) for a in sorted(allowed, key=str))
    return CemError(f"{field}={value!r} is unknown; allowed: {choices}")


def check(condition: bool, field: str, value: object, allowed: str) -> None:
    """Raise ``CemError`` naming ``field`` and what is allowed unless ``condition`` holds."""
    if not condition:
        raise CemError(f"{field}={value!r} is invalid; allowed: {allowed}")
