"""The life of a corpus job after it is accepted, with stand-in text models: deleting it (finished, queued, or
running, which stops after its batch and leaves no file), its expiry, the limits on jobs and bytes kept, and
that nothing a user uploaded goes before they delete it or it expires."""

from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")
pytest.importorskip("duckdb")

from affectlab.cli import app as cli  # noqa: E402
from affectlab.errors import OptionError  # noqa: E402
from affectlab.serve import Settings  # noqa: E402
from affectlab.serve.jobs import JobStore  # noqa: E402
from test_serve import TOKEN, FakeText, client, error, fake_models, wait_until  # noqa: E402
from test_serve_corpus import finished, posts_csv  # noqa: E402


class BatchedText(FakeText):
    """Scores two rows at a time and reports each batch, as the real analyzer does (``on_progress``); each batch
    takes ``pause_s``."""

    def __init__(self, gate: threading.Event | None = None, pause_s: float = 0.0) -> None:
        super().__init__(gate)
        self.pause_s = pause_s

    def analyze_batch(self, rows, explain=False, on_progress=None):
        results = []
        for start in range(0, len(rows), 2):
            time.sleep(self.pause_s)
            results += super().analyze_batch(rows[start:start + 2], explain)
            if on_progress is not None:
                on_progress(len(rows[start:start + 2]))
        return results


def settings(tmp_path: Path, **changes) -> Settings:
    return Settings(jobs_dir=tmp_path / "jobs", job_chunk_rows=10, **changes)


def upload(c, rows: int = 5, **headers):
    return c.post("/v1/corpus", files={"file": ("posts.csv", posts_csv(rows), "text/csv")},
                  data={"text_column": "body"}, headers=headers)


def stored(tmp_path: Path) -> set[str]:
    """Every file under the jobs folder, as paths relative to it (os.walk passes over folders removed meanwhile)."""
    jobs = tmp_path / "jobs"
    return {(Path(parent) / name).relative_to(jobs).as_posix() for parent, _, names in os.walk(jobs) for name in names}


def test_deleting_a_finished_job_removes_its_files_and_its_id_then_answers_410(tmp_path):
    with client(settings(tmp_path)) as c:
        kept = finished(c, upload(c).json()["id"])
        job = finished(c, upload(c).json()["id"])
        deleted = c.delete(f"/v1/corpus/{job['id']}")
        gone = [error(c.get(f"/v1/corpus/{job['id']}{tail}"), 410) for tail in ("", "/report", "/table")]
        again = error(c.delete(f"/v1/corpus/{job['id']}"), 410)
        other = c.get(f"/v1/corpus/{kept['id']}").json()
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"schema_version": 1, "id": job["id"], "was": "complete", "removed": True}
    assert all(g["type"] == "gone" and g["field"] == "id" and "was deleted at" in g["message"] for g in gone + [again])
    assert not (tmp_path / "jobs" / job["id"]).exists()
    assert {p for p in stored(tmp_path) if job["id"] in p} == {f".gone/{job['id']}.json"}  # only its tombstone
    assert other["state"] == "complete" and (tmp_path / "jobs" / kept["id"] / "scores.parquet").exists()


def test_deleting_a_queued_job_takes_it_out_of_the_queue_before_it_is_scored(tmp_path):
    gate = threading.Event()
    text = FakeText(gate)
    try:
        with client(settings(tmp_path), fake_models(text)) as c:
            running = upload(c, rows=3).json()
            wait_until(text.started.is_set, "the first job reached the model")
            queued = upload(c, rows=4).json()
            last = upload(c, rows=5).json()
            before = c.get(f"/v1/corpus/{last['id']}").json()["position"]
            deleted = c.delete(f"/v1/corpus/{queued['id']}").json()
            after = c.get(f"/v1/corpus/{last['id']}").json()["position"]
            gate.set()
            assert finished(c, last["id"])["state"] == finished(c, running["id"])["state"] == "complete"
    finally:
        gate.set()
    assert deleted == {"schema_version": 1, "id": queued["id"], "was": "queued", "removed": True}
    assert (before, after) == (2, 1)
    assert sorted(text.calls) == [3, 5]  # the deleted job's 4 rows never reached the model
    assert not (tmp_path / "jobs" / queued["id"]).exists()


def test_cancelling_a_running_job_stops_it_at_its_next_batch_and_leaves_no_file(tmp_path):
    text = BatchedText(pause_s=0.02)
    with client(settings(tmp_path), fake_models(text)) as c:
        job = upload(c, rows=400).json()
        wait_until(lambda: (c.get(f"/v1/corpus/{job['id']}").json()["progress"] or {}).get("rows_done", 0) >= 10,
                   "the job scored its first chunk")
        deleted = c.delete(f"/v1/corpus/{job['id']}")
        calls = len(text.calls)
        left = stored(tmp_path)
        status = error(c.get(f"/v1/corpus/{job['id']}"), 410)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"schema_version": 1, "id": job["id"], "was": "running", "removed": True}
    assert 5 <= calls < 200 and len(text.calls) == calls  # stopped part way; nothing scored after the answer
    assert left == {f".gone/{job['id']}.json"}  # no upload, no part file, whole or half
    assert "was deleted" in status["message"]


def test_a_running_job_whose_batch_outlasts_the_wait_is_answered_202_and_removed_when_it_ends(tmp_path):
    gate = threading.Event()
    text = BatchedText(gate)
    try:
        with client(settings(tmp_path, request_timeout_s=0.2), fake_models(text)) as c:
            job = upload(c, rows=30).json()
            wait_until(text.started.is_set, "the job reached the model")
            deleted = c.delete(f"/v1/corpus/{job['id']}")
            status = error(c.get(f"/v1/corpus/{job['id']}"), 410)  # already gone to its clients
            gate.set()
            wait_until(lambda: not (tmp_path / "jobs" / job["id"]).exists(), "its files were removed")
    finally:
        gate.set()
    assert deleted.status_code == 202 and deleted.json()["removed"] is False and deleted.json()["was"] == "running"
    assert "was deleted" in status["message"]
    assert text.calls == [2]  # the batch it was on, and no other
    assert stored(tmp_path) == {f".gone/{job['id']}.json"}


def test_deleting_an_unknown_id_is_a_404_and_removes_nothing(tmp_path):
    with client(settings(tmp_path)) as c:
        job = finished(c, upload(c).json()["id"])
        before = stored(tmp_path)
        unknown = [error(c.delete(f"/v1/corpus/{job_id}"), 404) for job_id in ("0" * 32, "not-a-job", job["id"][:-1])]
        outside = error(c.delete("/v1/corpus/..%2F..%2Fetc"), 404)
    assert all(u["message"] == "no corpus job with that id" and u["field"] == "id" for u in unknown)
    assert outside["type"] == "not_found" and stored(tmp_path) == before


def test_deleting_needs_the_token_and_a_refused_delete_keeps_the_job(tmp_path):
    with client(settings(tmp_path, token=TOKEN)) as c:
        job = upload(c, authorization=f"Bearer {TOKEN}").json()
        refused = c.delete(f"/v1/corpus/{job['id']}")
        wrong = c.delete(f"/v1/corpus/{job['id']}", headers={"authorization": "Bearer wrong-wrong-wrong-wrong"})
        assert c.get(f"/v1/corpus/{job['id']}", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        deleted = c.delete(f"/v1/corpus/{job['id']}", headers={"authorization": f"Bearer {TOKEN}"})
    assert error(refused, 401)["type"] == error(wrong, 401)["type"] == "unauthorized"
    assert deleted.status_code == 200


def test_a_finished_job_expires_on_the_sweep_without_being_asked_for(tmp_path):
    with client(settings(tmp_path, keep_jobs_s=0.3)) as c:
        job = upload(c).json()
        wait_until(lambda: stored(tmp_path) == {f".gone/{job['id']}.json"}, "the job expired and was removed")
        gone = error(c.get(f"/v1/corpus/{job['id']}"), 410)
    assert gone["type"] == "gone" and "expired at" in gone["message"] and "kept 0.3 seconds" in gone["message"]


def test_an_expired_job_asked_for_is_removed_then(tmp_path, monkeypatch):
    monkeypatch.setattr(Settings, "job_sweep_s", property(lambda self: 3600.0))  # no sweep during the test
    with client(settings(tmp_path, keep_jobs_s=3)) as c:
        job = finished(c, upload(c).json()["id"])
        assert (tmp_path / "jobs" / job["id"] / "scores.parquet").exists()
        wait_until(lambda: c.get(f"/v1/corpus/{job['id']}").status_code == 410, "the job expired")
        gone = error(c.get(f"/v1/corpus/{job['id']}/table"), 410)
    done = datetime.fromisoformat(job["finished"])
    assert datetime.fromisoformat(job["expires"]) == done + timedelta(seconds=3)
    assert gone["message"].startswith(f"the corpus job expired at {job['expires']} (finished jobs are kept 3 seconds)")
    assert not (tmp_path / "jobs" / job["id"]).exists()


def test_jobs_that_wait_or_run_past_the_keep_time_lose_nothing(tmp_path):
    gate = threading.Event()
    text = FakeText(gate)
    csv_bytes = posts_csv(12)
    try:
        with client(settings(tmp_path, keep_jobs_s=0.1), fake_models(text)) as c:
            running = upload(c, rows=12).json()
            wait_until(text.started.is_set, "the first job reached the model")
            queued = upload(c, rows=12).json()
            past = datetime.fromisoformat(queued["created"]) + timedelta(seconds=1.2)  # created is to the second
            wait_until(lambda: datetime.now(UTC) > past, "the keep time passed")
            c.app.state.service.store.sweep()
            states = [c.get(f"/v1/corpus/{job['id']}").json()["state"] for job in (running, queued)]
            inputs = [(tmp_path / "jobs" / job["id"] / "input.csv").read_bytes() for job in (running, queued)]
            gate.set()
            wait_until(lambda: f".gone/{queued['id']}.json" in stored(tmp_path), "the jobs finished, then expired")
    finally:
        gate.set()
    assert states == ["running", "queued"]
    assert inputs == [csv_bytes, csv_bytes]
    assert sorted(text.calls) == [2, 2, 10, 10]  # both scored in full (chunks of 10 rows) before they expired


def test_a_full_server_refuses_new_jobs_and_keeps_every_old_one(tmp_path):
    with client(settings(tmp_path, max_jobs=2)) as c:
        first, second = (finished(c, upload(c, rows=3 + i).json()["id"]) for i in range(2))
        before = stored(tmp_path)
        refused = upload(c)
        after = stored(tmp_path)
        tables = [c.get(job["table"]).status_code for job in (first, second)]
        c.delete(f"/v1/corpus/{first['id']}")
        accepted = upload(c)
    found = error(refused, 507)
    assert found["type"] == "insufficient_storage" and found["field"] is None
    assert "at most 2 jobs and holds 2" in found["message"] and "DELETE /v1/corpus/{id}" in found["message"]
    assert "wait for them to expire" in found["message"]
    assert before == after and tables == [200, 200]  # nothing removed to make room, nothing of the refused kept
    assert accepted.status_code == 202  # room again once a job is deleted


def test_the_byte_limit_counts_every_file_of_the_jobs(tmp_path):
    with client(settings(tmp_path, max_jobs_bytes=2000, keep_jobs_s=None)) as c:
        too_big = upload(c, rows=200)  # over the limit on its own
        job = finished(c, upload(c, rows=3).json()["id"])  # small, but its results and report take far more
        refused = upload(c, rows=3)
    big, full = error(too_big, 507), error(refused, 507)
    assert "over the limit of 2,000" in big["message"] and "over the limit of 2,000" in full["message"]
    assert "expire" not in full["message"]  # this server keeps jobs until deleted
    assert job["expires"] is None and {p.split("/")[0] for p in stored(tmp_path)} == {job["id"]}


def test_a_full_disk_is_a_507_and_leaves_nothing(tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with client(settings(tmp_path)) as c:
        monkeypatch.setattr(shutil, "copyfileobj", no_space)
        refused = upload(c)
    found = error(refused, 507)
    assert "disk of the jobs folder is full" in found["message"] and str(tmp_path) not in found["message"]
    assert stored(tmp_path) == set()


def test_removals_and_uploads_cut_short_are_cleared_at_start_and_never_resumed(tmp_path):
    store = JobStore(tmp_path / "jobs")
    table = tmp_path / "posts.csv"
    table.write_bytes(posts_csv(3))
    with table.open("rb") as one, table.open("rb") as other:
        doomed, kept = store.create(one, text_column="body"), store.create(other, text_column="body")
    store.bury(doomed.id, "deleted")  # the server stopped before it removed the folder
    cut_short = tmp_path / "jobs" / ("f" * 32)  # an upload the server was receiving when it stopped
    cut_short.mkdir()
    (cut_short / "input.csv").write_bytes(posts_csv(3)[:20])
    text = FakeText()
    with client(settings(tmp_path), fake_models(text)) as c:
        assert finished(c, kept.id)["state"] == "complete"
        gone = error(c.get(f"/v1/corpus/{doomed.id}"), 410)
    assert not doomed.folder.exists() and not cut_short.exists() and kept.input.exists()
    assert text.calls == [3] and "was deleted" in gone["message"]


@pytest.mark.parametrize("changes", [{"keep_jobs_s": 0}, {"keep_jobs_s": -1.0}, {"keep_jobs_s": float("inf")},
                                     {"max_jobs": 0}, {"max_jobs_bytes": 0}])
def test_retention_settings_are_checked(changes):
    with pytest.raises(OptionError, match=next(iter(changes))):
        Settings(**changes).check()


@pytest.mark.parametrize("hours", ["-1", "nan", "100000"])
def test_the_cli_refuses_a_keep_time_that_is_not_one(hours):
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--keep-jobs-hours", hours])
    assert result.exit_code == 2 and "--keep-jobs-hours must be between 0 (keep until deleted)" in result.output


def test_the_schema_documents_deleting_a_job(tmp_path):
    with client(settings(tmp_path)) as c:
        schema = c.get("/openapi.json").json()
    delete = schema["paths"]["/v1/corpus/{job_id}"]["delete"]
    assert {"200", "202", "404", "410"} <= set(delete["responses"])
    assert delete["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DeletedJob")
    assert {"finished", "expires"} <= set(schema["components"]["schemas"]["CorpusJob"]["properties"])
    assert "507" in schema["paths"]["/v1/corpus"]["post"]["responses"]


def test_the_deletes_of_many_clients_at_once_each_get_one_answer(tmp_path):
    with client(settings(tmp_path)) as c:
        job = finished(c, upload(c).json()["id"])
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(pool.map(lambda _: c.delete(f"/v1/corpus/{job['id']}").status_code, range(4)))
    assert codes[0] == 200 and set(codes) <= {200, 410}
    assert stored(tmp_path) == {f".gone/{job['id']}.json"}
