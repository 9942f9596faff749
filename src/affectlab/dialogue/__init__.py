"""Conversations: emotion of every turn in context (:func:`analyze_conversation`), and the causes of
each emotion (:func:`emotion_causes`, RECCON's task)."""

from __future__ import annotations

from collections.abc import Iterable

from affectlab.dialogue.analyzer import ConversationAnalyzer
from affectlab.dialogue.result import Cause, ConversationAffect, TurnAffect
from affectlab.dialogue.turns import InvalidConversation, Turn, read_conversation

_default: ConversationAnalyzer | None = None


def _analyzer() -> ConversationAnalyzer:
    global _default
    if _default is None:
        _default = ConversationAnalyzer()
    return _default


def analyze_conversation(turns: Iterable[object], *, causes: bool = True) -> ConversationAffect:
    """Each turn's emotion in context, then the causes of every non-neutral turn (default models).

    >>> from affectlab import analyze_conversation
    >>> c = analyze_conversation([{"speaker": "A", "text": "I passed my driving test!"},
    ...                           {"speaker": "B", "text": "No way, that's brilliant!"}])
    >>> c.turns[1].emotion
    'joy'
    """
    return _analyzer().analyze(turns, causes=causes)


def emotion_causes(turns: Iterable[object], target: int, emotion: str | None = None) -> list[Cause]:
    """The turns (0-based, up to and including ``target``) that cause ``target``'s emotion, most likely
    first, each with its span. ``emotion`` may use RECCON's, IEMOCAP's or affectlab's names; without it
    the predicted emotion is used.

    >>> turns = [{"speaker": "A", "text": "I passed my driving test!"}, {"speaker": "B", "text": "Brilliant!"}]
    >>> [cause.turn for cause in emotion_causes(turns, target=1, emotion="happiness")]
    [0]
    """
    return _analyzer().causes(turns, target, emotion)


__all__ = [
    "Cause", "ConversationAffect", "ConversationAnalyzer", "InvalidConversation", "Turn", "TurnAffect",
    "analyze_conversation", "emotion_causes", "read_conversation",
]
