"""The challenge suite's items: hand-written texts, each with what a careful reader expects of its affect.

The suite ships with the package (``challenge_items.jsonl`` beside this module), one JSON object a line::

    {"id": "negation-01", "category": "negation", "text": "I don't hate you.",
     "expect": [{"kind": "labels_exclude", "labels": ["anger", "disgust"]}]}

An item has ``text`` (one text) or ``texts`` (a pair for ``less_than``, a group for ``invariant``) and one or
more expectations (see :mod:`affectlab.evaluate.expectations`); it passes when all of them hold.

>>> items = load_items()
>>> sorted({item.category for item in items}) == sorted(CATEGORIES)
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.evaluate.expectations import expectation_problem

PACKAGED_ITEMS = "challenge_items.jsonl"

# the packaged suite's categories and what each one tests, in the order reports list them
CATEGORIES: dict[str, str] = {
    "negation": "a negated emotion is not that emotion",
    "irony": "praise words used to complain do not read as positive",
    "intensity": "a weaker wording scores below a stronger one",
    "informal": "informal spelling and slang",
    "emoji": "texts of emoji alone",
    "long_text": "300+ neutral words, the emotion in the closing lines",
    "invariance": "names, places and numbers swapped, the same affect",
}


class ChallengeItemError(AffectlabError, ValueError):
    """An item file that cannot be read as a challenge suite; the message names the line and field."""


@dataclass(frozen=True)
class ChallengeItem:
    """One item: its texts (one, a pair, or a group) and the expectations they must all meet."""

    id: str
    category: str
    texts: tuple[str, ...]
    expect: tuple[dict, ...]


def _item(record: object) -> ChallengeItem:
    """An item from one parsed line; raises ChallengeItemError (without the line number) if it is malformed."""
    if not isinstance(record, dict):
        raise ChallengeItemError("an item must be a JSON object")
    extra = set(record) - {"id", "category", "text", "texts", "expect"}
    if extra:
        raise ChallengeItemError(f"unknown field(s) {', '.join(sorted(extra))}")
    for field in ("id", "category"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise ChallengeItemError(f"{field!r} must be a non-empty string")
    if ("text" in record) == ("texts" in record):
        raise ChallengeItemError("give either 'text' or 'texts'")
    texts = [record["text"]] if "text" in record else record["texts"]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ChallengeItemError("'text' must be a non-empty string, 'texts' a list of them")
    expect = record.get("expect")
    if not isinstance(expect, list) or not expect:
        raise ChallengeItemError("'expect' must be a non-empty list of expectations")
    for number, expectation in enumerate(expect, 1):
        problem = expectation_problem(expectation, len(texts))
        if problem:
            raise ChallengeItemError(f"expectation {number}: {problem}")
    return ChallengeItem(record["id"], record["category"], tuple(texts), tuple(expect))


def load_items(path: Path | None = None) -> list[ChallengeItem]:
    """The items of a JSONL suite file (default: the packaged suite), checked: any malformed line, or an id
    used twice, raises :class:`ChallengeItemError` naming the file, line and field."""
    source = Path(path) if path is not None else files(__package__).joinpath(PACKAGED_ITEMS)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChallengeItemError(f"cannot read challenge items {source}: {exc}") from None
    items: list[ChallengeItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = _item(json.loads(line))
        except (json.JSONDecodeError, ChallengeItemError) as exc:
            raise ChallengeItemError(f"{source} line {number}: {exc}") from None
        if item.id in seen:
            raise ChallengeItemError(f"{source} line {number}: id {item.id!r} is used twice")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise ChallengeItemError(f"{source} holds no challenge items")
    return items
