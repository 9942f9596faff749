"""A small OpenAI-compatible server over a local model, so tools that speak that protocol (and
:class:`~affectlab.llm.openai.OpenAICompatibleLM`) can use affectlab's packaged LM. Standard library only.

    python -m affectlab.llm.server --port 8080 [--model FOLDER] [--token T | env AFFECTLAB_SERVER_TOKEN]

Serves ``POST /v1/completions`` (one prompt or a list; ``echo`` + ``logprobs`` with ``max_tokens: 0`` scores a prompt),
``POST /v1/chat/completions`` (messages joined one per line, for base models) and ``GET /v1/models``.

>>> server = serve(LocalLM(), "127.0.0.1", 0, ServerOptions(token="s3cret"))
>>> threading.Thread(target=server.serve_forever, daemon=True).start()   # then server.shutdown()

How it behaves (each limit is a :class:`ServerOptions` field and a command-line option):

- **Connections** are handled by a fixed pool of ``workers`` threads (128); up to ``max_pending`` (256) more
  wait for a thread, beyond that a connection gets 503 at once. One request per connection. A client must
  send its whole request (headers and body) within ``read_timeout`` (15 s) of a thread taking it up, or it
  is dropped (408 if the headers had arrived), so idle or trickling clients cannot hold threads.
- **The model** runs one request at a time, first come first served; at most ``max_waiting`` (all workers
  but 16) requests wait their turn (503 beyond), so some threads are always free to answer ``/v1/models``
  and refusals without waiting for the model. A request has ``time_limit`` (300 s) from its arrival,
  queueing included; past it, or as soon as its client disconnects, the generation stops after the current
  token (503, or nothing for a client that has gone).
- **Requests**: POST bodies must be ``Content-Type: application/json`` (415) with a Content-Length (411) of
  at most ``max_body`` bytes (1 MiB; 413). Parameters are checked (400 naming the field; see
  :func:`~affectlab.llm.server_requests.parse_completion`); ``max_tokens`` is capped at ``max_tokens``
  (2048), a prompt at ``max_prompt_tokens`` (4096), and prompt tokens plus ``max_tokens`` must fit the
  model's context (400 for each, before anything runs). The cap on prompts bounds what the time limit and a
  disconnect cannot stop: the model reads a whole prompt in one pass, whose memory and time grow faster than
  the prompt (Gemma 3 270M's context is 32,768 tokens). The echo + logprobs path runs the prompt in
  chunks of 256 tokens, so it holds 256 rows of logits (256 MiB for Gemma) whatever the prompt's length.
- **Access**: the Host header must name this machine's loopback address (or one of ``allowed_hosts``;
  against DNS rebinding); a request with an Origin header (from a web page) is refused unless that origin is
  in ``allowed_origins``; with a ``token``, every request needs ``Authorization: Bearer <token>`` (401).
  Binding to an address other than loopback needs a token.
- **Errors** are JSON (``{"error": {"message", "type", "param"}}``); an unexpected one is a 500 with the
  message ``internal error`` and its traceback goes to the ``affectlab.llm.server`` logger, never to the
  client. Routes: 404 for an unknown path, 405 for a wrong method.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Protocol
from urllib.parse import urlsplit

from affectlab.errors import AffectlabError, OptionError
from affectlab.http_access import LOOPBACK_NAMES, is_loopback
from affectlab.llm.base import Generation, LLMError
from affectlab.llm.loading import load_llm
from affectlab.llm.server_requests import (
    Completion,
    RequestError,
    body_length,
    check_access,
    parse_body,
    parse_completion,
)
from affectlab.llm.server_threads import DeadlineReader, ModelTurns, PooledHTTPServer, client_gone

TOKEN_ENV = "AFFECTLAB_SERVER_TOKEN"
ROUTES = {"/v1/models": "GET", "/v1/completions": "POST", "/v1/chat/completions": "POST"}

_log = logging.getLogger("affectlab.llm.server")  # by name: as `python -m` this module is __main__
_log.addHandler(logging.NullHandler())


class ServedModel(Protocol):
    """What the server needs of a model (:class:`~affectlab.llm.local.LocalLM` has it all). The server calls
    these from one thread at a time."""

    name: str
    context_length: int

    def count_tokens(self, text: str) -> int: ...

    def generate(self, prompt: str, *, max_new_tokens: int, temperature: float, top_p: float, stop: Sequence[str],
                 seed: int | None, should_stop: Callable[[], bool]) -> Generation:
        """Continue ``prompt``, asking ``should_stop()`` after each token and ending early once it is true."""
        ...

    def prompt_logprobs(self, prompt: str) -> dict:
        """``{"tokens", "token_logprobs", "text_offset"}`` for ``prompt`` (the first log-probability ``None``)."""
        ...


@dataclass(frozen=True)
class ServerOptions:
    """The server's limits and access rules (see the module's docstring)."""

    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    workers: int = 128
    max_pending: int = 256
    max_waiting: int | None = None  # None: all workers but 16, so some are always free for the rest
    read_timeout: float = 15.0
    write_timeout: float = 30.0
    time_limit: float = 300.0
    max_body: int = 1 << 20
    max_tokens: int = 2048
    max_prompt_tokens: int = 4096
    backlog: int = 256

    def __post_init__(self) -> None:
        for name in ("workers", "max_pending", "read_timeout", "write_timeout", "time_limit", "max_body",
                     "max_prompt_tokens", "backlog"):
            if not getattr(self, name) > 0:
                raise OptionError(f"{name} must be above 0, not {getattr(self, name)}")
        if self.max_tokens < 0 or (self.max_waiting is not None and self.max_waiting < 1):
            raise OptionError("max_tokens must be 0 or more and max_waiting 1 or more")


class _ClientGone(Exception):
    """The client closed its connection; there is nobody to answer."""


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if not token and not is_loopback(host):
        raise LLMError(f"refusing to serve on {host} without a token: pass --token or set {TOKEN_ENV} "
                       f"(or bind to 127.0.0.1)")


@contextmanager
def _user_errors() -> Iterator[None]:
    """A model's :class:`LLMError` is written for users (e.g. its own context check): a 400 with its message."""
    try:
        yield
    except LLMError as exc:
        raise RequestError(400, str(exc), param="prompt") from None


class _Handler(BaseHTTPRequestHandler):
    server: LMServer

    def version_string(self) -> str:  # the Server header: no Python version for a scanner to read
        return "affectlab"

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self.arrived = time.monotonic()
        deadline = self.arrived + self.server.options.read_timeout
        self.rfile = io.BufferedReader(DeadlineReader(self.connection, deadline))

    def log_message(self, *args) -> None:  # quiet: the library never prints
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line or headers, an unknown method) as JSON."""
        self.close_connection = True
        self._reply(code, RequestError(code, message or HTTPStatus(code).phrase).body())

    def _reply(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.connection.settimeout(self.server.options.write_timeout)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:  # the client has gone or stopped reading: nobody to tell
            self.close_connection = True

    def _handle(self) -> None:
        try:
            self._route()
        except RequestError as exc:
            self._reply(exc.status, exc.body(), exc.headers)
        except _ClientGone:
            self.close_connection = True
        except Exception:
            _log.exception("internal error answering %s %s", self.command, self.path[:200])
            self._reply(500, {"error": {"message": "internal error", "type": "server_error", "param": None}})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # routed below: 404 or 405

    def _route(self) -> None:
        options = self.server.options
        check_access(self.headers, allowed_hosts=self.server.allowed_hosts, allowed_origins=options.allowed_origins,
                     token=options.token)
        path = urlsplit(self.path).path.rstrip("/")
        method = ROUTES.get(path)
        if method is None:
            raise RequestError(404, f"no route {path[:100]!r}", kind="not_found_error")
        if self.command != method:
            raise RequestError(405, f"{path} takes {method}", headers={"Allow": method})
        if method == "GET":
            llm = self.server.llm
            self._reply(200, {"object": "list", "data": [
                {"id": llm.name, "object": "model", "owned_by": "affectlab", "context_length": llm.context_length}]})
            return
        request = parse_completion(parse_body(self._read_body()), chat=path.endswith("/chat/completions"),
                                   max_tokens_cap=options.max_tokens)
        self._reply(200, self._complete(request))

    def _read_body(self) -> bytes:
        length, limit = body_length(self.headers), self.server.options.max_body
        try:
            if length > limit:
                self._discard(min(length, 8 * limit))  # read it away, so the client is not reset before the 413
                raise RequestError(413, f"the body has {length} bytes; this server takes at most {limit}",
                                   param="Content-Length")
            raw = self.rfile.read(length)
        except TimeoutError:
            raise RequestError(408, f"the request did not arrive within {self.server.options.read_timeout:g} s",
                               kind="timeout") from None
        except OSError:
            raise _ClientGone from None
        if len(raw) < length:
            raise _ClientGone
        return raw

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return
            length -= len(chunk)

    def _still_wanted(self) -> None:
        if client_gone(self.connection):
            raise _ClientGone
        limit = self.server.options.time_limit
        if time.monotonic() - self.arrived > limit:
            raise RequestError(503, f"the request ran past the server's time limit of {limit:g} s", kind="timeout")

    def _complete(self, request: Completion) -> dict:
        llm = self.server.llm
        choices, prompt_tokens, generated = [], 0, 0
        with self.server.turns.turn(self._still_wanted), _user_errors():
            self._still_wanted()
            counts = [llm.count_tokens(p) for p in request.prompts]  # every prompt is checked before any runs
            for index, count in enumerate(counts):
                self._check_length(count, request, index if len(counts) > 1 else None)
            for index, (prompt, count) in enumerate(zip(request.prompts, counts)):
                choice: dict = {"index": index, "text": "", "finish_reason": "length", "logprobs": None}
                if request.echo_logprobs:
                    choice["logprobs"] = llm.prompt_logprobs(prompt)
                    choice["text"] = prompt
                if request.max_tokens > 0:
                    generation = self._generate(prompt, request)
                    choice["text"] += generation.text
                    choice["finish_reason"] = "length" if generation.finish_reason == "length" else "stop"
                    generated += generation.tokens
                prompt_tokens += count
                choices.append(choice)
                self._still_wanted()
        reply = {"id": f"cmpl-{time.time_ns()}", "object": "text_completion", "created": int(time.time()),
                 "model": llm.name, "choices": choices,
                 "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": generated,
                           "total_tokens": prompt_tokens + generated}}
        if request.chat:
            reply["object"] = "chat.completion"
            reply["choices"] = [{"index": 0, "finish_reason": choices[0]["finish_reason"],
                                 "message": {"role": "assistant", "content": choices[0]["text"]}}]
        return reply

    def _check_length(self, prompt_tokens: int, request: Completion, index: int | None) -> None:
        name = "the prompt" if index is None else f"prompt[{index}]"
        limit = self.server.options.max_prompt_tokens
        if prompt_tokens > limit:
            raise RequestError(400, f"{name} has {prompt_tokens} tokens; this server takes at most {limit} "
                                    f"(--max-prompt-tokens)", param="prompt")
        if prompt_tokens + request.max_tokens > self.server.llm.context_length:
            raise RequestError(400, f"{name} has {prompt_tokens} tokens and max_tokens is {request.max_tokens}: "
                                    f"together more than the model's context of {self.server.llm.context_length} "
                                    f"tokens", param="prompt")

    def _generate(self, prompt: str, request: Completion) -> Generation:
        interrupted: list[Exception] = []

        def should_stop() -> bool:
            try:
                self._still_wanted()
            except (_ClientGone, RequestError) as exc:
                interrupted.append(exc)
                return True
            return False

        generation = self.server.llm.generate(
            prompt, max_new_tokens=request.max_tokens, temperature=request.temperature, top_p=request.top_p,
            stop=request.stop, seed=request.seed, should_stop=should_stop)
        if interrupted:
            raise interrupted[0]
        return generation


class LMServer(PooledHTTPServer):
    """The server :func:`serve` returns: ``serve_forever()`` accepts, ``shutdown()`` stops it and
    ``server_close()`` releases its socket and threads."""

    def __init__(self, llm: ServedModel, host: str, port: int, options: ServerOptions) -> None:
        self.llm, self.options = llm, options
        self.allowed_hosts = frozenset(LOOPBACK_NAMES | {host.lower()} | {h.lower() for h in options.allowed_hosts})
        waiting = options.max_waiting if options.max_waiting is not None else options.workers - 16
        self.turns = ModelTurns(max(1, waiting))
        super().__init__((host, port), _Handler, workers=options.workers, max_pending=options.max_pending,
                         backlog=options.backlog)


def serve(llm: ServedModel, host: str = "127.0.0.1", port: int = 8080, options: ServerOptions | None = None
          ) -> LMServer:
    """A server bound to ``host:port`` (port 0: any free port, see ``server.server_port``); call
    ``serve_forever()`` on it. Raises :class:`LLMError` for a non-loopback ``host`` without a token."""
    options = options or ServerOptions()
    check_bind(host, options.token)
    return LMServer(llm, host, port, options)


def main(argv: Sequence[str] | None = None) -> None:
    defaults = ServerOptions()
    parser = argparse.ArgumentParser(description="OpenAI-compatible server over a local affectlab LM.")
    parser.add_argument("--host", default="127.0.0.1", help="Beyond loopback only with a token.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model", default=None, help="A local Hugging Face model folder (default: packaged Gemma).")
    parser.add_argument("--token", default=None, help=f"Require 'Authorization: Bearer TOKEN' (or set {TOKEN_ENV}).")
    parser.add_argument("--allow-host", action="append", default=[], help="A Host name to accept besides loopback "
                        "('*': any). Repeatable.")
    parser.add_argument("--allow-origin", action="append", default=[], help="A browser Origin to accept "
                        "(default: none). Repeatable.")
    parser.add_argument("--max-body", type=int, default=defaults.max_body, help="Largest request body, in bytes.")
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="Largest max_tokens accepted.")
    parser.add_argument("--max-prompt-tokens", type=int, default=defaults.max_prompt_tokens,
                        help="Longest prompt accepted, in tokens (the model's context bounds it too).")
    parser.add_argument("--time-limit", type=float, default=defaults.time_limit, help="Seconds per request.")
    parser.add_argument("--read-timeout", type=float, default=defaults.read_timeout,
                        help="Seconds a client has to send its whole request.")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="Connection threads.")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    try:
        options = ServerOptions(
            token=args.token or os.environ.get(TOKEN_ENV) or None, allowed_hosts=tuple(args.allow_host),
            allowed_origins=tuple(args.allow_origin), workers=args.workers, read_timeout=args.read_timeout,
            time_limit=args.time_limit, max_body=args.max_body, max_tokens=args.max_tokens,
            max_prompt_tokens=args.max_prompt_tokens)
        if not 0 <= args.port <= 65535:
            raise LLMError(f"--port must be from 0 to 65535, not {args.port}")
        check_bind(args.host, options.token)  # before the model loads, which takes seconds
        server = serve(load_llm(args.model, backend="transformers"), args.host, args.port, options)
    except (AffectlabError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"serving {server.server_address[0]}:{server.server_port}", flush=True)  # the CLI face of this module
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
