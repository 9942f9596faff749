"""Issue 25, case 10: the LM server (``affectlab.llm.server``) against hostile clients and faults.

A fake model stands in for Gemma (it sleeps per token and checks ``should_stop``), so these run in seconds.
``pytest -s -k case_10_32`` prints the concurrency test's latencies.
"""

import http.client
import json
import math
import socket
import threading
import time
from contextlib import contextmanager

import pytest

from affectlab.llm.base import Generation, LLMError
from affectlab.llm.server import ServerOptions, main, serve


class FakeLM:
    """The model interface the server needs, without a tokenizer: one token per word plus one."""

    name = "fake"

    def __init__(self, step: float = 0.002, context_length: int = 64) -> None:
        self.step, self.context_length = step, context_length
        self.calls = 0
        self.running = 0
        self.most_running = 0
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def prompt_logprobs(self, prompt: str) -> dict:
        self.calls += 1
        words = prompt.split(" ")
        offsets = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
        return {"tokens": words, "token_logprobs": [None] + [-1.0] * (len(words) - 1), "text_offset": offsets}

    def generate(self, prompt, *, max_new_tokens, temperature, top_p, stop, seed, should_stop) -> Generation:
        if prompt == "boom":
            raise RuntimeError("secret detail from /home/someone/.cache/model.bin")
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.started.set()
        try:
            for done in range(max_new_tokens):
                if should_stop():
                    self.stopped.set()
                    return Generation(" x" * done, done, "length")
                time.sleep(self.step)
            return Generation(" x" * max_new_tokens, max_new_tokens, "length")
        finally:
            with self.lock:
                self.running -= 1


@contextmanager
def running(llm, **options):
    server = serve(llm, "127.0.0.1", 0, ServerOptions(**options))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def call(port, method="POST", path="/v1/completions", body=None, headers=None, timeout=10.0):
    """(status, JSON body, response headers); ``body`` a dict is sent as JSON, bytes as they are."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        sent = {"Content-Type": "application/json"} if data is not None else {}
        connection.request(method, path, data, {**sent, **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        connection.close()


def raw(port, data: bytes, timeout=5.0) -> bytes:
    """Send ``data`` as it is and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply


def test_case_10_32_concurrent_clients_all_answered_while_an_idle_connection_is_held():
    fake = FakeLM(step=0.002)
    with running(fake, read_timeout=5.0) as port:
        idle = socket.create_connection(("127.0.0.1", port))  # connected, sends nothing
        clients = 32
        barrier = threading.Barrier(clients)
        results: list = [None] * clients

        def client(index: int) -> None:
            barrier.wait()
            start = time.perf_counter()
            try:
                status, body, _ = call(port, body={"prompt": f"client {index}", "max_tokens": 4})
                results[index] = (status, body["choices"][0]["text"], time.perf_counter() - start)
            except Exception as exc:  # a reset or timeout is recorded, not raised in a thread
                results[index] = (repr(exc), None, time.perf_counter() - start)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        idle.close()
    latencies = sorted(r[2] for r in results)
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[math.ceil(0.99 * len(latencies)) - 1]
    figures = f"32 clients + 1 idle connection: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    print(f"\ncase 10 concurrency: {figures}")
    assert [r[0] for r in results] == [200] * clients, (figures, results)
    assert all(r[1] == " x x x x" for r in results)
    assert fake.most_running == 1  # the model ran one generation at a time
    assert p99 < 5.0, figures  # under the read timeout: the idle connection stalled nobody


def _start_generation(port: int, max_tokens: int) -> socket.socket:
    """A client that asks for a long generation and does not read the answer (close it to leave)."""
    request = json.dumps({"prompt": "go on", "max_tokens": max_tokens}).encode()
    head = (f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(request)}\r\n\r\n").encode()
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(head + request)
    return client


def test_case_10_models_and_refusals_answered_while_the_model_is_busy():
    fake = FakeLM(step=0.05)
    with running(fake) as port:
        client = _start_generation(port, 60)  # 3 s of generation
        assert fake.started.wait(5)
        start = time.perf_counter()
        assert call(port, "GET", "/v1/models")[0] == 200
        assert call(port, body={"prompt": 5})[0] == 400
        assert time.perf_counter() - start < 1.0 and not fake.stopped.is_set()
        client.close()


def test_case_10_slow_client_is_dropped_after_the_read_timeout():
    with running(FakeLM(), read_timeout=0.5) as port:
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            slow.sendall(b"POST /v1/completions HTTP/1.1\r\n")
            dropped = None
            for _ in range(40):  # a header byte every 0.1 s: each read is quick, the whole request is not
                try:
                    slow.sendall(b"X")
                except OSError:
                    dropped = time.perf_counter() - start
                    break
                assert call(port, "GET", "/v1/models", timeout=2)[0] == 200  # others are served meanwhile
                time.sleep(0.1)
        assert dropped is not None and dropped < 2.0, dropped
        body = b'{"prompt": "'
        head = b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        start = time.perf_counter()
        reply = raw(port, head + b"Content-Length: 100\r\n\r\n" + body)  # a body that never finishes
        assert reply.startswith(b"HTTP/1.0 408") and time.perf_counter() - start < 2.0


def test_case_10_body_over_1_mib_gets_413_and_lengths_are_required():
    with running(FakeLM()) as port:
        status, body, _ = call(port, body=b"x" * ((1 << 20) + 1))
        assert status == 413 and body["error"]["param"] == "Content-Length"
        head = b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        assert raw(port, head + b"\r\n").startswith(b"HTTP/1.0 411")
        assert raw(port, head + b"Content-Length: -5\r\n\r\n").startswith(b"HTTP/1.0 400")
        assert raw(port, head + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").startswith(b"HTTP/1.0 411")


def test_case_10_prompt_over_the_context_gets_400_before_the_model_runs():
    fake = FakeLM()
    with running(fake, max_tokens=32) as port:
        long_prompt = "word " * 100  # 101 fake tokens, over the context of 64
        for request in ({"prompt": long_prompt, "max_tokens": 0, "echo": True, "logprobs": 0},
                        {"prompt": long_prompt, "max_tokens": 4},
                        {"prompt": "word " * 40, "max_tokens": 30}):  # fits alone, not with its continuation
            status, body, _ = call(port, body=request)
            assert status == 400 and "context of 64" in body["error"]["message"] and body["error"]["param"] == "prompt"
        status, body, _ = call(port, body={"prompt": "hi", "max_tokens": 33})
        assert status == 400 and body["error"]["param"] == "max_tokens"
        assert fake.calls == 0
    fake = FakeLM()
    with running(fake, max_prompt_tokens=10) as port:  # the server's own cap, below the model's context
        status, body, _ = call(port, body={"prompt": "word " * 20, "max_tokens": 1})
        assert status == 400 and "at most 10" in body["error"]["message"] and fake.calls == 0
        status, body, _ = call(port, body={"prompt": "a b c", "max_tokens": 0, "echo": True, "logprobs": 0})
        assert status == 200 and body["choices"][0]["logprobs"]["token_logprobs"] == [None, -1.0, -1.0]


def test_case_10_client_disconnect_cancels_the_generation():
    fake = FakeLM(step=0.01, context_length=4096)
    with running(fake) as port:
        client = _start_generation(port, 2000)  # 20 s if nobody stops it
        assert fake.started.wait(5)
        client.close()
        gone = time.perf_counter()
        assert fake.stopped.wait(2.0), "the generation went on after its client left"
        assert time.perf_counter() - gone < 1.0


def test_case_10_generation_past_the_time_limit_stops_with_503():
    fake = FakeLM(step=0.01, context_length=4096)
    with running(fake, time_limit=0.5) as port:
        start = time.perf_counter()
        status, body, _ = call(port, body={"prompt": "go on", "max_tokens": 2000})
        assert status == 503 and "time limit of 0.5 s" in body["error"]["message"]
        assert fake.stopped.is_set() and time.perf_counter() - start < 2.0


@pytest.mark.parametrize(("field", "raw_body"), [
    ("temperature", b'{"prompt": "hi", "temperature": NaN}'),
    ("temperature", b'{"prompt": "hi", "temperature": -1}'),
    ("temperature", b'{"prompt": "hi", "temperature": 1e999}'),
    ("top_p", b'{"prompt": "hi", "top_p": 5}'),
    ("top_p", b'{"prompt": "hi", "top_p": 0}'),
    ("max_tokens", b'{"prompt": "hi", "max_tokens": -1}'),
    ("max_tokens", b'{"prompt": "hi", "max_tokens": "16"}'),
    ("stop", b'{"prompt": "hi", "stop": ["a", "b", "c", "d", "e"]}'),
    ("stop", b'{"prompt": "hi", "stop": 3}'),
    ("seed", b'{"prompt": "hi", "seed": 1.5}'),
    ("prompt", b'{"prompt": ["hi", 5]}'),
    ("prompt", b'{"prompt": []}'),
    ("prompt", b'{"prompt": [' + b",".join([b'"hi"'] * 65) + b"]}"),  # a list of prompts: at most 64
    ("messages", b'{"messages": [{"role": "user", "content": 5}]}'),
])
def test_case_10_bad_parameters_get_400_naming_the_field(field, raw_body):
    fake = FakeLM()
    path = "/v1/chat/completions" if field == "messages" else "/v1/completions"
    with running(fake) as port:
        status, body, _ = call(port, path=path, body=raw_body)
    assert status == 400 and body["error"]["param"] == field and field in body["error"]["message"]
    assert fake.calls == 0


def test_case_10_malformed_json_unknown_route_and_wrong_method():
    with running(FakeLM()) as port:
        assert call(port, body=b"{not json")[0] == 400
        assert call(port, body=b"[" * 100_000)[0] == 400  # deeper than the JSON decoder's stack
        assert call(port, body=b"[1, 2]")[0] == 400
        assert call(port, "GET", "/admin")[0] == 404
        status, _, headers = call(port, "GET", "/v1/completions")
        assert status == 405 and headers["Allow"] == "POST"
        assert call(port, "DELETE", "/v1/models")[0] == 405


def test_case_10_text_plain_post_gets_415():
    fake = FakeLM()
    with running(fake) as port:
        status, body, _ = call(port, body=b'{"prompt": "hi"}', headers={"Content-Type": "text/plain"})
        assert status == 415 and body["error"]["param"] == "Content-Type"
        assert fake.calls == 0


def test_case_10_bad_host_or_origin_gets_403():
    with running(FakeLM(), allowed_origins=("http://localhost:3000",)) as port:
        assert call(port, "GET", "/v1/models", headers={"Host": "evil.example:8080"})[0] == 403
        assert call(port, "GET", "/v1/models", headers={"Host": f"localhost:{port}"})[0] == 200
        assert call(port, body={"prompt": "hi"}, headers={"Origin": "http://evil.example"})[0] == 403
        assert call(port, body={"prompt": "hi"}, headers={"Origin": "http://localhost:3000"})[0] == 200


def test_case_10_token_is_required_when_set():
    from affectlab.llm import OpenAICompatibleLM

    with running(FakeLM(), token="s3cret") as port:
        status, _, headers = call(port, "GET", "/v1/models")
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert call(port, "GET", "/v1/models", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert call(port, "GET", "/v1/models", headers={"Authorization": "Bearer s3cret"})[0] == 200
        url = f"http://127.0.0.1:{port}/v1"
        assert OpenAICompatibleLM(url, "fake", api_key="s3cret").generate("hi", max_new_tokens=2).text == " x x"
        with pytest.raises(LLMError, match="HTTP 401"):
            OpenAICompatibleLM(url, "fake").generate("hi")


def test_case_10_binding_beyond_loopback_without_a_token_is_refused(monkeypatch, capsys):
    with pytest.raises(LLMError, match="without a token"):
        serve(FakeLM(), "0.0.0.0", 0)
    monkeypatch.delenv("AFFECTLAB_SERVER_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--host", "0.0.0.0", "--port", "0"])  # refused before any model loads
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and "without a token" in err
    with pytest.raises(SystemExit) as exited:
        main(["--workers", "0"])
    assert exited.value.code == 2 and "workers must be above 0" in capsys.readouterr().err


def test_case_10_internal_error_is_500_without_exception_text():
    with running(FakeLM()) as port:
        status, body, _ = call(port, body={"prompt": "boom"})
    assert status == 500
    assert body == {"error": {"message": "internal error", "type": "server_error", "param": None}}


@pytest.mark.parametrize(("path", "field", "body"), [
    ("/v1/completions", "prompt", {"prompt": "hi \ud83d there"}),
    ("/v1/completions", "stop", {"prompt": "hi", "stop": ["ok", "\udc00"]}),
    ("/v1/chat/completions", "messages", {"messages": [{"role": "user", "content": "hi \ud83d"}]}),
])
def test_case_10_lone_surrogate_in_a_request_gets_400_before_the_model_runs(path, field, body):
    """JSON can carry half of an emoji (``"\\ud83d"``); the real tokenizer raises a TypeError on it, which would be
    a 500. It is the client's error: a 400 naming the field, before the model is touched."""
    fake = FakeLM()
    with running(fake) as port:
        status, reply, _ = call(port, path=path, body=json.dumps(body).encode())
    assert status == 400 and reply["error"]["param"] == field, reply
    assert "unpaired surrogate" in reply["error"]["message"] and fake.calls == 0


def test_case_10_a_port_that_cannot_be_bound_is_one_line_not_a_traceback(monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError) as caught:  # the bind's own error, not one from closing a half-built server
            serve(FakeLM(), "127.0.0.1", taken.getsockname()[1])
        assert caught.value.errno is not None, caught.value

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the port was checked")

    monkeypatch.setattr("affectlab.llm.server.load_llm", refuse)
    for port in ("99999", "-1"):
        with pytest.raises(SystemExit) as exited:
            main(["--port", port])
        err = capsys.readouterr().err
        assert exited.value.code == 2 and err.count("\n") == 1 and "--port must be from 0 to 65535" in err
