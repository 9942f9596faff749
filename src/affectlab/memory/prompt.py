"""Recalled memories in a language model's prompt.

:func:`memory_lines` writes hits as prompt lines; :class:`RecallingLM` wraps any
:class:`~affectlab.llm.LanguageModel` so that every prompt it is given starts with what the memory recalls
for it. It keeps ``reserve`` tokens of the model's context for the memories (its own ``context_length`` is
that much smaller, so callers that fit their prompts still fit) and drops the weakest memories when they do
not fit in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from affectlab.llm.base import Generation
from affectlab.text.normalize import is_blank

if TYPE_CHECKING:
    from affectlab.memory.memory import EmotionalMemory
    from affectlab.memory.results import MemoryHit, Recall

MAX_MEMORY_CHARS = 300  # of one memory in a prompt
HEADER = "Things remembered from earlier:"


def memory_line(hit: MemoryHit, max_chars: int = MAX_MEMORY_CHARS) -> str:
    """``- (2024-05-01, alice, felt joy) We won the final!`` (the text cut to ``max_chars``)."""
    text = " ".join(hit.text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    who = f", {hit.speaker}" if hit.speaker else ""
    return f"- ({hit.time.date().isoformat()}{who}, felt {hit.feeling}) {text}"


def memory_lines(hits: Sequence[MemoryHit], header: str = HEADER, max_chars: int = MAX_MEMORY_CHARS) -> str:
    """The hits as a block of prompt lines under ``header``; empty when there are none.

    >>> print(memory_lines(memory.recall("my exam is tomorrow", k=2)))
    Things remembered from earlier:
    - (2024-03-02, sam, felt nervousness) I always panic before tests.
    - (2024-04-11, sam, felt joy) Passed chemistry after all!
    """
    if not hits:
        return ""
    return "\n".join([header, *(memory_line(h, max_chars) for h in hits)])


def last_chars(prompt: str, chars: int = 500) -> str:
    """The default recall query: the end of the prompt, where the latest turn is."""
    return prompt[-chars:]


class RecallingLM:
    """A language model whose prompts begin with recalled memories (any backend; all options of
    :meth:`EmotionalMemory.recall` pass through ``recall_options``). ``last_recall`` keeps the latest
    :class:`~affectlab.memory.Recall`, so a caller can show why the model was reminded of what it was.

    >>> from affectlab.llm import load_llm
    >>> llm = RecallingLM(load_llm(), memory, k=3, strategy="combined")
    >>> llm.generate("Speaker: I have my driving test again tomorrow.\\nListener:").text
    """

    def __init__(self, llm, memory: EmotionalMemory, *, k: int = 3, reserve: int = 192,
                 query: Callable[[str], str] = last_chars, header: str = HEADER, **recall_options) -> None:
        if not 0 < reserve < llm.context_length:
            raise ValueError(f"reserve must be between 1 and {llm.context_length - 1} tokens")
        self.llm, self.memory, self.k, self.reserve = llm, memory, k, reserve
        self.query, self.header, self.recall_options = query, header, recall_options
        self.name = f"{llm.name}+memory"
        self.context_length = llm.context_length - reserve
        self.last_recall: Recall | None = None

    def with_memories(self, prompt: str) -> str:
        """``prompt`` preceded by the memories recalled for it that fit in ``reserve`` tokens."""
        query = self.query(prompt)
        if is_blank(query):
            self.last_recall = None
            return prompt
        self.last_recall = self.memory.recall(query, self.k, **self.recall_options)
        hits = list(self.last_recall.hits)
        while hits:
            block = memory_lines(hits, self.header) + "\n\n"
            if self.llm.count_tokens(block) <= self.reserve:
                return block + prompt
            hits.pop()
        return prompt

    def generate(self, prompt: str, **options) -> Generation:
        return self.llm.generate(self.with_memories(prompt), **options)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        return self.llm.score(self.with_memories(prompt), continuations)

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)
