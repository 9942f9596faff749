"""Guided replies with the servers people run: affectlab's OpenAI-compatible client against llama-cpp-python's
server (a real third-party server, on loopback; skipped where llama-cpp-python or its server extra is not
installed), against small stand-ins for what such a server may lack (no prompt echo, no list of prompts), and
OpenAI's official Python client against affectlab's own server."""

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from affectlab.dialogue.context_classifier import LabelScore
from affectlab.empathy.emotion_choice import choose_without_scores, first_token_scores
from affectlab.llm import OpenAICompatibleLM, ScoringUnsupported, load_llm
from affectlab.llm.openai import OneTextPerRequest

PROMPT = "Speaker: I lost my job today and I don't know how to tell my family.\nListener:"
RANKED = [LabelScore("sad", 0.5), LabelScore("afraid", 0.3), LabelScore("anxious", 0.2)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    """llama-cpp-python's own OpenAI-compatible server on the packaged GGUF file."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python's server extra is not installed")
    from affectlab.llm.llama_cpp import packaged_gguf

    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_gguf()),
                                "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "2048"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("llama-cpp-python's server did not start")
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_scoring_through_llama_cpp_python_sends_one_request_a_text_only_when_allowed(llama_server):
    prompt, replies = "Speaker: I lost my job.\nListener:", [" Oh no.", " Great!"]  # short: each echo is slow
    client = OpenAICompatibleLM(llama_server, "gemma3-270m")
    with pytest.raises(OneTextPerRequest, match="takes one prompt a request"):
        client.score(prompt, replies)  # a list of prompts gets a 500; one short text shows that echo works
    assert client._echo is True and len(client.score(prompt, replies[:1])) == 1
    client = OpenAICompatibleLM(llama_server, "gemma3-270m", one_request_per_score=True)
    batched = client.score(prompt, replies)
    assert client._lists is False and client._echo is True
    from affectlab.llm.llama_cpp import LlamaCppLM

    local = LlamaCppLM(threads=1, context_length=1024).score(prompt, replies)
    assert all(abs(a - b) < 0.5 for a, b in zip(batched, local)), (batched, local)


def test_top_log_probabilities_from_llama_cpp_python_choose_a_candidate(llama_server):
    for chat in (False, True):
        client = OpenAICompatibleLM(llama_server, "gemma3-270m", chat=chat)
        top = client.next_token_logprobs("Q: In one word, how does the speaker feel?\nA: The speaker feels")
        assert top and all(isinstance(v, float) and v <= 0 for v in top.values())
    prompt = ("Speaker: My dog died this morning.\nAn emotion model thinks the speaker most likely feels sad, "
              "afraid or anxious.\nQ: In one word, how does the speaker feel?\nA: The speaker feels")
    choice = choose_without_scores(OpenAICompatibleLM(llama_server, "gemma3-270m"), prompt, RANKED)
    assert choice.method in ("top-logprobs", "generation", "small-model") and choice.emotion


def test_guided_respond_works_through_llama_cpp_python(llama_server):
    from affectlab.empathy import EmpatheticResponder

    responder = EmpatheticResponder(OpenAICompatibleLM(llama_server, "gemma3-270m"), strategy_model=None)
    response = responder.respond([{"speaker": "Ann", "text": "I failed my exam and I feel like giving up."}])
    # 32 labels would take 32 slow echo requests: the choice takes the server's top next tokens instead
    assert response.emotion_method in ("top-logprobs", "generation", "small-model")
    assert response.emotion_hint and response.prompt.endswith("Listener:") and response.finish_reason


# --- stand-ins for servers that lack a feature ------------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    """An OpenAI-like server without prompt echo: 400 for ``echo``, a fixed top-5 for ``logprobs``."""

    seen: list = []
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, body, self.headers.get("Authorization")))
        with self.lock:
            type(self).in_flight += 1
            type(self).most_in_flight = max(type(self).most_in_flight, type(self).in_flight)
        time.sleep(0.05)
        with self.lock:
            type(self).in_flight -= 1
        if body.get("echo"):
            return self._send(400, {"error": {"message": "echo is not supported"}})
        choice = {"index": 0, "text": f" reply to {body.get('prompt', '')[-3:]}", "finish_reason": "stop"}
        if body.get("logprobs"):
            choice["logprobs"] = {"top_logprobs": [{" an": -0.5, " sad": -1.2, " happy": -2.0, " ": -3.0}]}
        self._send(200, {"choices": [choice], "usage": {"completion_tokens": 3}})

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def no_echo_server():
    _Recorder.seen, _Recorder.in_flight, _Recorder.most_in_flight = [], 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_a_server_without_echo_says_so_once_and_the_choice_uses_top_logprobs(no_echo_server):
    client = OpenAICompatibleLM(no_echo_server, "m", retries=0)
    with pytest.raises(ScoringUnsupported, match="does not echo"):
        client.score("p", [" a", " b"])
    asked = len(_Recorder.seen)
    with pytest.raises(ScoringUnsupported):
        client.score("p", [" a"])
    assert len(_Recorder.seen) == asked  # known now: no second request
    choice = choose_without_scores(client, "The speaker feels", RANKED)
    # " an" begins "anxious" (and no other candidate) and is likelier than " sad"
    assert (choice.emotion, choice.method, choice.fell_back) == ("anxious", "top-logprobs", False)
    assert choice.scores == {"anxious": -0.5, "sad": -1.2}


def test_the_responder_reports_how_a_server_without_echo_chose(no_echo_server):
    from affectlab.empathy import EmpatheticResponder

    responder = EmpatheticResponder(OpenAICompatibleLM(no_echo_server, "m", retries=0), strategy_model=None)
    response = responder.respond([{"speaker": "Ann", "text": "My best friend moved away and I miss her."}])
    assert response.emotion_method == "top-logprobs"
    assert response.emotion_hint in [c.label for c in response.emotion_candidates]


def test_first_tokens_match_candidates_with_or_without_the_leading_space():
    top = {"Sad": -0.1, " afr": -0.4, "x": -0.2, "  ": -0.3}
    assert first_token_scores(top, ["sad", "afraid", "anxious"]) == {"sad": -0.1, "afraid": -0.4}


class _Scripted:
    """A backend that cannot score and answers every prompt with one fixed text."""

    name, context_length = "scripted", 4096

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def generate(self, prompt, **options):
        from affectlab.llm import Generation

        return Generation(self.answer, 3, "stop")

    def score(self, prompt, continuations):
        raise ScoringUnsupported("no scores here")

    def count_tokens(self, text):
        return len(text.split())


def test_without_top_logprobs_a_short_answer_or_the_small_model_decides():
    named = choose_without_scores(_Scripted(" The speaker feels Furious about it."), "p", RANKED)
    assert (named.emotion, named.method, named.fell_back) == ("furious", "generation", True)
    inside = choose_without_scores(_Scripted(" afraid, I think"), "p", RANKED)
    assert (inside.emotion, inside.method, inside.fell_back) == ("afraid", "generation", False)
    nothing = choose_without_scores(_Scripted(" hmm"), "p", RANKED)
    assert (nothing.emotion, nothing.method) == ("sad", "small-model")


def test_generation_over_http_is_concurrent_but_bounded_and_keeps_order(no_echo_server):
    client = OpenAICompatibleLM(no_echo_server, "m", concurrency=3)
    prompts = [f"prompt {i:03d}" for i in range(12)]
    generations = client.generate_batch(prompts, max_new_tokens=4)
    assert [g.text for g in generations] == [f" reply to {i:03d}" for i in range(12)]
    assert 1 < _Recorder.most_in_flight <= 3


def test_openai_environment_variables_are_honoured(no_echo_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", no_echo_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    OpenAICompatibleLM(model="m").generate("hello", max_new_tokens=2)
    assert _Recorder.seen[-1][2] == "Bearer sk-test"
    monkeypatch.delenv("OPENAI_BASE_URL")
    with pytest.raises(Exception, match="OPENAI_BASE_URL"):
        OpenAICompatibleLM(model="m")


def test_a_list_of_prompts_is_scored_in_one_request_where_the_server_takes_it(llm, server_url):
    client = OpenAICompatibleLM(server_url, "gemma3-270m")
    replies = [" I'm so sorry.", " Great news!", " Tell me more."]
    scores = client.score(PROMPT, replies)
    assert client._lists is True
    assert all(abs(a - b) < 1e-3 for a, b in zip(scores, llm.score(PROMPT, replies)))


# --- OpenAI's own client against affectlab's server --------------------------------------------------------

def test_the_official_openai_client_talks_to_affectlabs_server(llm, server_url):
    openai = pytest.importorskip("openai", reason="the openai client is not installed")
    client = openai.OpenAI(base_url=server_url, api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list().data] == ["gemma3-270m"]
    completion = client.completions.create(model="gemma3-270m", prompt=PROMPT, max_tokens=8, temperature=0,
                                           stop=["\n"])
    assert completion.choices[0].text == llm.generate(PROMPT, max_new_tokens=8, stop=["\n"]).text
    assert completion.usage.completion_tokens >= 1
    echoed = client.completions.create(model="gemma3-270m", prompt=[PROMPT, "Hello there"], max_tokens=0, echo=True,
                                       logprobs=0)
    assert [c.index for c in echoed.choices] == [0, 1] and echoed.choices[1].text == "Hello there"
    assert echoed.choices[0].logprobs.token_logprobs[0] is None and len(echoed.choices[0].logprobs.tokens) > 5
    chat = client.chat.completions.create(model="gemma3-270m", max_tokens=6,
                                          messages=[{"role": "user", "content": "Say something kind."}])
    assert chat.choices[0].message.role == "assistant" and isinstance(chat.choices[0].message.content, str)
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.completions.create(model="gemma3-270m", prompt="Hi", temperature=5)


# --- which backend runs the packaged model ----------------------------------------------------------------

def test_auto_takes_llama_cpp_only_where_it_is_installed(monkeypatch):
    made = []
    monkeypatch.setattr("affectlab.llm.loading.LocalLM", lambda *a, **k: made.append(("transformers", k)) or "t")
    monkeypatch.setattr("affectlab.llm.llama_cpp.LlamaCppLM", lambda *a, **k: made.append(("llama-cpp", k)) or "l",
                        raising=False)
    monkeypatch.setattr("affectlab.llm.loading.llama_cpp_installed", lambda: False)
    load_llm(adapter="x")
    monkeypatch.setattr("affectlab.llm.loading.llama_cpp_installed", lambda: True)
    load_llm(adapter="x")
    load_llm(backend="transformers")
    assert [m[0] for m in made] == ["transformers", "llama-cpp", "transformers"]
    assert made[1][1]["adapter"] == "x"
    with pytest.raises(Exception, match="backend must be one of"):
        load_llm(backend="vllm")


def test_a_gguf_file_needs_llama_cpp_and_a_folder_needs_transformers(monkeypatch, tmp_path):
    monkeypatch.setattr("affectlab.llm.loading.llama_cpp_installed", lambda: False)
    with pytest.raises(Exception, match="needs the llama.cpp backend"):
        load_llm(tmp_path / "model.gguf")
    with pytest.raises(Exception, match="runs GGUF files"):
        load_llm(tmp_path, backend="llama-cpp")
