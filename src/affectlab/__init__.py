"""affectlab: emotion intelligence for text, conversations and language models, offline."""

from affectlab.dialogue import (
    Cause,
    ConversationAffect,
    ConversationAnalyzer,
    InvalidConversation,
    TurnAffect,
    analyze_conversation,
    emotion_causes,
)
from affectlab.errors import AffectlabError
from affectlab.text import Analyzer, InvalidText, ModelNotFound, TextAffect, WordAttribution, analyze
from affectlab.version import __version__

__all__ = [
    "AffectlabError", "Analyzer", "Cause", "ConversationAffect", "ConversationAnalyzer", "InvalidConversation",
    "InvalidText", "ModelNotFound", "TextAffect", "TurnAffect", "WordAttribution", "analyze", "analyze_conversation",
    "emotion_causes", "__version__",
]
