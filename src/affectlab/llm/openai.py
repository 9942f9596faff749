"""An OpenAI-compatible HTTP server (``/v1/completions``, ``/v1/chat/completions``) as a
:class:`~affectlab.llm.base.LanguageModel`. Standard library only.

>>> from affectlab.llm import OpenAICompatibleLM
>>> llm = OpenAICompatibleLM("http://127.0.0.1:8080/v1", model="my-model")
>>> llm.generate("Say hello.", max_new_tokens=16).text

Without ``base_url`` or ``api_key`` it reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``, as OpenAI's own client
does. What each server offers differs, so each call uses what the server has:

- ``score`` echoes the prompt with log-probabilities from ``/completions`` (affectlab's own server,
  llama-cpp-python's, vLLM), every continuation in one request where the server takes a list of prompts. Where
  it does not, scoring several continuations would take a request each (llama-cpp-python's server spends about
  half a minute on each echo of a short prompt on 2 cores, ranking its whole vocabulary at every token), so it
  raises :class:`OneTextPerRequest` unless ``one_request_per_score`` allows it. A server without prompt echo
  (llama.cpp's ``llama-server``, Ollama, OpenAI's chat models) makes it raise
  :class:`~affectlab.llm.base.ScoringUnsupported`, once; later calls fail at once.
- ``next_token_logprobs`` asks for the top log-probabilities of one generated token, which most servers give.
- ``generate_batch`` runs up to ``concurrency`` requests at a time.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from affectlab.errors import check_count
from affectlab.io.values import valid_unicode
from affectlab.llm.base import Generation, LLMError, ScoringUnsupported

RETRIED_STATUS = (429, 500, 502, 503, 504)
REFUSED_STATUS = (400, 404, 405, 415, 422, 500, 501)  # how servers say "not that request" (some with a 500)
MAX_BATCH = 64  # prompts in one scoring request
ECHO_PROBE = "Hello there"  # short: llama-cpp-python's echo costs grow with the tokens echoed
TOP_LOGPROBS = {"completions": 5, "chat": 20}  # the most OpenAI's API gives on each endpoint


class OneTextPerRequest(ScoringUnsupported):
    """The server scores one text a request, and the client was not allowed to send one request per text."""


class HTTPStatusError(LLMError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class OpenAICompatibleLM:
    def __init__(self, base_url: str | None = None, model: str = "", *, api_key: str | None = None,
                 chat: bool = False, timeout: float = 120.0, retries: int = 2, backoff: float = 0.5,
                 context_length: int = 8192, concurrency: int = 4, one_request_per_score: bool = False) -> None:
        given = bool(base_url)
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise LLMError("no server address: give base_url or set OPENAI_BASE_URL")
        if not model:
            raise LLMError("no model name: the server needs one in every request")
        if concurrency < 1:
            raise LLMError(f"concurrency must be at least 1, not {concurrency}")
        try:
            address = urllib.parse.urlsplit(base_url)
            address.port  # noqa: B018 (parsing the port is the check: a port of letters fails here)
        except ValueError as error:  # "http://[::1"
            raise LLMError(f"not a server address: {base_url!r} ({error})") from None
        if address.scheme not in ("http", "https") or not address.hostname:
            where = "" if given else " (from OPENAI_BASE_URL)"
            raise LLMError(f"not a server address: {base_url!r}{where}; give an http:// or https:// URL such as "
                           "http://127.0.0.1:8080/v1")
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.chat = chat
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.context_length = context_length
        self.concurrency = concurrency
        self.one_request_per_score = one_request_per_score
        self._echo: bool | None = None  # learned from the first score: does the server echo log-probabilities?
        self._lists = True  # until a server refuses a list of prompts

    @staticmethod
    def count_tokens(text: str) -> int:
        """The server's tokenizer is unknown here: one token per three UTF-8 bytes over-counts English
        (about four characters a token), so prompts trimmed by this estimate fit."""
        return -(-len(text.encode("utf-8")) // 3) + 1

    def _post(self, path: str, payload: dict, retry_refusals: bool = True) -> dict:
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
                retried = exc.code in RETRIED_STATUS and (retry_refusals or exc.code not in REFUSED_STATUS)
                if retried and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                detail = exc.read()[:300].decode("utf-8", "replace")
                raise HTTPStatusError(f"{url} answered HTTP {exc.code}: {detail}", exc.code) from None
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

    def _payload(self, prompt: str, max_new_tokens: int, temperature: float, top_p: float, stop: Sequence[str],
                 seed: int | None) -> tuple[str, dict]:
        check_count("max_new_tokens", max_new_tokens)
        payload: dict = {"model": self.name, "max_tokens": max_new_tokens, "temperature": temperature,
                         "top_p": top_p}
        if stop:
            payload["stop"] = list(stop)
        if seed is not None:
            payload["seed"] = seed
        if self.chat:
            return "/chat/completions", {**payload, "messages": [{"role": "user", "content": prompt}]}
        return "/completions", {**payload, "prompt": prompt}

    def generate(self, prompt: str, *, max_new_tokens: int = 64, temperature: float = 0.0, top_p: float = 1.0,
                 stop: Sequence[str] = (), seed: int | None = None) -> Generation:
        path, payload = self._payload(prompt, max_new_tokens, temperature, top_p, stop, seed)
        reply = self._post(path, payload)
        text = self._field(reply, "choices", 0, *(("message", "content") if self.chat else ("text",)))
        if not isinstance(text, str):
            raise LLMError(f"the server's reply text is not a string: {str(reply)[:200]}")
        text = valid_unicode(text)  # an emoji cut in half by the token limit: no file could hold it
        reason = reply["choices"][0].get("finish_reason") or "length"
        usage = reply.get("usage")
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        counted = isinstance(tokens, (int, float)) and not isinstance(tokens, bool) and 0 <= tokens < 2**31
        return Generation(text, int(tokens) if counted else 0,  # a count the server did not give: 0
                          "length" if reason == "length" else "stop" if reason == "stop" else str(reason))

    def generate_batch(self, prompts: Sequence[str], **options) -> list[Generation]:
        """One generation per prompt, up to ``concurrency`` requests in flight; results in prompt order."""
        if len(prompts) <= 1 or self.concurrency == 1:
            return [self.generate(p, **options) for p in prompts]
        with ThreadPoolExecutor(min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(lambda p: self.generate(p, **options), prompts))

    def _echoed(self, prompts: list[str]) -> list[dict]:
        """The echo reply for each prompt (``logprobs`` of every prompt token), in prompt order."""
        # one generated token: llama-cpp-python reads max_tokens 0 as "until the context is full"
        payload = {"model": self.name, "max_tokens": 1, "echo": True, "logprobs": 0, "temperature": 0.0}
        if self._lists and len(prompts) > 1:
            try:
                choices = self._field(self._post("/completions", {**payload, "prompt": prompts}, False), "choices")
                if isinstance(choices, list) and len(choices) == len(prompts):
                    return sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)
            except HTTPStatusError as exc:
                if exc.status not in REFUSED_STATUS:
                    raise
            self._lists = False
        if len(prompts) > 1 and not self.one_request_per_score:
            if self._echo is None:  # was it the list or the echo that the server refused? One short text tells
                _continuation_logprob(self._field(self._post("/completions", {**payload, "prompt": ECHO_PROBE}, False),
                                                  "choices", 0), 0, len(ECHO_PROBE))
                self._echo = True
            raise OneTextPerRequest(f"{self.base_url} takes one prompt a request: scoring {len(prompts)} texts would "
                                    f"take {len(prompts)} requests (allow it with one_request_per_score=True)")
        return [self._field(self._post("/completions", {**payload, "prompt": p}, False), "choices", 0)
                for p in prompts]

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        if any(not c for c in continuations):
            raise LLMError("an empty continuation cannot be scored")
        if self._echo is False:
            raise ScoringUnsupported(f"{self.base_url} does not echo prompts with log-probabilities")
        texts = [prompt + c for c in continuations]
        try:
            choices = [c for start in range(0, len(texts), MAX_BATCH)
                       for c in self._echoed(texts[start : start + MAX_BATCH])]
            scores = [_continuation_logprob(choice, len(prompt), len(text)) for choice, text in zip(choices, texts)]
        except (HTTPStatusError, ScoringUnsupported) as exc:
            if isinstance(exc, OneTextPerRequest) or (isinstance(exc, HTTPStatusError)
                                                      and exc.status not in REFUSED_STATUS):
                raise
            if self._echo:  # it worked before: this is a fault, not a missing feature
                raise LLMError(str(exc)) from None
            self._echo = False
            raise ScoringUnsupported(f"{self.base_url} does not echo prompts with log-probabilities ({exc})") from None
        self._echo = True
        return scores

    def next_token_logprobs(self, prompt: str) -> dict[str, float]:
        """``{token text: log-probability}`` of the server's most likely next tokens (greedy, one token)."""
        path, payload = self._payload(prompt, 1, 0.0, 1.0, (), None)
        if self.chat:
            payload.update(logprobs=True, top_logprobs=TOP_LOGPROBS["chat"])
        else:
            payload["logprobs"] = TOP_LOGPROBS["completions"]
        try:
            reply = self._post(path, payload, False)
        except HTTPStatusError as exc:
            if exc.status in REFUSED_STATUS:
                raise ScoringUnsupported(f"{self.base_url} gives no top log-probabilities ({exc})") from None
            raise
        try:
            if self.chat:
                top = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
                found = {t["token"]: float(t["logprob"]) for t in top}
            else:
                found = {str(t): float(v) for t, v in reply["choices"][0]["logprobs"]["top_logprobs"][0].items()}
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise ScoringUnsupported(f"{self.base_url} gave no top log-probabilities: {str(reply)[:200]}") from None
        if not found:
            raise ScoringUnsupported(f"{self.base_url} gave no top log-probabilities: {str(reply)[:200]}")
        return found


def _continuation_logprob(choice: dict, start: int, end: int) -> float:
    """The summed log-probability of the tokens that begin in ``[start, end)`` of an echoed text."""
    logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
    echoed = choice.get("text") if isinstance(choice, dict) else None
    if not isinstance(logprobs, dict) or not isinstance(echoed, str) or len(echoed) < end:
        raise ScoringUnsupported("the server did not echo the prompt with log-probabilities")
    values, offsets = logprobs.get("token_logprobs"), logprobs.get("text_offset")
    if not isinstance(values, list) or not isinstance(offsets, list) or len(values) != len(offsets):
        raise ScoringUnsupported("the server's echo has no token_logprobs with text_offset")
    tail = [float(v) for v, at in zip(values, offsets) if isinstance(at, int) and start <= at < end and v is not None]
    if not tail:
        raise LLMError("the server returned no log-probabilities for the continuation")
    return sum(tail)
