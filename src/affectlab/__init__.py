"""affectlab: emotion intelligence for text, conversations and language models, offline."""

from affectlab.errors import AffectlabError
from affectlab.text import Analyzer, InvalidText, ModelNotFound, TextAffect, WordAttribution, analyze

__version__ = "0.1.0"

__all__ = ["AffectlabError", "Analyzer", "InvalidText", "ModelNotFound", "TextAffect", "WordAttribution", "analyze", "__version__"]
