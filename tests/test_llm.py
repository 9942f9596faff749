"""The local language-model backend on the packaged Gemma 3 270M (converted once into the test cache)."""

import pytest

from affectlab.errors import OptionError
from affectlab.llm import Generation, LanguageModel, LLMError, LocalLM, load_llm
from affectlab.llm.loading import llama_cpp_installed
from affectlab.llm.local import cache_dir


def test_default_model_is_converted_once_into_the_cache(llm):
    assert isinstance(llm, LanguageModel) and llm.name == "gemma3-270m" and llm.context_length >= 2048
    folder = cache_dir() / "gemma3-270m"
    assert (folder / "config.json").exists() and list(folder.glob("*.safetensors"))
    assert not list(cache_dir().glob("*.partial"))
    if not llama_cpp_installed():  # the llama.cpp backend keeps the GGUF file it runs; transformers needs only its copy
        assert not list(cache_dir().glob("*.gguf"))
    assert LocalLM(folder).generate("One, two,", max_new_tokens=4) == llm.generate("One, two,", max_new_tokens=4)


def test_generate_greedy_sampling_and_stop_strings(llm):
    greedy = llm.generate("The capital of France is", max_new_tokens=6)
    assert isinstance(greedy, Generation) and greedy.tokens == 6 and greedy.finish_reason == "length"
    assert greedy == llm.generate("The capital of France is", max_new_tokens=6)
    first = llm.generate("Once upon a time", max_new_tokens=10, temperature=0.9, top_p=0.9, seed=7)
    assert first == llm.generate("Once upon a time", max_new_tokens=10, temperature=0.9, top_p=0.9, seed=7)
    stopped = llm.generate("Monday, Tuesday, Wednesday,", max_new_tokens=20, stop=[","])
    assert stopped.finish_reason == "stop" and "," not in stopped.text


def test_score_ranks_continuations(llm):
    happy, terrified = llm.score("I just won the lottery and I feel so", [" happy", " terrified"])
    assert happy > terrified and happy < 0


def test_cached_scoring_equals_scoring_each_full_sequence(llm):
    import torch

    prompt = "She opened the letter and felt"
    continuations = [" happy", " utterly devastated", " a strange mix of relief and dread"]
    prompt_ids = llm.tokenizer(prompt).input_ids
    expected = []
    for c in continuations:
        tail = llm.tokenizer(c, add_special_tokens=False).input_ids
        with torch.inference_mode():
            logprobs = torch.log_softmax(llm.model(input_ids=torch.tensor([prompt_ids + tail])).logits[0].float(), -1)
        expected.append(sum(float(logprobs[len(prompt_ids) - 1 + k, t]) for k, t in enumerate(tail)))
    assert llm.score(prompt, continuations) == pytest.approx(expected, abs=1e-3)


def test_generation_stops_when_asked_and_prompt_logprobs_run_in_chunks(llm):
    asked = []

    def third_time() -> bool:
        asked.append(1)
        return len(asked) >= 3

    stopped = llm.generate("The weather today is", max_new_tokens=40, should_stop=third_time)
    assert stopped.tokens == 3 and stopped.finish_reason == "length"
    prompt = "I just won the lottery and I feel so happy about it."
    whole, chunked = llm.prompt_logprobs(prompt), llm.prompt_logprobs(prompt, chunk=4)
    assert whole["tokens"] == chunked["tokens"] and whole["token_logprobs"][0] is None
    assert whole["token_logprobs"][1:] == pytest.approx(chunked["token_logprobs"][1:], abs=1e-3)
    with pytest.raises(LLMError, match="exceeds the model's context"):
        llm.prompt_logprobs("word " * llm.context_length)


def test_llm_errors_are_clear(llm, tmp_path):
    with pytest.raises(LLMError, match="exceeds the model's context"):
        llm.generate("word " * 40_000, max_new_tokens=4)
    for count in (0, -5, 2.5):
        with pytest.raises(OptionError, match="max_new_tokens must be a whole number"):
            llm.generate("Hello", max_new_tokens=count)
    with pytest.raises(LLMError, match="empty continuation"):
        llm.score("Hello", ["", " there"])
    with pytest.raises(LLMError, match="not a Hugging Face model folder"):
        load_llm(tmp_path)


# --- the OpenAI-compatible backend, against real server processes ---------------------------------------

def test_openai_backend_generates_and_scores_like_the_local_model(llm, server_url):
    from affectlab.llm import OpenAICompatibleLM

    remote = OpenAICompatibleLM(server_url, model="gemma3-270m")
    assert isinstance(remote, LanguageModel)
    local = llm.generate("The capital of France is", max_new_tokens=6)
    assert remote.generate("The capital of France is", max_new_tokens=6).text == local.text
    chat = OpenAICompatibleLM(server_url, model="gemma3-270m", chat=True)
    assert chat.generate("The capital of France is", max_new_tokens=6).text == local.text
    stopped = remote.generate("Monday, Tuesday, Wednesday,", max_new_tokens=20, stop=[","])
    assert "," not in stopped.text and stopped.finish_reason == "stop"
    happy, terrified = remote.score("I just won the lottery and I feel so", [" happy", " terrified"])
    assert happy > terrified
    assert happy == pytest.approx(llm.score("I just won the lottery and I feel so", [" happy"])[0], abs=1e-3)


def _fake_server(status: int, body: bytes):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_empathetic_responder_over_http_matches_the_local_backend(llm, server_url):
    from affectlab.empathy import EmpatheticResponder, load_emotion_model
    from affectlab.llm import OpenAICompatibleLM

    turns = [{"speaker": "ana", "text": "I finally finished my first marathon today!"}]
    sem = load_emotion_model()
    remote = OpenAICompatibleLM(server_url, "gemma3-270m")
    over_http = EmpatheticResponder(remote, emotion_model=sem, max_new_tokens=12, temperature=0.0).respond(
        turns, "Question"
    )
    local = EmpatheticResponder(llm, emotion_model=sem, max_new_tokens=12, temperature=0.0).respond(turns, "Question")
    assert over_http.text and over_http.emotion_hint == local.emotion_hint and over_http.prompt == local.prompt
    assert over_http.text == local.text  # greedy: the same model behind both backends


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"<html>not json</html>", "sent a reply that is not JSON"),
        (200, b'{"choices": []}', "reply has no choices.0.text"),
        (503, b"overloaded", "answered HTTP 503: overloaded"),
        (401, b"bad key", "answered HTTP 401: bad key"),
    ],
)
def test_openai_backend_errors_name_the_problem(status, body, message):
    from affectlab.llm import OpenAICompatibleLM

    server = _fake_server(status, body)
    try:
        remote = OpenAICompatibleLM(f"http://127.0.0.1:{server.server_port}/v1", "m", retries=1, backoff=0.01)
        with pytest.raises(LLMError, match=message):
            remote.generate("hi")
    finally:
        server.shutdown()


@pytest.mark.parametrize("usage", [b'{"completion_tokens": null}', b'"x"', b'null', b'{"completion_tokens": true}',
                                   b'{"completion_tokens": -3}'])
def test_openai_backend_takes_a_reply_whose_token_count_is_missing_or_odd(usage):
    from affectlab.llm import OpenAICompatibleLM

    server = _fake_server(200, b'{"choices": [{"text": " fine", "finish_reason": "stop"}], "usage": ' + usage + b"}")
    try:
        reply = OpenAICompatibleLM(f"http://127.0.0.1:{server.server_port}/v1", "m").generate("hi")
        assert (reply.text, reply.tokens, reply.finish_reason) == (" fine", 0, "stop")
    finally:
        server.shutdown()


def test_openai_backend_mends_a_reply_cut_inside_an_emoji():
    from affectlab.llm import OpenAICompatibleLM

    server = _fake_server(200, b'{"choices": [{"text": "Sure \\ud83d", "finish_reason": "length"}]}')
    try:
        reply = OpenAICompatibleLM(f"http://127.0.0.1:{server.server_port}/v1", "m").generate("hi")
        assert reply.text == "Sure \ufffd" and reply.text.encode("utf-8")  # any file can hold it
    finally:
        server.shutdown()


@pytest.mark.parametrize("address", ["notaurl", "http://[::1", "http://host:port/v1", "file:///etc/passwd", "ftp://h/v1",
                                     "http://:8080/v1"])
def test_openai_backend_refuses_what_is_not_a_server_address(address):
    from affectlab.llm import OpenAICompatibleLM

    with pytest.raises(LLMError, match="not a server address"):
        OpenAICompatibleLM(address, "m")


def test_openai_backend_unreachable_server():
    import socket

    from affectlab.llm import OpenAICompatibleLM

    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remote = OpenAICompatibleLM(f"http://127.0.0.1:{port}/v1", "m", retries=1, backoff=0.01)
    with pytest.raises(LLMError, match="cannot reach .* after 2 tries"):
        remote.generate("hi")


def test_case_1_a_lone_surrogate_given_to_the_local_lm_is_an_llm_error(llm):
    for call in (lambda: llm.generate("x \ud83d", max_new_tokens=2), lambda: llm.count_tokens("\udc80"),
                 lambda: llm.score("ok", [" x \ud83d"])):
        with pytest.raises(LLMError, match="surrogate U\\+D"):
            call()
