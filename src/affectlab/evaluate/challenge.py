"""``affectlab eval challenge``: the text model on the hand-written challenge suite, pass rate per category.

Every item's texts are analyzed in one batch; an item passes when all its expectations hold. The report
holds each category's pass rate beside the target (0.85 overall, no category below 0.70) and, for each
failing item, the expectations it missed and what the model said.

>>> from affectlab import Analyzer
>>> report = eval_challenge(Analyzer(), limit=1)  # the first item of each category
>>> sorted(report["categories"]) == sorted(CATEGORIES)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from affectlab.errors import OptionError
from affectlab.evaluate.challenge_suite import CATEGORIES, PACKAGED_ITEMS, ChallengeItem, load_items
from affectlab.evaluate.expectations import Verdict, check
from affectlab.registry import fingerprint
from affectlab.text.analyzer import Analyzer
from affectlab.text.result import TextAffect

TARGET_OVERALL = 0.85
TARGET_PER_CATEGORY = 0.70
SHOWN_CHARS = 160  # a longer text is shown in a report by its beginning and its end


def _model_info(analyzer: Analyzer) -> dict:
    return {"name": analyzer.model_name, "fingerprint": fingerprint(analyzer.folder), "runtime": analyzer.runtime_name}


def _first_of_each_category(items: Sequence[ChallengeItem], limit: int) -> list[ChallengeItem]:
    taken: dict[str, int] = {}
    chosen = []
    for item in items:
        if taken.get(item.category, 0) < limit:
            taken[item.category] = taken.get(item.category, 0) + 1
            chosen.append(item)
    return chosen


def _shown(text: str) -> str:
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:50]} … {text[-(SHOWN_CHARS - 50):]}"


def _said(result: TextAffect) -> dict:
    """What the model said of one text, in brief."""
    if result.error is not None:
        return {"error": result.error}
    ekman = sorted(result.ekman.items(), key=lambda kv: -kv[1])[:3]
    return {
        "labels": {label: round(result.emotions[label], 4) for label in result.labels},
        "ekman": {name: round(p, 4) for name, p in ekman},
        "sentiment": {name: round(p, 4) for name, p in result.sentiment.items()},
        "chunks": result.chunks,
    }


def _failure(item: ChallengeItem, said: list[TextAffect], verdicts: list[Verdict]) -> dict:
    return {
        "id": item.id,
        "category": item.category,
        "texts": [_shown(text) for text in item.texts],
        "missed": [{"expect": e, "why": v.why} for e, v in zip(item.expect, verdicts) if not v.passed],
        "model_said": [_said(result) for result in said],
    }


def _category(name: str, items: int, passed: int) -> dict:
    rate = passed / items
    return {"about": CATEGORIES.get(name, ""), "items": items, "passed": passed, "pass_rate": round(rate, 4),
            "meets_target": rate >= TARGET_PER_CATEGORY}


def eval_challenge(
    analyzer: Analyzer,
    items_path: Path | None = None,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict:
    """Run the suite at ``items_path`` (default: the packaged one; ``limit``: only the first N items of each
    category) and return the report: pass rates per category and overall against the targets, and the
    failing items with what the model said."""
    if limit is not None and limit < 1:
        raise OptionError(f"limit must be at least 1, not {limit}")
    items = load_items(items_path)
    if limit is not None:
        items = _first_of_each_category(items, limit)
    results = iter(analyzer.analyze_batch([text for item in items for text in item.texts], on_progress=on_progress))
    counts: dict[str, list[int]] = {}  # category -> [items, passed]
    failures = []
    for item in items:
        said = [next(results) for _ in item.texts]
        verdicts = [check(expectation, said) for expectation in item.expect]
        passed = all(v.passed for v in verdicts)
        count = counts.setdefault(item.category, [0, 0])
        count[0] += 1
        count[1] += passed
        if not passed:
            failures.append(_failure(item, said, verdicts))
    order = [c for c in CATEGORIES if c in counts] + sorted(set(counts) - set(CATEGORIES))
    categories = {category: _category(category, *counts[category]) for category in order}
    total, passed = len(items), sum(c["passed"] for c in categories.values())
    overall = passed / total
    return {
        "model": _model_info(analyzer),
        "suite": str(items_path) if items_path is not None else f"packaged ({PACKAGED_ITEMS})",
        "limit": limit,
        "target": {"overall": TARGET_OVERALL, "per_category": TARGET_PER_CATEGORY},
        "items": total,
        "passed": passed,
        "pass_rate": round(overall, 4),
        "meets_target": overall >= TARGET_OVERALL and all(c["meets_target"] for c in categories.values()),
        "categories": categories,
        "failures": failures,
    }
