"""GoEmotions labels by their Ekman and sentiment group, and the emotion names other data sets use, folded
onto affectlab's Ekman labels."""

from __future__ import annotations

from affectlab.taxonomy.demszky import EKMAN_GROUPS, SENTIMENT_GROUPS


def _invert(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {label: group for group, labels in groups.items() for label in labels}


GOEMOTIONS_TO_EKMAN: dict[str, str] = _invert(EKMAN_GROUPS)
GOEMOTIONS_TO_SENTIMENT: dict[str, str] = _invert(SENTIMENT_GROUPS)


def group_labels(labels: list[str] | tuple[str, ...], mapping: dict[str, str]) -> list[str]:
    """Map fine-grained GoEmotions labels to a coarser label set, without duplicates, in order."""
    groups: list[str] = []
    for label in labels:
        group = mapping[label]
        if group not in groups:
            groups.append(group)
    return groups


# Emotion names a conversation data set or a user may give for a turn, folded onto EKMAN. RECCON-DD uses
# happiness/sadness/anger/surprise/disgust/fear (and a few misspellings); RECCON-IEMOCAP uses
# happy/sad/angry/excited/frustrated, where excited goes with joy and frustrated with anger, as
# GoEmotions' excitement and annoyance do in the authors' Ekman mapping.
_EKMAN_ALIASES: dict[str, tuple[str, ...]] = {
    "anger": ("angry", "frustrated", "frustration", "annoyed", "mad"),
    "disgust": ("disgusted",),
    "fear": ("afraid", "fearful", "scared"),
    "joy": ("happiness", "happines", "happy", "excited", "joyful"),
    "sadness": ("sad", "unhappy"),
    "surprise": ("surprised",),
    "neutral": ("none",),
}
EMOTION_ALIASES: dict[str, str] = {**GOEMOTIONS_TO_EKMAN, **_invert(_EKMAN_ALIASES)}


def to_ekman(name: str) -> str:
    """Fold an emotion name (Ekman, GoEmotions, RECCON or IEMOCAP naming, any case) onto EKMAN.

    >>> to_ekman("Frustrated")
    'anger'
    """
    key = name.strip().lower()
    if key not in EMOTION_ALIASES:
        raise KeyError(name)
    return EMOTION_ALIASES[key]
