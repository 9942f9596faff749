"""The label sets affectlab reads or converts to, each in its authors' order and naming.

GoEmotions' 28 labels (Demszky et al., 2020) are the finest grain affectlab predicts; every other set is read
from them (:mod:`affectlab.taxonomy.mappings`). Ekman's, Plutchik's and Parrott's sets carry affectlab's
``neutral`` after their own labels, as the Ekman grouping always has, so that a text without emotion has a
label in them too; the corpora's sets keep their own (MELD's neutral, DailyDialog's none) or have none.
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

# Plutchik (1980, 2001): the eight primary emotions, in order around the wheel (neighbours are adjacent).
PLUTCHIK: tuple[str, ...] = (
    "joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation", "neutral",
)

# Parrott (2001): six primary emotions, each with its secondary emotions (the middle of his three tiers).
PARROTT_TREE: dict[str, tuple[str, ...]] = {
    "love": ("affection", "lust", "longing"),
    "joy": ("cheerfulness", "zest", "contentment", "pride", "optimism", "enthrallment", "relief"),
    "surprise": ("surprise",),
    "anger": ("irritation", "exasperation", "rage", "disgust", "envy", "torment"),
    "sadness": ("suffering", "sadness", "disappointment", "shame", "neglect", "sympathy"),
    "fear": ("horror", "nervousness"),
}
PARROTT: tuple[str, ...] = (*PARROTT_TREE, "neutral")
PARROTT_SECONDARY: tuple[str, ...] = (*(s for tier in PARROTT_TREE.values() for s in tier), "neutral")

# DailyDialog (Li et al., 2017): Ekman's six and "no emotion" (id 0), in the data's id order and naming.
DAILYDIALOG: tuple[str, ...] = ("none", "anger", "disgust", "fear", "happiness", "sadness", "surprise")
# The same ids in affectlab's Ekman naming, for reading the data ("none" is neutral).
DAILYDIALOG_IDS: tuple[str, ...] = ("neutral", "anger", "disgust", "fear", "joy", "sadness", "surprise")

# MELD (Poria et al., 2019): Ekman's six and neutral.
MELD: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")

# EmoryNLP (Zahiri & Choi, 2018): the six core feelings of Willcox's (1982) Feeling Wheel and neutral.
EMORYNLP: tuple[str, ...] = ("neutral", "joyful", "peaceful", "powerful", "scared", "mad", "sad")

# EmpatheticDialogues (Rashkin et al., 2019): the 32 emotions a speaker was asked to tell a story about.
ED_EMOTIONS: tuple[str, ...] = (
    "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed", "caring",
    "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed", "excited", "faithful",
    "furious", "grateful", "guilty", "hopeful", "impressed", "jealous", "joyful", "lonely", "nostalgic",
    "prepared", "proud", "sad", "sentimental", "surprised", "terrified", "trusting",
)

# ESConv (Liu et al., 2021): the emotion a help-seeker reported before the conversation (its 11 types).
ESCONV_EMOTIONS: tuple[str, ...] = (
    "anxiety", "anger", "depression", "disgust", "fear", "guilt", "jealousy", "nervousness", "pain", "sadness",
    "shame",
)

# ESConv: the supporter's eight strategies, in the paper's order.
ESCONV_STRATEGIES: tuple[str, ...] = (
    "Question", "Restatement or Paraphrasing", "Reflection of feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
)
