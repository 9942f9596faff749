"""The one interface every language model backend offers (:class:`LanguageModel`), and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

from affectlab.errors import AffectlabError


class LLMError(AffectlabError, RuntimeError):
    """A language model could not be loaded or reached, or answered something unusable."""


class ScoringUnsupported(LLMError):
    """The backend cannot give log-probabilities of a given text (a chat server without prompt echo)."""


@dataclass(frozen=True)
class Generation:
    """A continuation: its text (stop string excluded), how many tokens were generated, and why it ended
    (``"stop"``: a stop string, ``"length"``: ``max_new_tokens``, ``"eos"``: the model's end token)."""

    text: str
    tokens: int
    finish_reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@runtime_checkable
class LanguageModel(Protocol):
    name: str
    context_length: int  # tokens of prompt + continuation the model can attend to

    def generate(self, prompt: str, *, max_new_tokens: int = 64, temperature: float = 0.0, top_p: float = 1.0,
                 stop: Sequence[str] = (), seed: int | None = None) -> Generation:
        """Continue ``prompt``. ``temperature`` 0 is greedy; otherwise nucleus sampling with ``top_p``."""
        ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Log-likelihood (natural log, summed over tokens) of each continuation right after ``prompt``;
        :class:`ScoringUnsupported` where the backend has no way to give it."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in a prompt (exact where the tokenizer is local, else an upper estimate)."""
        ...


def fitted(ids: list[int], room: int, context_length: int) -> list[int]:
    """The prompt's token ids, if ``room`` more tokens fit after them in the context; else an :class:`LLMError`."""
    if len(ids) + room > context_length:
        raise LLMError(f"the prompt has {len(ids)} tokens; with {room} more it exceeds the model's context of "
                       f"{context_length}")
    return ids


def generate_many(llm: LanguageModel, prompts: Sequence[str], **options) -> list[Generation]:
    """Continue each prompt: in batches where the backend offers ``generate_batch``, else one by one."""
    batched = getattr(llm, "generate_batch", None)
    if batched is not None:
        return batched(prompts, **options)
    return [llm.generate(p, **options) for p in prompts]
