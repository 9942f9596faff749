"""What a request to :mod:`affectlab.llm.server` must look like: who may send it (Host, Origin, token), its
body (JSON, bounded) and its parameters. Every refusal is a :class:`RequestError` carrying the HTTP status
and a message that names the header or field, never the text of an exception from deeper down.

>>> parse_completion({"prompt": "Hi", "temperature": 3}, chat=False, max_tokens_cap=512)
Traceback (most recent call last):
...
affectlab.llm.server_requests.RequestError: temperature must be a number from 0 to 2
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass

from affectlab.errors import AffectlabError
from affectlab.http_access import bearer_matches, host_name
from affectlab.io.values import surrogate_problem

MAX_STOP_STRINGS = 4
MAX_PROMPTS = 64  # a list of prompts in one request (what OpenAI's legacy completions API takes)


class RequestError(AffectlabError):
    """A request the server refuses: ``status`` is the HTTP status, ``param`` the field at fault, if any."""

    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error", param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param}}


@dataclass(frozen=True)
class Completion:
    """A validated ``/v1/completions`` or ``/v1/chat/completions`` request (chat messages joined one per line);
    a completion may carry several prompts, each answered with one choice."""

    prompts: tuple[str, ...]
    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    seed: int | None
    echo_logprobs: bool
    chat: bool


def check_access(headers, *, allowed_hosts: Collection[str], allowed_origins: Collection[str],
                 token: str | None) -> None:
    """Refuse a request whose Host is not one of ``allowed_hosts`` (``*``: any; against DNS rebinding), whose
    Origin header (sent by browsers) is not one of ``allowed_origins``, or, with a ``token``, that lacks
    ``Authorization: Bearer <token>``."""
    host = headers.get("Host")
    if host is None:
        raise RequestError(403, "a Host header is required", kind="permission_error")
    if "*" not in allowed_hosts and host_name(host) not in allowed_hosts:
        raise RequestError(403, f"Host {host_name(host)[:100]!r} is not allowed (see --allow-host)",
                           kind="permission_error")
    origin = headers.get("Origin")
    if origin is not None and origin not in allowed_origins:
        raise RequestError(403, f"Origin {origin[:100]!r} is not allowed (see --allow-origin)", kind="permission_error")
    if token and not bearer_matches(headers.get("Authorization") or "", token):
        raise RequestError(401, "a valid bearer token is required (Authorization: Bearer …)",
                           kind="authentication_error", headers={"WWW-Authenticate": "Bearer"})


def body_length(headers) -> int:
    """The body's length from its headers: JSON only (415), with one Content-Length (411 without one, 400 if
    it is not a whole number). The caller compares it with its own limit."""
    media = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise RequestError(415, "the body must be sent as Content-Type: application/json", param="Content-Type")
    if headers.get("Transfer-Encoding") is not None:
        raise RequestError(411, "send the body with a Content-Length, not Transfer-Encoding", param="Content-Length")
    lengths = headers.get_all("Content-Length") or []
    if not lengths:
        raise RequestError(411, "a Content-Length header is required", param="Content-Length")
    if len(set(lengths)) > 1 or not (lengths[0].isascii() and lengths[0].strip().isdigit()):
        raise RequestError(400, "the Content-Length header is not one whole number", param="Content-Length")
    return int(lengths[0])


def parse_body(raw: bytes) -> dict:
    """The JSON object in ``raw``."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the decoder's stack
        raise RequestError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    return body


def _number(body: dict, field: str, default: float, low: float, high: float, *, low_open: bool = False) -> float:
    value = body.get(field, default)
    if value is None:
        return default
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (low < value <= high if low_open else low <= value <= high):
        span = f"greater than {low:g} and at most {high:g}" if low_open else f"from {low:g} to {high:g}"
        raise RequestError(400, f"{field} must be a number {span}", param=field)
    return float(value)


def _integer(body: dict, field: str, default: int | None, low: int, high: int, span: str) -> int | None:
    value = body.get(field, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(400, f"{field} must be a whole number {span}", param=field)
    return value


def _stop(body: dict) -> tuple[str, ...]:
    stop = body.get("stop")
    stop = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if (not isinstance(stop, list) or len(stop) > MAX_STOP_STRINGS
            or not all(isinstance(s, str) and s for s in stop)):
        raise RequestError(400, f"stop must be a non-empty string or a list of at most {MAX_STOP_STRINGS}",
                           param="stop")
    for index, text in enumerate(stop):
        _unicode(text, f"stop[{index}]", "stop")
    return tuple(stop)


def _unicode(text: str, name: str, param: str) -> None:
    """Refuse ``text`` if it holds a lone surrogate (JSON's ``"\\ud83d"``, half of an emoji): no tokenizer can
    read it, so it is the client's error (400), not the server's (500)."""
    problem = surrogate_problem(text, name)
    if problem:
        raise RequestError(400, problem, param=param)


def _chat_prompt(messages) -> str:
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages must be a non-empty list of {role, content}", param="messages")
    for index, message in enumerate(messages):
        if not (isinstance(message, dict) and isinstance(message.get("role"), str)
                and isinstance(message.get("content"), str)):
            raise RequestError(400, f"messages[{index}] must be an object with a string role and string content",
                               param="messages")
        _unicode(message["content"], f"messages[{index}].content", "messages")
    return "\n".join(m["content"] for m in messages)


def parse_completion(body: dict, *, chat: bool, max_tokens_cap: int) -> Completion:
    """Check every parameter the server uses (others, such as ``user``, are ignored): ``prompt`` (a string or a
    list of strings) or ``messages``, ``max_tokens`` 0 … ``max_tokens_cap`` (default 16), ``temperature`` 0 … 2
    (default 0, greedy), ``top_p`` in (0, 1], ``stop`` (up to 4 strings), ``seed``, ``echo`` with ``logprobs``."""
    if chat:
        prompts = [_chat_prompt(body.get("messages"))]
    else:
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if (not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_PROMPTS
                or not all(isinstance(p, str) for p in prompts)):
            raise RequestError(400, f"prompt must be a string or a list of 1 to {MAX_PROMPTS} strings",
                               param="prompt")
        for index, text in enumerate(prompts):
            _unicode(text, "prompt" if isinstance(prompt, str) else f"prompt[{index}]", "prompt")
    if body.get("stream"):
        raise RequestError(400, "streaming is not supported", param="stream")
    if body.get("n") not in (None, 1):
        raise RequestError(400, "n must be 1", param="n")
    if not isinstance(body.get("echo", False), bool):
        raise RequestError(400, "echo must be true or false", param="echo")
    logprobs = _integer(body, "logprobs", None, 0, 5, "from 0 to 5 (or null)")
    return Completion(
        prompts=tuple(prompts),
        max_tokens=_integer(body, "max_tokens", 16, 0, max_tokens_cap, f"from 0 to {max_tokens_cap}"),
        temperature=_number(body, "temperature", 0.0, 0.0, 2.0),
        top_p=_number(body, "top_p", 1.0, 0.0, 1.0, low_open=True),
        stop=_stop(body), seed=_integer(body, "seed", None, -(2**63), 2**64 - 1, "of 64 bits (or null)"), chat=chat,
        echo_logprobs=not chat and bool(body.get("echo")) and logprobs is not None,
    )
