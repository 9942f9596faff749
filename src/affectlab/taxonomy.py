"""Label sets and the mappings between them.

GoEmotions' 28 labels (Demszky et al., 2020) are the finest grain affectlab predicts; the Ekman and
sentiment groupings are the dataset authors' own mappings of those labels (``ekman_mapping.json`` and
``sentiment_mapping.json`` in the GoEmotions release), with ``neutral`` kept as its own group.
"""

from __future__ import annotations

GOEMOTIONS: tuple[str, ...] = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)

EKMAN: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")

SENTIMENT: tuple[str, ...] = ("positive", "negative", "ambiguous", "neutral")

VAD: tuple[str, ...] = ("valence", "arousal", "dominance")
VAD_SCALE: tuple[float, float] = (1.0, 5.0)  # EmoBank's rating scale

_EKMAN_GROUPS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": ("joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism",
            "relief", "pride", "admiration", "desire", "caring"),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}

_SENTIMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "positive": ("amusement", "excitement", "joy", "love", "desire", "optimism", "caring", "pride",
                 "admiration", "gratitude", "relief", "approval"),
    "negative": ("fear", "nervousness", "remorse", "embarrassment", "disappointment", "sadness",
                 "grief", "disgust", "anger", "annoyance", "disapproval"),
    "ambiguous": ("realization", "surprise", "curiosity", "confusion"),
    "neutral": ("neutral",),
}


def _invert(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {label: group for group, labels in groups.items() for label in labels}


GOEMOTIONS_TO_EKMAN: dict[str, str] = _invert(_EKMAN_GROUPS)
GOEMOTIONS_TO_SENTIMENT: dict[str, str] = _invert(_SENTIMENT_GROUPS)


def group_labels(labels: list[str] | tuple[str, ...], mapping: dict[str, str]) -> list[str]:
    """Map fine-grained GoEmotions labels to a coarser label set, without duplicates, in order."""
    groups: list[str] = []
    for label in labels:
        group = mapping[label]
        if group not in groups:
            groups.append(group)
    return groups

# DailyDialog's emotion ids 0-6 (Li et al., 2017), in affectlab's Ekman naming ("none" is neutral).
DAILYDIALOG_IDS: tuple[str, ...] = ("neutral", "anger", "disgust", "fear", "joy", "sadness", "surprise")

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
    """Fold an emotion name (Ekman, GoEmotions, RECCON or IEMOCAP naming, any case) onto EKMAN."""
    key = name.strip().lower()
    if key not in EMOTION_ALIASES:
        raise KeyError(name)
    return EMOTION_ALIASES[key]

# EmpatheticDialogues (Rashkin et al., 2019): the 32 emotions a speaker was asked to tell a story about.
ED_EMOTIONS = (
    "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed", "caring",
    "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed", "excited", "faithful",
    "furious", "grateful", "guilty", "hopeful", "impressed", "jealous", "joyful", "lonely", "nostalgic",
    "prepared", "proud", "sad", "sentimental", "surprised", "terrified", "trusting",
)

# ESConv (Liu et al., 2021): the supporter's eight strategies, in the paper's order.
ESCONV_STRATEGIES = (
    "Question", "Restatement or Paraphrasing", "Reflection of feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
)
