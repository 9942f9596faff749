"""Three-way sentiment on GoEmotions (positive, negative or neutral): the question a sentiment lexicon answers,
so that VADER's figure and affectlab's can stand side by side.

Gold: the authors' sentiment grouping of a text's labels, ``ambiguous`` folded into ``neutral`` (a text may hold
two of the three). A predictor names one class per text; a class's F1 counts a prediction as right when the
text's gold holds it, and the figure is the mean over the three classes. affectlab names the class of its
highest sentiment score (ambiguous again counting as neutral); VADER names it by the rule its authors give for
the compound score: at least 0.05 positive, at most -0.05 negative, neutral between.

>>> from_compound(0.42), from_sentiment({"positive": 0.2, "negative": 0.1, "ambiguous": 0.6, "neutral": 0.3})
('positive', 'neutral')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from affectlab.extras import require
from affectlab.metrics import f1_per_label, multi_hot
from affectlab.taxonomy import GOEMOTIONS_TO_SENTIMENT, group_labels

CLASSES = ("positive", "negative", "neutral")
VADER_BAND = 0.05  # |compound| below it is neutral (vaderSentiment's README)


def _folded(label: str) -> str:
    return "neutral" if label == "ambiguous" else label


def gold(label_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """GoEmotions label lists → ``[texts, 3]`` multi-hot gold over :data:`CLASSES`."""
    return multi_hot([sorted({_folded(g) for g in group_labels(list(ls), GOEMOTIONS_TO_SENTIMENT)})
                      for ls in label_lists], CLASSES)


def from_sentiment(scores: dict[str, float]) -> str:
    """affectlab's sentiment scores → the class of the highest (ambiguous counts as neutral)."""
    return _folded(max(scores, key=scores.__getitem__))


def from_compound(compound: float) -> str:
    return "positive" if compound >= VADER_BAND else "negative" if compound <= -VADER_BAND else "neutral"


def scores(predicted: Sequence[str], label_lists: Sequence[Sequence[str]]) -> dict:
    """Macro-F1 over the three classes and each class's F1."""
    per_class = f1_per_label(multi_hot([[p] for p in predicted], CLASSES), gold(label_lists))
    return {"macro_f1": float(per_class.mean()),
            "per_class_f1": {name: round(float(v), 4) for name, v in zip(CLASSES, per_class)}}


class Vader:
    """VADER (vaderSentiment, MIT; its lexicon ships in the package): ``vader(texts)`` → one class per text."""

    def __init__(self) -> None:
        module = require("vaderSentiment.vaderSentiment", "train", package="vaderSentiment")
        self.analyzer = module.SentimentIntensityAnalyzer()

    def __call__(self, texts: Sequence[str]) -> list[str]:
        return [from_compound(self.analyzer.polarity_scores(text)["compound"]) for text in texts]
