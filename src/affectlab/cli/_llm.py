"""Options that choose a language model (``--llm``, ``--llm-model``, ``--backend``, ``--base-url``...) and
:func:`make_llm`, and the ``--seed`` it samples with."""

from __future__ import annotations

from typing import Annotated

import typer

LLM_KINDS = ("local", "openai")
DEFAULT_KIND = "local"  # with no --llm-model: the packaged Gemma 3 270M

LlmOpt = Annotated[str, typer.Option("--llm", help="local: the packaged Gemma 3 270M, a GGUF file or a transformers "
                                                    "model folder (--llm-model); openai: an OpenAI-compatible "
                                                    "server. 'default' means local.")]
LlmModelOpt = Annotated[str | None, typer.Option("--llm-model", help="local: a GGUF file or model folder; openai: the "
                                                                        "model name.")]
BackendOpt = Annotated[str, typer.Option(help="local: auto (llama.cpp when llama-cpp-python is installed, else "
                                              "transformers), llama-cpp or transformers.")]
BaseUrlOpt = Annotated[str | None, typer.Option(envvar="OPENAI_BASE_URL",
                                                help="openai: the server's base URL, e.g. http://127.0.0.1:8080/v1")]
ApiKeyOpt = Annotated[str | None, typer.Option(envvar=["AFFECTLAB_API_KEY", "OPENAI_API_KEY"],
                                               help="openai: bearer token.")]
ChatOpt = Annotated[bool, typer.Option(help="openai: generate through /chat/completions instead of /completions.")]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, help="openai: requests in flight at once.")]
# every backend and NumPy take a seed this size (llama.cpp's is 32-bit; NumPy refuses negative ones)
SeedOpt = Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed (0 to 2^32-1).")]


def make_llm(kind: str, model: str | None, base_url: str | None, api_key: str | None, chat: bool,
             threads: int | None, *, backend: str = "auto", adapter: str | None = None, concurrency: int = 4):
    """The language model the options name; ``default`` is the old spelling of ``local``."""
    from affectlab.errors import AffectlabError
    from affectlab.llm import OpenAICompatibleLM, load_llm

    if kind in ("local", "default"):
        return load_llm(model, threads, adapter=adapter, backend=backend)
    if kind == "openai":
        if not base_url or not model:
            raise AffectlabError("--llm openai needs --base-url (or OPENAI_BASE_URL) and --llm-model")
        return OpenAICompatibleLM(base_url, model, api_key=api_key, chat=chat, concurrency=concurrency)
    raise AffectlabError(f"--llm must be {' or '.join(LLM_KINDS)}, not {kind!r}")
