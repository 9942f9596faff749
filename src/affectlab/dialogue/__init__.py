"""Conversations: emotion of every turn in context (:func:`analyze_conversation`), the causes of
each emotion (:func:`emotion_causes`, RECCON's task), many conversations from one long table
(:func:`analyze_conversations`), and the context classifiers of support conversations: the speaker's emotion
among EmpatheticDialogues' 32 and the listener's next ESConv strategy (:mod:`affectlab.dialogue.context_classifier`,
used through :mod:`affectlab.empathy`)."""

from __future__ import annotations

from collections.abc import Iterable

from affectlab.dialogue.analyzer import ConversationAnalyzer, shared_analyzer
from affectlab.dialogue.result import Cause, ConversationAffect, TurnAffect
from affectlab.dialogue.tables import ConversationResult, ConversationResults, analyze_conversations
from affectlab.dialogue.text_readings import TextModelMismatch
from affectlab.dialogue.turns import InvalidConversation, Turn, read_conversation


def analyze_conversation(turns: Iterable[object], *, causes: bool = True) -> ConversationAffect:
    """Each turn's emotion in context, then the causes of every non-neutral turn (default models).

    >>> from affectlab import analyze_conversation
    >>> c = analyze_conversation([{"speaker": "A", "text": "I passed my driving test!"},
    ...                           {"speaker": "B", "text": "No way, that's brilliant!"}])
    >>> c.turns[1].emotion
    'joy'
    """
    return shared_analyzer().analyze(turns, causes=causes)


def emotion_causes(turns: Iterable[object], target: int, emotion: str | None = None) -> list[Cause]:
    """The turns (0-based, up to and including ``target``) that cause ``target``'s emotion, most likely
    first, each with its span. ``emotion`` may use RECCON's, IEMOCAP's or affectlab's names; without it
    the predicted emotion is used.

    >>> turns = [{"speaker": "A", "text": "I passed my driving test!"}, {"speaker": "B", "text": "Brilliant!"}]
    >>> [cause.turn for cause in emotion_causes(turns, target=1, emotion="happiness")]
    [0]
    """
    return shared_analyzer().causes(turns, target, emotion)


__all__ = [
    "Cause", "ConversationAffect", "ConversationAnalyzer", "ConversationResult", "ConversationResults",
    "InvalidConversation", "TextModelMismatch", "Turn", "TurnAffect", "analyze_conversation", "analyze_conversations",
    "emotion_causes", "read_conversation",
]
