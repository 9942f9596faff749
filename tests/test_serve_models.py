"""affectlab serve with the shipped models: the answers are the library's own, and `affectlab serve` runs under a
real uvicorn on 127.0.0.1 (started as a user starts it, stopped with SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from affectlab.serve import Models, Settings, create_app  # noqa: E402

pytestmark = pytest.mark.model

CHAT = [{"speaker": "A", "text": "I passed my driving test today!"},
        {"speaker": "B", "text": "No way, that's brilliant! I'm so proud of you."}]
TOKEN = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def models():
    return Models.load(Settings(responder=False, threads=2))


@pytest.fixture(scope="module")
def api(models):
    with TestClient(create_app(Settings(responder=False), models), base_url="http://127.0.0.1") as c:
        yield c


def test_analyze_answers_what_the_library_does(api, models):
    text = "I can't believe you remembered my birthday!"
    answer = api.post("/v1/analyze", json={"text": text}).json()
    expected = models.text.analyze(text).to_dict()
    assert {k: answer[k] for k in expected} == expected and answer["model"] == "text-minilm"


def test_analyze_explains_with_offsets_into_the_text_sent(api):
    text = "Thank you so much, this made my day 😂"
    answer = api.post("/v1/analyze", json={"text": text, "explain": True}).json()
    words = [w for words in answer["evidence"].values() for w in words]
    assert words and all(text[w["start"]:w["end"]] == w["word"] for w in words)


def test_conversation_and_causes_answer_what_the_library_does(api, models):
    conversation = api.post("/v1/conversation", json={"turns": CHAT}).json()
    assert conversation["turns"] == models.conversation.analyze(CHAT).to_dict()["turns"]
    causes = api.post("/v1/causes", json={"turns": CHAT, "target": 1, "emotion": "happiness"}).json()
    assert [c["turn"] for c in causes["causes"]] == [c.turn for c in models.conversation.causes(CHAT, 1, "happiness")]


def test_a_turn_the_library_refuses_is_named(api):
    body = json.dumps({"turns": [CHAT[0], {"speaker": "B", "text": "\ud800 half an emoji"}]})  # a lone surrogate
    found = api.post("/v1/conversation", content=body, headers={"Content-Type": "application/json"})
    assert found.status_code == 422 and found.json()["error"]["field"] == "turns[1]"


def _post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_affectlab_serve_under_uvicorn_on_loopback():
    env = {**os.environ, "AFFECTLAB_SERVE_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "affectlab", "serve", "--port", "0", "--no-responder"],
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        while not (lines and lines[-1].startswith("serving ")):
            line = process.stderr.readline()
            assert line, f"the server stopped before serving: {''.join(lines)}"
            lines.append(line)
        url = lines[-1].split()[1]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/healthz", timeout=60) as response:
            assert json.loads(response.read())["status"] == "ok"
        assert _post(f"{url}/v1/analyze", {"text": "so happy for you"})[0] == 401
        status, answer = _post(f"{url}/v1/analyze", {"texts": ["so happy for you", "this is awful"]}, TOKEN)
        assert status == 200 and answer["results"][0]["labels"] != answer["results"][1]["labels"]
        status, answer = _post(f"{url}/v1/respond", {"turns": CHAT}, TOKEN)
        assert status == 503 and "--no-responder" in answer["error"]["message"]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        rest = process.stderr.read()
        process.stderr.close()
    assert code == 128 + signal.SIGTERM, rest  # every affectlab command's exit on SIGTERM, after a clean shutdown
    assert "Traceback" not in rest
