"""affectlab: emotion intelligence for text, conversations and language models, offline."""

from affectlab.dialogue import (
    Cause,
    ConversationAffect,
    ConversationAnalyzer,
    ConversationResult,
    ConversationResults,
    InvalidConversation,
    TurnAffect,
    analyze_conversation,
    analyze_conversations,
    emotion_causes,
)
from affectlab.errors import AffectlabError
from affectlab.text import (
    Analyzer,
    ChunkSpan,
    InvalidText,
    ModelNotFound,
    TextAffect,
    WordAttribution,
    analyze,
    analyze_frame,
)
from affectlab.version import __version__

__all__ = [
    "AffectlabError", "Analyzer", "Cause", "ChunkSpan", "ConversationAffect", "ConversationAnalyzer",
    "ConversationResult", "ConversationResults", "InvalidConversation", "InvalidText", "ModelNotFound", "TextAffect",
    "TurnAffect", "WordAttribution", "analyze", "analyze_conversation", "analyze_conversations", "analyze_frame",
    "emotion_causes", "__version__",
]
