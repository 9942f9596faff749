"""Language models behind one interface (:class:`LanguageModel`); :func:`load_llm` gives the packaged default."""

from affectlab.llm.base import Generation, LanguageModel, LLMError, generate_many
from affectlab.llm.local import DEFAULT_LLM, LocalLM, load_llm
from affectlab.llm.openai import OpenAICompatibleLM

__all__ = [
    "DEFAULT_LLM", "Generation", "LLMError", "LanguageModel", "LocalLM", "OpenAICompatibleLM",
    "generate_many", "load_llm",
]

