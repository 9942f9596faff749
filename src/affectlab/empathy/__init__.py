"""Empathy: the speaker's emotion in a conversation (the small empathetic model), the next support
strategy, and the empathetic responder in which they guide a language model."""

from affectlab.empathy.classifier import (
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
