"""What the exercise checkers' tests share: how a wrong answer must fail."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from cem.exercises import CheckFailed, NotAnswered


def fails(fn: Callable[..., Any], *args: Any, match: str, kind: type = CheckFailed) -> str:
    """The checker's message for a wrong answer: the expected kind, matching, short, plain."""
    with pytest.raises(CheckFailed) as info:
        fn(*args)
    assert type(info.value) is kind, str(info.value)
    text = str(info.value)
    assert text.startswith("✗ ") and "Traceback" not in text
    assert len(text.splitlines()) <= 2
    assert re.search(match, text), text
    return text


def message_of(checker: Callable[..., Any], *args: Any) -> str:
    """The message of a checker that fails (not one that finds a placeholder)."""
    with pytest.raises(CheckFailed) as info:
        checker(*args)
    assert not isinstance(info.value, NotAnswered)
    return info.value.message
