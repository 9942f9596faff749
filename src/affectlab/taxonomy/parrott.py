"""Parrott's (2001) tiers: six primary emotions over 25 secondary ones, with how GoEmotions labels are placed.

A GoEmotions label named by one of Parrott's secondary emotions goes there (pride, optimism, relief, disgust,
sadness, disappointment, nervousness, surprise); every other label goes to the secondary emotion of
closest meaning, each with a note. The primary tier is read through the secondary: a primary emotion holds
every GoEmotions label of its secondary emotions. Parrott files disgust under anger, so affectlab does too.
"""

from __future__ import annotations

from affectlab.taxonomy.labels import PARROTT, PARROTT_SECONDARY, PARROTT_TREE
from affectlab.taxonomy.mapping import LabelMapping

_SECONDARY_GROUPS: dict[str, tuple[str, ...]] = {
    "affection": ("admiration", "approval", "caring", "love"),
    "longing": ("desire",),
    "cheerfulness": ("amusement", "joy"),
    "zest": ("excitement",),
    "contentment": ("gratitude",),
    "pride": ("pride",),
    "optimism": ("optimism",),
    "relief": ("relief",),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "irritation": ("annoyance", "disapproval"),
    "rage": ("anger",),
    "disgust": ("disgust",),
    "sadness": ("sadness", "grief"),
    "disappointment": ("disappointment",),
    "shame": ("embarrassment", "remorse"),
    "horror": ("fear",),
    "nervousness": ("nervousness",),
    "neutral": ("neutral",),
}

_UNREACHABLE: dict[str, str] = {
    "lust": "GoEmotions has no label for sexual desire (its desire is wanting something: longing)",
    "enthrallment": "GoEmotions has no label for being captivated",
    "exasperation": "GoEmotions has no label for frustration",
    "envy": "GoEmotions has no label for envy",
    "torment": "GoEmotions has no label for torment",
    "suffering": "GoEmotions has no label for pain or anguish (grief is placed with sadness)",
    "neglect": "GoEmotions has no label for feeling rejected or lonely",
    "sympathy": "GoEmotions' caring is kindness towards others, placed with affection, not pity",
}

_FOLDS: dict[str, tuple[str, ...]] = {
    "lust": ("desire",),
    "exasperation": ("annoyance",),
    "suffering": ("sadness",),
    "neglect": ("sadness",),
    "sympathy": ("caring",),
}

_NOTES: dict[str, str] = {
    "admiration": "regard for someone: affection (the love tier)",
    "approval": "a favourable opinion: affection (the love tier), as liking",
    "caring": "kindness and concern: affection",
    "love": "affection",
    "desire": "wanting something to happen: longing",
    "amusement": "cheerfulness",
    "joy": "cheerfulness",
    "excitement": "enthusiasm: zest",
    "gratitude": "thankfulness: contentment",
    "realization": "Parrott's surprise tier has one secondary emotion; the Ekman group's other labels join it",
    "confusion": "as realization",
    "curiosity": "as realization",
    "annoyance": "irritation",
    "disapproval": "an unfavourable opinion: irritation",
    "anger": "rage, the tier's strong anger",
    "grief": "sadness",
    "embarrassment": "shame",
    "remorse": "regret and guilt: shame",
    "fear": "horror, the tier's fright",
}

PARROTT_SECONDARY_MAPPING = LabelMapping(
    "parrott_secondary", PARROTT_SECONDARY, _SECONDARY_GROUPS, ("parrott2001", "demszky2020"),
    "a GoEmotions label that is a secondary emotion's name goes there; every other label goes to the secondary "
    "emotion of closest meaning; neutral is kept as its own group",
    unreachable=_UNREACHABLE, folds=_FOLDS, notes=_NOTES,
)

PARROTT_MAPPING = LabelMapping(
    "parrott", PARROTT,
    {
        **{primary: tuple(g for s in tier for g in _SECONDARY_GROUPS.get(s, ()))
           for primary, tier in PARROTT_TREE.items()},
        "neutral": ("neutral",),
    },
    ("parrott2001", "demszky2020"),
    "each primary emotion holds the GoEmotions labels of its secondary emotions (see parrott_secondary)",
    notes=_NOTES,
)
