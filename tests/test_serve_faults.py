"""Clients that disconnect mid-request, against affectlab serve under a real uvicorn on 127.0.0.1 (its own
process, with stand-in models that the test holds busy): the server stays healthy and quiet, and the work of a
client that left before its turn is never done."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("fastapi")

from test_serve import wait_until  # noqa: E402

TESTS = Path(__file__).resolve().parent

# a model call is held while the file `hold` exists; each call first writes the texts it was given to asked.jsonl
SERVER = """
import json, sys, time
from pathlib import Path
import uvicorn
sys.path.insert(0, {tests!r})
from test_serve import FakeConversation, FakeResponder, FakeText
from affectlab.serve import Models, Settings, create_app
from affectlab.serve.models import Responder
from affectlab.serve.server import bind, url_of

folder = Path(sys.argv[1])

def asked(texts):
    with open(folder / "asked.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(texts) + "\\n")
    while (folder / "hold").exists():
        time.sleep(0.01)

class HeldText(FakeText):
    def analyze_batch(self, rows, explain=False, on_progress=None):
        asked(list(rows))
        return super().analyze_batch(rows, explain, on_progress)

class HeldConversation(FakeConversation):
    def analyze(self, turns, causes=True):
        asked([turn["text"] for turn in turns])
        return super().analyze(turns, causes)

settings = Settings(port=0, workers=1, jobs_dir=folder / "jobs")
sock = bind(settings)
models = Models(HeldText(), HeldConversation(), Responder(FakeResponder))
app = create_app(settings, models, on_ready=lambda: print(url_of(sock), flush=True))
uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5, server_header=False)).run(
    sockets=[sock])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    script = folder / "server.py"
    script.write_text(SERVER.format(tests=str(TESTS)), encoding="utf-8")
    with open(folder / "server.log", "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, str(script), str(folder)], stdout=subprocess.PIPE,
                                   stderr=log, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), (folder / "server.log").read_text()
        yield SimpleNamespace(url=url, folder=folder)
    finally:
        (folder / "hold").unlink(missing_ok=True)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()
    assert "Traceback" not in (folder / "server.log").read_text()  # nor on the way out


@pytest.fixture
def api(server):
    """The module's server, whose ``log()`` is what it has written since this test started."""
    log = server.folder / "server.log"
    start = log.stat().st_size
    return SimpleNamespace(**vars(server), log=lambda: log.read_bytes()[start:].decode("utf-8", "replace"))


@contextmanager
def held(server):
    """The models block (each call once it has logged its texts) until the block ends."""
    (server.folder / "hold").touch()
    try:
        yield
    finally:
        (server.folder / "hold").unlink()


def asked(server) -> list[list[str]]:
    """The texts of every model call so far, in order."""
    log = server.folder / "asked.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def post(server, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def health(server) -> dict:
    with urllib.request.urlopen(server.url + "/healthz", timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def send_raw(server, path: str, body: dict, cut: int | None = None) -> socket.socket:
    """A connection that has sent a request to ``path`` (its body cut after ``cut`` bytes) and reads nothing."""
    data = json.dumps(body).encode()
    connection = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=30)
    connection.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(data)}\r\n\r\n".encode() + data[:cut])
    return connection


def quiet(server) -> None:
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, log


@pytest.mark.parametrize("cut", [0, 12], ids=["headers-only", "half-the-body"])
def test_a_client_that_leaves_while_sending_leaves_the_server_healthy(api, cut):
    send_raw(api, "/v1/analyze", {"texts": ["left while sending"]}, cut).close()
    status, answer = post(api, "/v1/analyze", {"text": "so happy after that"})
    assert status == 200 and answer["labels"] == ["joy"]
    assert health(api)["waiting"] == 0
    assert not any("left while sending" in texts for texts in asked(api))
    quiet(api)


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/analyze", lambda text: {"texts": [text]}),
    ("/v1/conversation", lambda text: {"turns": [{"speaker": "A", "text": text}]}),
], ids=["analyze-micro-batch", "conversation-pool"])
def test_queued_work_whose_client_left_is_never_done(api, path, body):
    first, leaving, staying = (f"{path} {who}, so happy" for who in ("first", "left while queued", "stayed"))
    with ThreadPoolExecutor(2) as clients, held(api):
        answered_first = clients.submit(post, api, path, body(first))
        wait_until(lambda: [first] in asked(api), "the first request holds the model")
        connection = send_raw(api, path, body(leaving))
        wait_until(lambda: health(api)["waiting"] == 1, "the leaving request queued")
        answered_staying = clients.submit(post, api, path, body(staying))
        wait_until(lambda: health(api)["waiting"] == 2, "the staying request queued behind it")
        connection.close()
        wait_until(lambda: health(api)["waiting"] == 1, "the request whose client left left the queue")
    assert answered_first.result()[0] == answered_staying.result()[0] == 200
    assert asked(api)[-2:] == [[first], [staying]]
    assert not any(leaving in texts for texts in asked(api))
    assert health(api)["waiting"] == 0
    quiet(api)


def test_a_running_request_whose_client_left_finishes_without_a_fuss(api):
    with held(api):
        connection = send_raw(api, "/v1/analyze", {"texts": ["left while scored"]})
        wait_until(lambda: ["left while scored"] in asked(api), "the request reached the model")
        connection.close()
    status, answer = post(api, "/v1/analyze", {"text": "so happy afterwards"})
    assert status == 200 and answer["labels"] == ["joy"] and health(api)["waiting"] == 0
    quiet(api)
