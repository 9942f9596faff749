"""The GoEmotions authors' own groupings (Ekman's six, sentiment) and the sets that share Ekman's labels.

``ekman_mapping.json`` and ``sentiment_mapping.json`` in the GoEmotions release (Demszky et al., 2020) place
27 labels; ``neutral`` is kept as its own group. DailyDialog (Li et al., 2017) and MELD (Poria et al., 2019)
annotate Ekman's six and a neutral class, so they are read through the same groups.
"""

from __future__ import annotations

from affectlab.taxonomy.labels import DAILYDIALOG, EKMAN, GOEMOTIONS, MELD, SENTIMENT
from affectlab.taxonomy.mapping import LabelMapping

EKMAN_GROUPS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": ("joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism",
            "relief", "pride", "admiration", "desire", "caring"),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}

SENTIMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "positive": ("amusement", "excitement", "joy", "love", "desire", "optimism", "caring", "pride",
                 "admiration", "gratitude", "relief", "approval"),
    "negative": ("fear", "nervousness", "remorse", "embarrassment", "disappointment", "sadness",
                 "grief", "disgust", "anger", "annoyance", "disapproval"),
    "ambiguous": ("realization", "surprise", "curiosity", "confusion"),
    "neutral": ("neutral",),
}

NEUTRAL_RULE = "neutral is kept as its own group"

GOEMOTIONS_MAPPING = LabelMapping(
    "goemotions", GOEMOTIONS, {label: (label,) for label in GOEMOTIONS}, ("demszky2020",),
    "each label is itself",
)

EKMAN_MAPPING = LabelMapping(
    "ekman", EKMAN, EKMAN_GROUPS, ("demszky2020", "ekman1992"), f"the authors' ekman_mapping.json; {NEUTRAL_RULE}",
)

SENTIMENT_MAPPING = LabelMapping(
    "sentiment", SENTIMENT, SENTIMENT_GROUPS, ("demszky2020",), f"the authors' sentiment_mapping.json; {NEUTRAL_RULE}",
)

_DAILYDIALOG_NAMES = {"neutral": "none", "joy": "happiness"}  # DailyDialog's names for affectlab's Ekman labels

DAILYDIALOG_MAPPING = LabelMapping(
    "dailydialog", DAILYDIALOG,
    {_DAILYDIALOG_NAMES.get(label, label): members for label, members in EKMAN_GROUPS.items()},
    ("li2017", "demszky2020"),
    "DailyDialog's classes are Ekman's six and no emotion: read through the GoEmotions authors' Ekman groups, "
    "happiness as joy and none as neutral",
)

MELD_MAPPING = LabelMapping(
    "meld", MELD, EKMAN_GROUPS, ("poria2019", "demszky2020"),
    "MELD's classes are Ekman's six and neutral: read through the GoEmotions authors' Ekman groups",
)
