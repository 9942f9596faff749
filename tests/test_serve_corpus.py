"""Corpus jobs in affectlab serve, with a stand-in text model: upload, progress, summary, report and table;
refusals that name the field; files stored under generated names only; and a job killed with its server that
resumes when the server restarts, with every row exactly once."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("duckdb")

from affectlab.serve import Settings  # noqa: E402
from test_serve import FakeText, client, error, fake_models, wait_until  # noqa: E402

TESTS = Path(__file__).resolve().parent


def texts(rows: int) -> list[str]:
    return [f"so happy, day {i}" if i % 2 else f"what a grey day {i}" for i in range(rows)]


def posts_csv(rows: int) -> bytes:
    written = io.StringIO()
    table = csv.writer(written, lineterminator="\n")
    table.writerow(["id", "body", "when"])
    table.writerows([i, text, f"2024-0{1 + i % 3}-10"] for i, text in enumerate(texts(rows)))
    return written.getvalue().encode()


def settings(tmp_path: Path, **changes) -> Settings:
    return Settings(jobs_dir=tmp_path / "jobs", job_chunk_rows=10, **changes)


def finished(c, job_id: str) -> dict:
    found = {}

    def done() -> bool:
        found.update(c.get(f"/v1/corpus/{job_id}").json())
        return found["state"] in ("complete", "failed")

    wait_until(done, f"job {job_id} finished")
    return found


def test_a_csv_job_runs_to_a_summary_a_report_and_a_table(tmp_path):
    with client(settings(tmp_path)) as c:
        started = c.post("/v1/corpus", files={"file": ("posts.csv", posts_csv(25), "text/csv")},
                         data={"text_column": "body", "time_column": "when"})
        assert started.status_code == 202, started.text
        job = finished(c, started.json()["id"])
        report = c.get(job["report"])
        table = c.get(job["table"])
    assert started.json()["state"] in ("queued", "running") and started.json()["format"] == "csv"
    assert job["state"] == "complete", job["error"]
    assert job["summary"]["counts"]["rows"] == job["summary"]["counts"]["ok"] == 25
    assert job["progress"] == {"stage": "complete", "rows_done": 25, "rows_total": 25}
    assert job["summary"]["ekman_shares"] and job["summary"]["model"] == "text-minilm"
    assert report.status_code == 200 and "Emotion in the corpus" in report.text
    assert "sandbox" in report.headers["content-security-policy"] and str(tmp_path) not in report.text
    rows = pq.read_table(io.BytesIO(table.content)).to_pylist()
    assert [r["row"] for r in rows] == list(range(1, 26)) and {r["source"] for r in rows} == {"input.csv"}
    assert rows[1]["text"] == "so happy, day 1" and rows[1]["labels"] == ["joy"]
    assert table.headers["content-disposition"].endswith(f'affectlab-corpus-{job["id"]}.parquet"')


def test_an_upload_with_a_field_it_does_not_take_given_twice_or_empty_is_refused_by_name(tmp_path):
    csv = ("posts.csv", posts_csv(3), "text/csv")
    with client(settings(tmp_path)) as c:
        unknown = error(c.post("/v1/corpus", files={"file": csv}, data={"text_column": "body", "colour": "red"}), 422)
        twice = error(c.post("/v1/corpus", files=[("file", csv), ("file", csv)], data={"text_column": "body"}), 422)
        empty = error(c.post("/v1/corpus", files={"file": csv}, data={"text_column": ""}), 422)
        listed = c.get("/v1/corpus").json()
    assert unknown["field"] == "colour" and "unknown form field" in unknown["message"]
    assert twice["field"] == "file" and "2 times" in twice["message"]
    assert empty["field"] == "text_column" and "empty" in empty["message"]
    assert listed["total"] == 0  # nothing was queued


def test_a_parquet_upload_is_read_as_parquet(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ["so happy", "meh", None]}), buffer)
    with client(settings(tmp_path)) as c:
        started = c.post("/v1/corpus", files={"file": ("whatever.csv", buffer.getvalue())}).json()
        job = finished(c, started["id"])
    assert started["format"] == "parquet" and job["state"] == "complete"
    assert job["summary"]["counts"]["rows"] == 3 and job["summary"]["counts"]["skipped"] == 1


def test_the_upload_is_stored_under_generated_names_only(tmp_path):
    with client(settings(tmp_path)) as c:
        started = c.post("/v1/corpus", files={"file": ("../../escape.csv", b"text\nso happy\n")}).json()
        finished(c, started["id"])
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert not any("escape" in p for p in everything)
    stored = {p.name for p in (tmp_path / "jobs" / started["id"]).iterdir()}
    assert {"job.json", "input.csv", "results", "report.html", "scores.parquet"} <= stored
    assert stored <= {"job.json", "input.csv", "results", "report.html", "report-plots", "scores.parquet"}
    assert {p.split("/")[0] for p in everything} == {"jobs"}


@pytest.mark.parametrize(("files", "data", "status", "field"), [
    ({"file": ("p.csv", b"id,body\n1,hi\n")}, {}, 422, "text_column"),
    ({"file": ("p.csv", b"id,body\n1,hi\n")}, {"text_column": "body", "time_column": "when"}, 422, "time_column"),
    ({"file": ("p.csv", b"")}, {}, 422, "file"),
    ({"file": ("p.parquet", b"PAR1 not really")}, {}, 422, "file"),
    ({"file": ("p.parquet", b"garbage\x00\xff\x00" * 20)}, {}, 422, "file"),  # a Parquet file without its head
    ({"file": ("p.csv", "text\nso happy\n".encode("utf-16"))}, {}, 422, "file"),
    (None, {"text_column": "body"}, 422, "file"),
    ({"file": ("p.csv", b"text\n" + b"so happy\n" * 100)}, {}, 413, "body"),
])
def test_refusals_name_the_field(tmp_path, files, data, status, field):
    with client(settings(tmp_path, max_upload_bytes=600)) as c:
        found = error(c.post("/v1/corpus", files=files, data=data), status)
    assert found["field"] == field and found["message"]
    assert not list((tmp_path / "jobs").glob("*/job.json"))


def test_an_upload_without_a_length_is_cut_off_at_the_limit(tmp_path):
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n\r\ntext\n'
            + b"so happy\n" * 100 + b"\r\n--b--\r\n")
    with client(settings(tmp_path, max_upload_bytes=300)) as c:
        found = error(c.post("/v1/corpus", content=iter([body[:200], body[200:]]),
                             headers={"Content-Type": "multipart/form-data; boundary=b"}), 413)
    assert found["field"] == "body" and "300" in found["message"]


def test_unknown_ids_and_unfinished_jobs(tmp_path):
    gate = threading.Event()
    text = FakeText(gate)
    try:
        with client(settings(tmp_path, max_jobs_waiting=1), fake_models(text)) as c:
            assert error(c.get("/v1/corpus/" + "0" * 32), 404)["field"] == "id"
            assert error(c.get("/v1/corpus/..%2F..%2Fetc"), 404)["type"] == "not_found"
            running = c.post("/v1/corpus", files={"file": ("p.csv", b"text\nso happy\n")}).json()
            wait_until(text.started.is_set, "the first job reached the model")
            waiting = c.post("/v1/corpus", files={"file": ("p.csv", b"text\nso happy\n")}).json()
            refused = c.post("/v1/corpus", files={"file": ("p.csv", b"text\nso happy\n")})
            not_ready = error(c.get(f"/v1/corpus/{running['id']}/report"), 409)
            queued = c.get(f"/v1/corpus/{waiting['id']}").json()
            gate.set()
            assert finished(c, waiting["id"])["state"] == "complete"
    finally:
        gate.set()
    assert error(refused, 429)["type"] == "busy" and "retry-after" in refused.headers
    assert not_ready["type"] == "not_ready" and queued["state"] == "queued" and queued["position"] == 1


def test_corpus_jobs_need_the_token(tmp_path):
    token = "correct-horse-battery-staple"
    with client(settings(tmp_path, token=token)) as c:
        assert c.post("/v1/corpus", files={"file": ("p.csv", b"text\nhi\n")}).status_code == 401
        assert c.get("/v1/corpus/" + "0" * 32).status_code == 401


SERVER = """
import sys, time
from pathlib import Path
import uvicorn
sys.path.insert(0, {tests!r})
from test_serve import FakeText, fake_models
from affectlab.serve import Settings, create_app
from affectlab.serve.server import bind, url_of

class SlowText(FakeText):
    def analyze_batch(self, rows, explain=False, on_progress=None):
        time.sleep(0.1)
        return super().analyze_batch(rows, explain, on_progress)

settings = Settings(port=0, jobs_dir=Path(sys.argv[1]), job_chunk_rows=10)
sock = bind(settings)
app = create_app(settings, fake_models(SlowText()), on_ready=lambda: print(url_of(sock), flush=True))
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
"""


def _start_server(script: Path, jobs: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(script), str(jobs)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return process, process.stdout.readline().strip()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_a_job_killed_with_its_server_resumes_at_restart_with_every_row_once(tmp_path):
    script, jobs = tmp_path / "server.py", tmp_path / "jobs"
    script.write_text(SERVER.format(tests=str(TESTS)), encoding="utf-8")
    rows = 300
    process, url = _start_server(script, jobs)
    try:
        assert url.startswith("http://127.0.0.1:"), url
        boundary = "affectlab-test"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n\r\n'.encode()
                + posts_csv(rows) + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="text_column"'
                                    f'\r\n\r\nbody\r\n--{boundary}--\r\n'.encode())
        request = urllib.request.Request(f"{url}/v1/corpus", body,
                                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            job_id = json.loads(response.read())["id"]
        deadline = time.monotonic() + 60
        while (_get(f"{url}/v1/corpus/{job_id}").get("progress") or {}).get("rows_done", 0) < 50:
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    manifest = json.loads((jobs / job_id / "results" / "manifest.json").read_text())
    assert manifest["state"] == "running"  # killed: nothing was written on the way out

    process, url = _start_server(script, jobs)
    try:
        deadline = time.monotonic() + 60
        while (job := _get(f"{url}/v1/corpus/{job_id}"))["state"] != "complete":
            assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.05)
        with urllib.request.urlopen(f"{url}{job['table']}", timeout=30) as response:
            table = pq.read_table(io.BytesIO(response.read()))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()
    chunks = json.loads((jobs / job_id / "results" / "manifest.json").read_text())["chunks"]
    assert chunks["planned"] == 30 and chunks["already_done"] >= 5
    assert chunks["already_done"] + chunks["scored_now"] == chunks["planned"]
    assert table.column("row").to_pylist() == list(range(1, rows + 1))
    assert table.column("text").to_pylist() == texts(rows)
    assert job["summary"]["counts"]["rows"] == rows
