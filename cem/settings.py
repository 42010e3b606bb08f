"""Typed settings schemas: the defaults of a config group in one place, every value checked.

A schema is a dataclass whose fields are made with :func:`setting` (a default and a
:class:`Rule`, i.e. what is allowed) or :func:`group` (a nested schema). :func:`resolve` fills a
partial mapping with the defaults, refuses unknown keys at every depth and checks every value,
raising a one-line :class:`~cem.errors.CemError` that names the key and what is allowed::

    @dataclass
    class Trainer:
        max_epochs: int = setting(500, integer(1))

    resolve(Trainer, {"max_epochs": 0}, "trainer")
    # CemError: trainer.max_epochs=0 is invalid; allowed: an integer >= 1

The same schema gives the defaults that Hydra composes (:func:`defaults`), so the YAML files hold
only what differs from them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any

from cem.errors import CemError, unknown

INT_MAX = 2**32 - 1  # seeds: NumPy's legacy RandomState takes [0, 2**32)


@dataclass(frozen=True)
class Rule:
    """What a value may be: ``ok(value)`` says whether it is allowed, ``allowed`` says so in words
    (the end of the error message), ``cast`` turns an allowed value into its stored form, and
    ``choices`` (for a set of names) makes the error read ``... is unknown; allowed: a, b``."""

    ok: Callable[[Any], bool]
    allowed: str
    cast: Callable[[Any], Any] = lambda v: v
    choices: tuple[str, ...] = ()
    label: str = ""  # the name errors give instead of the key, e.g. "dataset" for dataset.name
    explain: Callable[[str, Any], CemError] | None = None  # a custom error (lists: the item)

    def error(self, name: str, value: Any) -> CemError:
        name = self.label or name
        if self.explain is not None:
            return self.explain(name, value)
        if self.choices and isinstance(value, str):
            return unknown(name, value, self.choices)
        return CemError(f"{name}={value!r} is invalid; allowed: {self.allowed}")

    def check(self, name: str, value: Any) -> Any:
        """``value`` in its stored form, or a ``CemError`` naming ``name``."""
        try:
            good = bool(self.ok(value))
        except (TypeError, ValueError, OverflowError):
            good = False
        if not good:
            raise self.error(name, value)
        return self.cast(value)


# ---- rules --------------------------------------------------------------------------------------


def is_int(v: object) -> bool:
    """An integer (Python or NumPy), not a bool."""
    import numpy as np

    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def is_real(v: object) -> bool:
    """A finite real number (int or float, Python or NumPy), not a bool."""
    import numpy as np

    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)
    )
    return ok and math.isfinite(v)


def _bounds(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    low = f"{'>' if lo_open else '>='} {lo}" if lo is not None else ""
    high = f"<= {hi}" if hi is not None else ""
    return " and ".join(b for b in (low, high) if b)


def _within(v: float, lo: float | None, hi: float | None, lo_open: bool = False) -> bool:
    above = lo is None or (v > lo if lo_open else v >= lo)
    return above and (hi is None or v <= hi)


def integer(lo: int | None = None, hi: int | None = None) -> Rule:
    """An integer in [lo, hi] (either end optional)."""
    return Rule(
        lambda v: is_int(v) and _within(v, lo, hi),
        f"an integer {_bounds(lo, hi)}".strip(),
        int,
    )


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> Rule:
    """A finite real number in [lo, hi] (``lo_open``: (lo, hi])."""
    return Rule(
        lambda v: is_real(v) and _within(v, lo, hi, lo_open),
        f"a finite number {_bounds(lo, hi, lo_open)}".strip(),
        float,
    )


def probability() -> Rule:
    return Rule(lambda v: is_real(v) and 0 <= v <= 1, "a probability in [0, 1]", float)


def flag() -> Rule:
    return Rule(lambda v: isinstance(v, bool), "true or false")


def text() -> Rule:
    return Rule(lambda v: isinstance(v, str) and v != "", "a non-empty string")


def path() -> Rule:
    """A file or folder path: a non-empty string or a path object, stored as a string."""
    import os

    return Rule(
        lambda v: (isinstance(v, str) and v != "") or isinstance(v, os.PathLike),
        "a path",
        lambda v: os.fspath(v),
    )


def choice(options: Iterable[str], label: str = "") -> Rule:
    """One of ``options`` (the error lists them; ``label`` names the field in it)."""
    opts = tuple(options)
    return Rule(
        lambda v: isinstance(v, str) and v in opts,
        ", ".join(sorted(opts)),
        choices=opts,
        label=label,
    )


def optional(rule: Rule, none: str = "null") -> Rule:
    """None, or what ``rule`` allows."""
    return Rule(
        lambda v: v is None or rule.ok(v),
        f"{none}, or {rule.allowed}",
        lambda v: None if v is None else rule.cast(v),
        rule.choices,
        explain=rule.explain,
    )


def list_of(item: Rule, allowed: str, min_len: int = 0, max_len: int | None = None) -> Rule:
    """A list (or tuple) of ``min_len`` to ``max_len`` items, each allowed by ``item``; when the
    items are names (``choice``), the error names the first unknown one."""

    def ok(v: Any) -> bool:
        return (
            isinstance(v, (list, tuple))
            and min_len <= len(v) <= (len(v) if max_len is None else max_len)
            and all(_ok(item, x) for x in v)
        )

    def explain(name: str, v: Any) -> CemError:
        if item.choices and isinstance(v, (list, tuple)):
            bad = [x for x in v if not _ok(item, x)]
            if bad and isinstance(bad[0], str):
                return unknown(name, bad[0], item.choices)
        return CemError(f"{name}={v!r} is invalid; allowed: {allowed}")

    return Rule(ok, allowed, lambda v: [item.cast(x) for x in v], explain=explain)


def _ok(rule: Rule, v: Any) -> bool:
    try:
        return bool(rule.ok(v))
    except (TypeError, ValueError, OverflowError):
        return False


# ---- schemas ------------------------------------------------------------------------------------


def setting(default: Any, rule: Rule, doc: str = "") -> Any:
    """A schema field: its default and what it allows (``doc``: a short description)."""
    meta = {"rule": rule, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def group(schema: type) -> Any:
    """A schema field holding a nested schema."""
    return field(default_factory=schema, metadata={"schema": schema})


def _default(f: Any) -> Any:
    if f.default is not MISSING:
        return copy.deepcopy(f.default)
    return f.default_factory()


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def defaults(schema: type) -> dict[str, Any]:
    """The defaults of a schema as plain nested dicts and lists (what Hydra composes)."""
    out: dict[str, Any] = {}
    for f in fields(schema):
        if "schema" in f.metadata:
            out[f.name] = defaults(f.metadata["schema"])
        else:
            value = _default(f)
            out[f.name] = defaults(type(value)) if is_dataclass(value) else _plain(value)
    return out


def keys(schema: type) -> list[str]:
    """The settings of a schema, in their defined order."""
    return [f.name for f in fields(schema)]


def mapping(name: str, values: Any) -> dict[str, Any]:
    """``values`` as a plain dict (None as {}), or a ``CemError`` naming ``name``."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise CemError(f"{name}={values!r} is invalid; allowed: a mapping of settings")
    return dict(values)


def reject_unknown(name: str, values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """A ``CemError`` for the first key of ``values`` that is not in ``allowed``."""
    allowed = list(allowed)
    for key in values:
        if key not in allowed:
            where = f"{name}.{key}" if name else str(key)
            raise CemError(f"{where} is unknown; allowed: {', '.join(allowed)}")


def resolve(schema: type, values: Any, name: str = "") -> dict[str, Any]:
    """Defaults ⊕ ``values``, every key known and every value checked, as plain nested dicts.

    ``name`` prefixes the keys in error messages (``trainer`` gives ``trainer.max_epochs=...``;
    empty gives ``max_epochs=...``).
    """
    values = mapping(name, values)
    reject_unknown(name, values, keys(schema))
    out: dict[str, Any] = {}
    for f in fields(schema):
        full = f"{name}.{f.name}" if name else f.name
        if "schema" in f.metadata:
            out[f.name] = resolve(f.metadata["schema"], values.get(f.name), full)
        elif "rule" in f.metadata:
            value = values[f.name] if f.name in values else _default(f)
            out[f.name] = f.metadata["rule"].check(full, value)
        else:  # a free-form field, checked by its owner
            out[f.name] = values[f.name] if f.name in values else _default(f)
    return out
