"""Language models behind one interface (:class:`LanguageModel`); :func:`load_llm` gives the packaged default."""

from affectlab.llm.base import Generation, LanguageModel, LLMError, ScoringUnsupported, generate_many
from affectlab.llm.loading import BACKENDS, RESPONDER_ADAPTER, load_llm
from affectlab.llm.local import DEFAULT_LLM, LocalLM
from affectlab.llm.openai import OpenAICompatibleLM

__all__ = [
    "BACKENDS", "DEFAULT_LLM", "RESPONDER_ADAPTER", "Generation", "LLMError", "LanguageModel", "LocalLM",
    "OpenAICompatibleLM", "ScoringUnsupported", "generate_many", "load_llm",
]

