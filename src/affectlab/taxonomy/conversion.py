"""Scores and labels of one label set → another, through the GoEmotions labels both are read from.

A label of the target set is *fed* by every label of the source set that shares a GoEmotions label with it
(the source's ``groups`` and ``folds`` against the target's ``groups``). Its score is the **highest** score
among the labels that feed it, and it is a label when any label that feeds it is one.

The highest score, not a noisy-or: affectlab's scores are independent probabilities of labels that often
come together (joy, amusement, excitement), and a noisy-or of many small ones, 1 - Π(1 - p), reports a
confident emotion nobody predicted (twelve GoEmotions labels at 0.05 each would give Ekman joy 0.46). The
highest score is never more confident than the model was about some label it holds, and keeps a
conversion's labels and its scores in step: a converted label's score passes the threshold its strongest
source label passed. A target label nothing feeds (``unreachable``) gets no score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from numbers import Real

from affectlab.errors import OptionError
from affectlab.taxonomy.mappings import label_mapping


@cache
def feeders(target: str, source: str = "goemotions") -> dict[str, tuple[str, ...]]:
    """Each label of ``target`` that some label of ``source`` feeds → those source labels, in source order.

    >>> feeders("ekman")["fear"]
    ('fear', 'nervousness')
    >>> feeders("ekman", source="esconv")["sadness"]
    ('depression', 'guilt', 'pain', 'sadness', 'shame')
    """
    source_mapping, target_mapping = label_mapping(source), label_mapping(target)
    reads = {**source_mapping.groups, **source_mapping.folds}
    fed = {}
    for label in target_mapping.labels:
        goemotions = set(target_mapping.groups.get(label, ()))
        sources = tuple(s for s in source_mapping.labels if goemotions & set(reads.get(s, ())))
        if sources:
            fed[label] = sources
    return fed


def convert_scores(scores: Mapping[str, float], target: str, source: str = "goemotions") -> dict[str, float]:
    """``scores`` of every label of ``source`` (probabilities) → the scores of ``target``'s labels (the highest
    that feeds each).

    >>> convert_scores({"anger": 0.1, "disgust": 0.7, "fear": 0.0, "joy": 0.2, "neutral": 0.1, "sadness": 0.6,
    ...                 "surprise": 0.0}, "plutchik", source="meld")["disgust"]
    0.7
    """
    _check_labels(scores, source, "scores")
    label_mapping(target)  # named before feeders' cache hashes it
    return {label: max(scores[s] for s in fed) for label, fed in feeders(target, source).items()}


def convert_labels(labels: str | Iterable[str], target: str, source: str = "goemotions") -> list[str]:
    """The labels of ``target`` that some of ``labels`` (of ``source``; one label may be given as a string) feed,
    in ``target``'s order.

    >>> convert_labels(["annoyance", "joy"], "ekman")
    ['anger', 'joy']
    >>> convert_labels("nervousness", "ekman")
    ['fear']
    """
    label_mapping(target)
    if isinstance(labels, str):
        labels = [labels]
    elif isinstance(labels, Mapping) or not isinstance(labels, Iterable):
        raise OptionError(f"labels must be a list of {source} label names, not {type(labels).__name__}")
    given = list(labels)
    odd = [label for label in given if not isinstance(label, str)]
    if odd:
        raise OptionError(f"labels must be {source} label names (strings), not {odd[0]!r}")
    unknown = sorted(set(given) - set(label_mapping(source).labels))
    if unknown:
        raise OptionError(f"labels {unknown} are not labels of {source}")
    return [label for label, fed in feeders(target, source).items() if set(given) & set(fed)]


def _check_labels(scores: Mapping[str, float], source: str, what: str) -> None:
    if not isinstance(scores, Mapping):
        raise OptionError(f"{what} must be a mapping of each {source} label to its probability, "
                          f"not {type(scores).__name__}")
    expected = label_mapping(source).labels
    missing = [label for label in expected if label not in scores]
    unknown = sorted(set(scores) - set(expected), key=str)
    if missing or unknown:
        raise OptionError(f"{what} must hold every label of {source} and no other: missing {missing}, "
                          f"unknown {unknown}")
    for label in expected:
        value = scores[label]
        if isinstance(value, bool) or not isinstance(value, Real) or not (
                math.isfinite(value) and 0.0 <= value <= 1.0):
            raise OptionError(f"{what}[{label!r}] must be a probability between 0 and 1, not {value!r}")
