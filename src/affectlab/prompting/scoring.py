"""How an answer is scored against a task's accepted answers: ``exact``, ``contains``, ``f1``, ``set``, or any
Python callable named as ``module:function`` taking ``(prediction, answers)`` and returning a number in [0, 1]."""

from __future__ import annotations

import importlib
import re
import string
from collections.abc import Callable, Sequence

from affectlab.errors import AffectlabError
from affectlab.metrics import span_f1

Metric = Callable[[str, Sequence[str]], float]


class MetricError(AffectlabError, ValueError):
    """A metric name cannot be resolved."""


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation or quotes."""
    return re.sub(r"\s+", " ", text.strip().lower()).strip(string.punctuation + " \"'“”‘’")


def exact(prediction: str, answers: Sequence[str]) -> float:
    return float(normalize(prediction) in {normalize(a) for a in answers})


def contains(prediction: str, answers: Sequence[str]) -> float:
    said = normalize(prediction)
    return float(any(normalize(a) and normalize(a) in said for a in answers))


def f1(prediction: str, answers: Sequence[str]) -> float:
    return max(span_f1(prediction, a) for a in answers)


def same_set(prediction: str, answers: Sequence[str]) -> float:
    """Comma-separated lists that hold the same items in any order."""
    def items(text: str) -> set[str]:
        return {normalize(part) for part in text.split(",") if normalize(part)}

    return float(any(items(prediction) == items(a) for a in answers))


METRICS: dict[str, Metric] = {"exact": exact, "contains": contains, "f1": f1, "set": same_set}


def resolve_metric(name: str | Metric) -> Metric:
    if callable(name):
        return name
    if name in METRICS:
        return METRICS[name]
    module, _, attribute = name.partition(":")
    if not attribute:
        raise MetricError(f"unknown metric {name!r}: use {', '.join(METRICS)} or module:function")
    try:
        function = getattr(importlib.import_module(module), attribute)
    except Exception as exc:  # the user's module runs as it is imported, and may fail in any way
        raise MetricError(f"cannot load metric {name!r}: {type(exc).__name__}: {exc}") from None
    if not callable(function):
        raise MetricError(f"metric {name!r} is not callable")
    return function
