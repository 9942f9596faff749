"""Empathy: the empathetic responder, in which the speaker's emotion (the small empathetic model) and the next
support strategy guide a language model. Those two classifiers live in :mod:`affectlab.dialogue` and are
re-exported here."""

from affectlab.dialogue.context_classifier import (
    CauseWord,
    ContextClassifier,
    ContextPrediction,
    LabelScore,
    load_emotion_model,
    load_strategy_model,
)
from affectlab.empathy.emotion_choice import EmotionChoice
from affectlab.empathy.responder import EmpatheticResponder, Response

__all__ = [
    "CauseWord", "ContextClassifier", "ContextPrediction", "EmotionChoice", "EmpatheticResponder", "LabelScore",
    "Response", "load_emotion_model", "load_strategy_model",
]
