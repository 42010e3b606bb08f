"""How a checker talks to a student: one plain message, never a traceback from the library.

A checker ends in one of three ways:

* the answer is right: :func:`passed` prints ``✓ <what>: <message>`` and returns ``True``;
* a placeholder is still there (``...``, ``None``, a function whose body is ``...``):
  :class:`NotAnswered` is raised;
* the answer is wrong, of the wrong type or shape, or the student's code fails:
  :class:`CheckFailed` is raised, saying what is wrong and giving a hint.

Both exceptions stop "Run all" at the cell that checks, which is what a student wants: the cells
below build on the answer. In Jupyter (any IPython kernel: JupyterLab, Notebook, VS Code,
Colab), :func:`install_display` makes them show as their message alone, without a traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from cem.errors import CemError

# Frames under these folders are the library's or a dependency's, never the student's.
_NOT_STUDENT = (str(Path(__file__).resolve().parents[1]), "site-packages", sys.prefix)
PLACEHOLDER_HELP = "replace the `...` (marked TODO) with your answer, then run this cell again"


class CheckFailed(Exception):  # noqa: N818 - students read the name: "CheckFailed: ..."
    """A wrong answer, with what is wrong and a hint. ``str()`` is the whole message."""

    def __init__(self, what: str, problem: str, hint: str = "") -> None:
        self.what, self.problem, self.hint = what, problem, hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"✗ {self.what}: {self.problem}"
        return f"{text}\n  Hint: {self.hint}" if self.hint else text


class NotAnswered(CheckFailed):
    """A placeholder (``...``) is still where an answer should be.

    ``name`` is the variable still holding ``...``; ``problem`` replaces the default sentence
    (e.g. "`forward` returned None: its body is still the `...` placeholder").
    """

    def __init__(self, what: str, name: str = "", problem: str = "") -> None:
        if not problem:
            problem = f"`{name}` is still a placeholder" if name else "not answered yet"
        super().__init__(what, problem, PLACEHOLDER_HELP)


def returned_none(what: str, name: str) -> NotAnswered:
    """The error for a student function that returned None (its body is probably ``...``)."""
    return NotAnswered(what, problem=f"`{name}` returned None: is its body still the `...`?")


def passed(what: str, message: str = "correct.") -> bool:
    """Print ``✓ what: message`` and return True (so a test can assert on it)."""
    print(f"✓ {what}: {message}")
    return True


def fail(what: str, problem: str, hint: str = "") -> NoReturn:
    """Raise :class:`CheckFailed` (the checker's frames are hidden in Jupyter)."""
    raise CheckFailed(what, problem, hint)


def is_placeholder(value: Any) -> bool:
    """True for ``...`` and ``None``, the values a TODO leaves behind."""
    return value is Ellipsis or value is None


def require(what: str, name: str, value: Any) -> Any:
    """Raise :class:`NotAnswered` when ``value`` is a placeholder; else return it."""
    if is_placeholder(value):
        raise NotAnswered(what, name)
    return value


def _last_student_line(exc: BaseException) -> str:
    """``file:line`` of the deepest frame outside the library and the standard library."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not any(p in f.filename for p in _NOT_STUDENT)]
    if not own:
        return ""
    f = own[-1]
    cell = f.filename.startswith("<") or "ipykernel_" in f.filename
    where = "your cell" if cell else Path(f.filename).name
    return f" (in {where}, line {f.lineno}: `{(f.line or '').strip()}`)"


def call_student(what: str, description: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call the student's ``fn(*args)``; an error inside it becomes one plain :class:`CheckFailed`.

    ``description`` names what was called, e.g. ``"your model's forward on a batch of 8"``.
    A :class:`NotImplementedError` counts as a placeholder still in place.
    """
    try:
        return fn(*args)
    except CheckFailed:
        raise
    except NotImplementedError:
        name = getattr(fn, "__name__", "your function")
        raise NotAnswered(what, problem=f"`{name}` still raises NotImplementedError") from None
    except Exception as e:  # noqa: BLE001 - any error in student code is reported, not raised
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        problem = f"{description} raised {type(e).__name__}: {first}{_last_student_line(e)}"
        hint = "run that cell on its own to see the full error."
        raise CheckFailed(what, problem, hint) from None


def _show(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list:
    """IPython custom-exception handler: print the message in place of a traceback.

    A checker's message is shown as it is; the library's own one-line error for a bad setting
    (:class:`cem.errors.CemError`, e.g. ``model.alpha is unknown; allowed: …`` from ``run``)
    gets the same mark, so a typo in a config dict reads like a checker's message.
    """
    text = str(value) if isinstance(value, CheckFailed) else f"✗ cem-bench: {value}"
    print(text, file=sys.stderr)
    return []


def install_display() -> bool:
    """Show :class:`CheckFailed` and :class:`cem.errors.CemError` as their message alone in an
    IPython kernel; False elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((CheckFailed, CemError), _show)
    return True
