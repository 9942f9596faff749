"""A small OpenAI-compatible server over a local model, so tools that speak that protocol (and
:class:`~affectlab.llm.openai.OpenAICompatibleLM`) can use affectlab's packaged LM.

    python -m affectlab.llm.server --port 8080 [--model FOLDER]

Serves ``POST /v1/completions`` (with ``echo`` + ``logprobs`` and ``max_tokens: 0`` for scoring a prompt),
``POST /v1/chat/completions`` (messages joined one per line, for base models) and ``GET /v1/models``.
One request at a time; for local use, not for exposure to a network.
"""

from __future__ import annotations

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from affectlab.llm.base import LLMError
from affectlab.llm.local import LocalLM, load_llm


def prompt_logprobs(llm: LocalLM, prompt: str) -> dict:
    """Per-token log-probabilities of ``prompt`` (the first token has none), in the completions format."""
    import torch

    encoded = llm.tokenizer(prompt, return_offsets_mapping=True)
    ids, offsets = encoded.input_ids, encoded.offset_mapping
    with torch.inference_mode():
        logits = llm.model(input_ids=torch.tensor([ids])).logits[0]
    logprobs = torch.log_softmax(logits.float(), -1)
    values = [None] + [float(logprobs[i - 1, ids[i]]) for i in range(1, len(ids))]
    return {"tokens": llm.tokenizer.convert_ids_to_tokens(ids), "token_logprobs": values,
            "text_offset": [start for start, _ in offsets]}


class _Handler(BaseHTTPRequestHandler):
    llm: LocalLM

    def log_message(self, *args) -> None:  # quiet: the caller decides what to print
        pass

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.llm.name, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        try:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path == "/v1/completions":
                self._send(200, self._complete(request, str(request.get("prompt", ""))))
            elif self.path == "/v1/chat/completions":
                messages = request.get("messages") or []
                prompt = "\n".join(str(m.get("content", "")) for m in messages)
                reply = self._complete(request, prompt)
                choice = reply["choices"][0]
                reply["choices"] = [{"index": 0, "finish_reason": choice["finish_reason"],
                                     "message": {"role": "assistant", "content": choice["text"]}}]
                reply["object"] = "chat.completion"
                self._send(200, reply)
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError, LLMError) as exc:
            self._send(400, {"error": {"message": str(exc)}})

    def _complete(self, request: dict, prompt: str) -> dict:
        max_tokens = int(request.get("max_tokens", 16))
        choice: dict = {"index": 0, "text": "", "finish_reason": "length", "logprobs": None}
        generated = 0
        if request.get("echo") and request.get("logprobs") is not None:
            choice["logprobs"] = prompt_logprobs(self.llm, prompt)
            choice["text"] = prompt
        if max_tokens > 0:
            stop = request.get("stop") or []
            generation = self.llm.generate(
                prompt, max_new_tokens=max_tokens, temperature=float(request.get("temperature", 0.0)),
                top_p=float(request.get("top_p", 1.0)), stop=[stop] if isinstance(stop, str) else stop,
                seed=request.get("seed"),
            )
            choice["text"] += generation.text
            choice["finish_reason"] = "length" if generation.finish_reason == "length" else "stop"
            generated = generation.tokens
        return {"id": f"cmpl-{time.time_ns()}", "object": "text_completion", "model": self.llm.name,
                "choices": [choice], "usage": {"completion_tokens": generated}}


def serve(llm: LocalLM, host: str = "127.0.0.1", port: int = 8080) -> HTTPServer:
    """A server bound to ``host:port`` (port 0: any free port, see ``server.server_port``); call
    ``serve_forever()`` on it."""
    handler = type("Handler", (_Handler,), {"llm": llm})
    return HTTPServer((host, port), handler)


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible server over a local affectlab LM.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model", default=None, help="A local Hugging Face model folder (default: packaged Gemma).")
    args = parser.parse_args()
    server = serve(load_llm(args.model), args.host, args.port)
    print(f"serving {server.server_address[0]}:{server.server_port}", flush=True)  # the CLI face of this module
    server.serve_forever()


if __name__ == "__main__":
    main()
