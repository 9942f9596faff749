"""Generation with an on-disk cache, so an interrupted run resumes where it stopped.

Each finished batch is appended to ``generations.jsonl`` (one JSON object a line, flushed and synced); a
line cut short by a crash is ignored on the next start. Keys cover the backend, the prompt and the decoding
settings, so one cache folder serves every run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from affectlab.cache import cache_root
from affectlab.io.values import valid_unicode
from affectlab.llm.base import Generation, LanguageModel, LLMError, generate_many


def default_cache_dir() -> Path:
    return cache_root() / "prompting"


class GenerationCache:
    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / "generations.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, Generation] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    # a lone surrogate kept by a version that did not mend replies cut inside an emoji
                    text = valid_unicode(entry["text"])
                    self._entries[entry["key"]] = Generation(text, entry["tokens"], entry["finish_reason"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # the tail of an interrupted write

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Generation | None:
        return self._entries.get(key)

    def put(self, pairs: Sequence[tuple[str, Generation]]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            for key, generation in pairs:
                handle.write(json.dumps({"key": key, **generation.to_dict()}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._entries.update(pairs)


def backend_id(llm: LanguageModel) -> str:
    return f"{type(llm).__name__}:{getattr(llm, 'base_url', '')}:{llm.name}"


def generation_key(llm: LanguageModel, prompt: str, options: dict) -> str:
    payload = json.dumps([backend_id(llm), prompt, sorted(options.items())], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def generate_cached(llm: LanguageModel, prompts: Sequence[str], cache: GenerationCache | None, *,
                    batch_size: int = 16, on_progress: Callable[[int], None] | None = None,
                    **options) -> list[Generation]:
    """Continue every prompt, taking what the cache already holds. Misses run shortest first in batches
    (less padding); each batch is cached as soon as it is done, so an error loses at most that batch."""
    keys = [generation_key(llm, p, options) for p in prompts]
    found = {k: cache.get(k) for k in keys} if cache is not None else {}
    missing = sorted({k: p for k, p in zip(keys, prompts) if found.get(k) is None}.items(), key=lambda kp: len(kp[1]))
    if on_progress is not None and len(prompts) > len(missing):
        on_progress(len(prompts) - len(missing))
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        try:
            generations = generate_many(llm, [p for _, p in batch], **options)
        except LLMError as exc:
            if cache is None:
                raise
            raise LLMError(f"{exc} (the {len(cache)} answers so far are cached in {cache.path}; run the same "
                           "command again to resume)") from exc
        pairs = [(k, g) for (k, _), g in zip(batch, generations)]
        if cache is not None:
            cache.put(pairs)
        found.update(pairs)
        if on_progress is not None:
            on_progress(len(batch))
    return [found[k] for k in keys]
