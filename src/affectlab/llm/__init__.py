"""Language models behind one interface (:class:`LanguageModel`); :func:`load_llm` gives the packaged default."""

from affectlab.llm.base import Generation, LanguageModel, LLMError, generate_many
from affectlab.llm.local import DEFAULT_LLM, LocalLM, load_llm
from affectlab.llm.openai import OpenAICompatibleLM

__all__ = [
    "DEFAULT_LLM", "EmpatheticResponder", "Generation", "LLMError", "LanguageModel", "LocalLM", "OpenAICompatibleLM",
    "Response", "generate_many", "load_llm",
]


def __getattr__(name: str):
    # the responder lives with the empathy models; importing it here eagerly would be circular
    if name in ("EmpatheticResponder", "Response"):
        from affectlab import empathy

        return getattr(empathy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
