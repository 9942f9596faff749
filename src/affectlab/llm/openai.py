"""An OpenAI-compatible HTTP server (``/v1/completions``, ``/v1/chat/completions``) as a
:class:`~affectlab.llm.base.LanguageModel`. Standard library only.

>>> from affectlab.llm import OpenAICompatibleLM
>>> llm = OpenAICompatibleLM("http://127.0.0.1:8080/v1", model="my-model")
>>> llm.generate("Say hello.", max_new_tokens=16).text

``score`` needs the legacy completions endpoint with ``echo`` and ``logprobs`` (llama.cpp's server, vLLM and
affectlab's own ``affectlab.llm.server`` have it); chat-only services can generate but not score.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from affectlab.llm.base import Generation, LLMError

RETRIED_STATUS = (429, 500, 502, 503, 504)


class OpenAICompatibleLM:
    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, chat: bool = False,
                 timeout: float = 120.0, retries: int = 2, backoff: float = 0.5, context_length: int = 8192) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.api_key = api_key
        self.chat = chat
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.context_length = context_length

    @staticmethod
    def count_tokens(text: str) -> int:
        """The server's tokenizer is unknown here: one token per three UTF-8 bytes over-counts English
        (about four characters a token), so prompts trimmed by this estimate fit."""
        return -(-len(text.encode("utf-8")) // 3) + 1

    def _post(self, path: str, payload: dict) -> dict:
        url = f"{self.base_url}{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = response.read()
                break
            except urllib.error.HTTPError as exc:
                if exc.code in RETRIED_STATUS and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                detail = exc.read()[:300].decode("utf-8", "replace")
                raise LLMError(f"{url} answered HTTP {exc.code}: {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                reason = getattr(exc, "reason", exc)
                raise LLMError(f"cannot reach {url} after {self.retries + 1} tries: {reason}") from None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise LLMError(f"{url} sent a reply that is not JSON: {body[:120]!r}") from None

    @staticmethod
    def _field(reply: dict, *path):
        value = reply
        try:
            for key in path:
                value = value[key]
        except (KeyError, IndexError, TypeError):
            raise LLMError(f"the server's reply has no {'.'.join(map(str, path))}: {str(reply)[:200]}") from None
        return value

    def generate(self, prompt: str, *, max_new_tokens: int = 64, temperature: float = 0.0, top_p: float = 1.0,
                 stop: Sequence[str] = (), seed: int | None = None) -> Generation:
        payload: dict = {"model": self.name, "max_tokens": max_new_tokens, "temperature": temperature,
                         "top_p": top_p}
        if stop:
            payload["stop"] = list(stop)
        if seed is not None:
            payload["seed"] = seed
        if self.chat:
            reply = self._post("/chat/completions", {**payload, "messages": [{"role": "user", "content": prompt}]})
            text = self._field(reply, "choices", 0, "message", "content")
        else:
            reply = self._post("/completions", {**payload, "prompt": prompt})
            text = self._field(reply, "choices", 0, "text")
        if not isinstance(text, str):
            raise LLMError(f"the server's reply text is not a string: {str(reply)[:200]}")
        reason = reply["choices"][0].get("finish_reason") or "length"
        tokens = (reply.get("usage") or {}).get("completion_tokens", 0)
        return Generation(text, int(tokens), "length" if reason == "length" else "stop" if reason == "stop" else reason)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        scores = []
        for continuation in continuations:
            if not continuation:
                raise LLMError("an empty continuation cannot be scored")
            reply = self._post("/completions", {"model": self.name, "prompt": prompt + continuation, "max_tokens": 0,
                                                "echo": True, "logprobs": 0, "temperature": 0.0})
            logprobs = self._field(reply, "choices", 0, "logprobs", "token_logprobs")
            offsets = self._field(reply, "choices", 0, "logprobs", "text_offset")
            tail = [lp for lp, at in zip(logprobs, offsets) if at >= len(prompt) and lp is not None]
            if not tail:
                raise LLMError("the server returned no log-probabilities for the continuation")
            scores.append(float(sum(tail)))
        return scores
