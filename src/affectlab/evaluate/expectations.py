"""What a challenge item expects of the text model, checked against the :class:`TextAffect` of its text(s).

An expectation is a small JSON object: ``{"kind": "labels_exclude", "labels": ["anger"]}``. Its kind decides
how many texts it reads and which fields it takes:

- one text: ``labels_exclude`` (none of ``labels`` among the predicted labels), ``labels_include_any`` (at least
  one of them), ``ekman_top_in`` / ``sentiment_top_in`` (the most probable class is one of ``classes``),
  ``sentiment_not_top`` (it is none of them);
- a pair: ``less_than`` (the ``score``, e.g. ``"ekman.anger"``, of the first text is below the second's). How
  strongly an emotion is felt is the ``intensity`` output's reading (``"intensity.anger"``; EmoInt's anger,
  fear, joy and sadness), not a class probability, which says how sure the model is that the emotion is there;
  a model without that output fails such an item, saying so;
- a group of two or more: ``invariant`` (the same label set and Ekman top for every text, and every emotion,
  Ekman and sentiment probability within ``tolerance`` of the others; VAD, on a 1-5 scale, is left out).

>>> from affectlab.text.result import TextAffect
>>> said = TextAffect(emotions={"anger": 0.1}, labels=["neutral"], ekman={"anger": 0.1, "neutral": 0.8},
...                   sentiment={"negative": 0.1, "neutral": 0.8}, vad={})
>>> check({"kind": "labels_exclude", "labels": ["anger"]}, [said])
Verdict(passed=True, why='labels neutral')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from affectlab.heads.layout import EMOINT_EMOTIONS
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD
from affectlab.text.result import TextAffect

SCORE_FIELDS: dict[str, tuple[str, ...]] = {"emotions": GOEMOTIONS, "ekman": EKMAN, "sentiment": SENTIMENT, "vad": VAD,
                                            "intensity": EMOINT_EMOTIONS}
INVARIANT_FIELDS = ("emotions", "ekman", "sentiment")  # probabilities, comparable with one tolerance


@dataclass(frozen=True)
class Verdict:
    """Whether the model met an expectation, and what it said that decided it."""

    passed: bool
    why: str


def _top(scores: dict[str, float]) -> str:
    return max(scores, key=scores.__getitem__)


def _score(result: TextAffect, name: str) -> float | None:
    """The named score, or None where the model has no such output (the optional readings)."""
    field, _, key = name.partition(".")
    scores = getattr(result, field)
    return None if scores is None else scores[key]


def _labels(result: TextAffect) -> str:
    return f"labels {', '.join(result.labels) or '-'}"


def _labels_exclude(expectation: dict, results: Sequence[TextAffect]) -> Verdict:
    (result,) = results
    return Verdict(not set(expectation["labels"]) & set(result.labels), _labels(result))


def _labels_include_any(expectation: dict, results: Sequence[TextAffect]) -> Verdict:
    (result,) = results
    return Verdict(bool(set(expectation["labels"]) & set(result.labels)), _labels(result))


def _top_of(field: str, wanted: bool) -> Callable[[dict, Sequence[TextAffect]], Verdict]:
    def check_top(expectation: dict, results: Sequence[TextAffect]) -> Verdict:
        (result,) = results
        scores = getattr(result, field)
        top = _top(scores)
        return Verdict((top in expectation["classes"]) == wanted, f"{field} top {top} {scores[top]:.2f}")

    return check_top


def _less_than(expectation: dict, results: Sequence[TextAffect]) -> Verdict:
    name = expectation["score"]
    weaker, stronger = (_score(r, name) for r in results)
    if weaker is None or stronger is None:
        return Verdict(False, f"the model has no {name.partition('.')[0]} output")
    return Verdict(weaker < stronger, f"{name} {weaker:.3f} (first) vs {stronger:.3f} (second)")


def _largest_shift(results: Sequence[TextAffect]) -> tuple[float, str]:
    shifts = [(abs(getattr(one, field)[key] - getattr(two, field)[key]), f"{field}.{key}")
              for field in INVARIANT_FIELDS for one, two in combinations(results, 2) for key in getattr(one, field)]
    return max(shifts, default=(0.0, "-"))


def _invariant(expectation: dict, results: Sequence[TextAffect]) -> Verdict:
    problems = []
    label_sets = {tuple(sorted(r.labels)) for r in results}
    if len(label_sets) > 1:
        problems.append("label sets differ: " + " | ".join(", ".join(s) for s in sorted(label_sets)))
    tops = {_top(r.ekman) for r in results}
    if len(tops) > 1:
        problems.append("ekman tops differ: " + ", ".join(sorted(tops)))
    shift, where = _largest_shift(results)
    if shift > expectation["tolerance"]:
        problems.append(f"probabilities differ by up to {shift:.3f} ({where})")
    return Verdict(not problems, "; ".join(problems) or f"largest shift {shift:.3f} ({where})")


def _names(vocabulary: tuple[str, ...]) -> Callable[[object], str | None]:
    def problem(value: object) -> str | None:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            return "must be a non-empty list of names"
        unknown = [v for v in value if v not in vocabulary]
        return f"has unknown name(s) {', '.join(unknown)}; known: {', '.join(vocabulary)}" if unknown else None

    return problem


def _score_problem(value: object) -> str | None:
    field, _, key = value.partition(".") if isinstance(value, str) else ("", "", "")
    if key not in SCORE_FIELDS.get(field, ()):
        return f"must be <{'|'.join(SCORE_FIELDS)}>.<name>, e.g. ekman.anger, not {value!r}"
    return None


def _tolerance_problem(value: object) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    return None if ok else f"must be a number between 0 and 1, not {value!r}"


@dataclass(frozen=True)
class Kind:
    """One kind of expectation: how it is checked, the fields it takes, and how many texts it reads."""

    check: Callable[[dict, Sequence[TextAffect]], Verdict]
    fields: dict[str, Callable[[object], str | None]]  # field -> its problem, or None
    min_texts: int
    max_texts: int | None  # None: no upper bound


KINDS: dict[str, Kind] = {
    "labels_exclude": Kind(_labels_exclude, {"labels": _names(GOEMOTIONS)}, 1, 1),
    "labels_include_any": Kind(_labels_include_any, {"labels": _names(GOEMOTIONS)}, 1, 1),
    "ekman_top_in": Kind(_top_of("ekman", True), {"classes": _names(EKMAN)}, 1, 1),
    "sentiment_top_in": Kind(_top_of("sentiment", True), {"classes": _names(SENTIMENT)}, 1, 1),
    "sentiment_not_top": Kind(_top_of("sentiment", False), {"classes": _names(SENTIMENT)}, 1, 1),
    "less_than": Kind(_less_than, {"score": _score_problem}, 2, 2),
    "invariant": Kind(_invariant, {"tolerance": _tolerance_problem}, 2, None),
}


def expectation_problem(expectation: object, texts: int) -> str | None:
    """What is wrong with an expectation for an item of ``texts`` texts, or None if it is well formed."""
    if not isinstance(expectation, dict):
        return "an expectation must be a JSON object"
    kind = KINDS.get(expectation.get("kind"))
    if kind is None:
        return f"unknown kind {expectation.get('kind')!r}; known: {', '.join(KINDS)}"
    name = expectation["kind"]
    extra = set(expectation) - {"kind", *kind.fields}
    if extra:
        return f"{name} takes {', '.join(kind.fields)}, not {', '.join(sorted(extra))}"
    for field, problem_of in kind.fields.items():
        if field not in expectation:
            return f"{name} needs {field!r}"
        problem = problem_of(expectation[field])
        if problem:
            return f"{name} {field} {problem}"
    if texts < kind.min_texts or (kind.max_texts is not None and texts > kind.max_texts):
        wanted = kind.min_texts if kind.max_texts == kind.min_texts else f"at least {kind.min_texts}"
        return f"{name} reads {wanted} text(s), the item has {texts}"
    return None


def check(expectation: dict, results: Sequence[TextAffect]) -> Verdict:
    """Check a well-formed expectation (see :func:`expectation_problem`) against the results of its item's texts,
    in the item's order. A text the model could not analyze fails it."""
    failed = [r.error for r in results if r.error is not None]
    if failed:
        return Verdict(False, f"not analyzed: {failed[0]}")
    return KINDS[expectation["kind"]].check(expectation, results)
