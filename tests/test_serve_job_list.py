"""GET /v1/corpus, the list of corpus jobs, with stand-in text models: newest first, with each job's state, times,
rows and links; pages by cursor that neither skip nor repeat a job when jobs come and go between them; the state
filter; refusals that name the parameter; the token; no server path in it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("duckdb")

from affectlab.serve import Settings  # noqa: E402
from affectlab.serve.job_listing import decode_cursor, encode_cursor, page  # noqa: E402
from affectlab.serve.jobs import Job  # noqa: E402
from test_serve import TOKEN, FakeText, client, error, fake_models, wait_until  # noqa: E402
from test_serve_corpus import finished, posts_csv  # noqa: E402


def settings(tmp_path: Path, **changes) -> Settings:
    return Settings(jobs_dir=tmp_path / "jobs", job_chunk_rows=10, **changes)


def upload(c, rows: int, **headers) -> str:
    answer = c.post("/v1/corpus", files={"file": ("posts.csv", posts_csv(rows), "text/csv")},
                    data={"text_column": "body"}, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def listed(c, **params) -> dict:
    answer = c.get("/v1/corpus", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def every_page(c, cursor: str | None = None, **params) -> list[str]:
    """The ids on every page from ``cursor`` (from the first page when None) to the last."""
    ids = []
    while True:
        found = listed(c, **params, **({"cursor": cursor} if cursor else {}))
        ids += [job["id"] for job in found["jobs"]]
        if (cursor := found["next_cursor"]) is None:
            return ids


def job(job_id: str, created: str, state: str = "complete") -> Job:
    return Job(job_id, Path("/srv/jobs") / job_id, "csv", 1, "text", created=created, state=state)


def test_the_list_is_newest_first_with_each_jobs_state_rows_and_links_and_no_server_path(tmp_path):
    with client(settings(tmp_path)) as c:
        ids = [upload(c, rows) for rows in (3, 4, 5)]
        jobs = {job_id: finished(c, job_id) for job_id in ids}
        found = listed(c)
        text = c.get("/v1/corpus").text
    newest_first = sorted(ids, key=lambda i: (jobs[i]["created"], i), reverse=True)
    assert [j["id"] for j in found["jobs"]] == newest_first
    assert found["total"] == 3 and found["next_cursor"] is None and found["schema_version"] == 1
    first = found["jobs"][0]
    status = jobs[first["id"]]
    assert set(first) == {"id", "state", "created", "finished", "expires", "rows_done", "rows_total", "error",
                          "report", "table"}
    assert {k: first[k] for k in ("state", "created", "finished", "expires", "report", "table")} == {
        k: status[k] for k in ("state", "created", "finished", "expires", "report", "table")}
    assert first["rows_done"] == first["rows_total"] == status["summary"]["counts"]["rows"]
    assert str(tmp_path) not in text and "input.csv" not in text


def test_pages_follow_the_cursor_and_neither_skip_nor_repeat_when_jobs_come_and_go(tmp_path):
    with client(settings(tmp_path)) as c:
        ids = [upload(c, 2) for _ in range(5)]
        for job_id in ids:
            finished(c, job_id)
        whole = every_page(c)
        first = listed(c, limit=2)
        c.delete(f"/v1/corpus/{first['jobs'][1]['id']}")  # the page's last job: its cursor still holds
        newer = upload(c, 2)  # newer than any: it belongs before the pages already read
        rest = every_page(c, first["next_cursor"], limit=2)
        again = listed(c, limit=50)
    assert sorted(whole) == sorted(ids) and len(set(whole)) == 5
    assert [j["id"] for j in first["jobs"]] == whole[:2] and first["total"] == 5
    assert rest == whole[2:] and newer not in rest
    assert again["jobs"][0]["id"] == newer and again["total"] == 5


def test_the_state_filter_lists_only_jobs_in_those_states(tmp_path):
    gate = threading.Event()
    text = FakeText(gate)
    try:
        with client(settings(tmp_path), fake_models(text)) as c:
            running = upload(c, 3)
            wait_until(text.started.is_set, "the first job reached the model")
            queued = upload(c, 4)
            running_now = listed(c, state="running")
            waiting = listed(c, state=["queued", "running"])
            done = listed(c, state="complete")
            gate.set()
            finished(c, queued)
            complete = listed(c, state="complete")
    finally:
        gate.set()
    assert [j["id"] for j in running_now["jobs"]] == [running] and running_now["jobs"][0]["state"] == "running"
    assert sorted(j["id"] for j in waiting["jobs"]) == sorted([running, queued]) and waiting["total"] == 2
    shown_queued = next(j for j in waiting["jobs"] if j["id"] == queued)
    assert (shown_queued["state"], shown_queued["rows_done"], shown_queued["rows_total"]) == ("queued", 0, None)
    assert done["jobs"] == [] and done["total"] == 0 and done["next_cursor"] is None
    assert sorted(j["id"] for j in complete["jobs"]) == sorted([running, queued])


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "ten"}, "limit"),
    ({"state": "done"}, "state[0]"), ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": encode_cursor(job("no-hex-id", "2026-01-01T00:00:00+00:00"))}, "cursor"),
    ({"cursor": "x" * 201}, "cursor"),
])
def test_a_bad_parameter_is_a_422_that_names_it(tmp_path, params, field):
    with client(settings(tmp_path)) as c:
        refused = error(c.get("/v1/corpus", params=params), 422)
    assert refused["type"] == "invalid_request" and refused["field"] == field


def test_with_a_token_the_list_needs_it(tmp_path):
    with client(settings(tmp_path, token=TOKEN)) as c:
        upload(c, 2, Authorization=f"Bearer {TOKEN}")
        missing = c.get("/v1/corpus")
        right = c.get("/v1/corpus", headers={"Authorization": f"Bearer {TOKEN}"})
    assert error(missing, 401)["type"] == "unauthorized" and "jobs" not in missing.json()
    assert right.status_code == 200 and right.json()["total"] == 1


def test_an_expired_job_is_not_listed(tmp_path):
    with client(settings(tmp_path, keep_jobs_s=0.5)) as c:
        job_id = upload(c, 2)
        before = listed(c)["jobs"]
        wait_until(lambda: listed(c)["total"] == 0, "the job finished, expired and left the list")
        gone = error(c.get(f"/v1/corpus/{job_id}"), 410)
    assert [j["id"] for j in before] == [job_id] and "expired" in gone["message"]


def test_page_orders_by_creation_then_id_and_its_cursor_names_the_last_job_shown():
    jobs = [job("a" * 32, "2026-01-01T10:00:00+00:00"), job("b" * 32, "2026-01-01T10:00:00+00:00"),
            job("c" * 32, "2026-01-02T09:00:00+00:00", state="failed"), job("d" * 32, "2025-12-31T23:59:59+00:00")]
    first = page(jobs, states=set(), limit=2, cursor=None)
    second = page(jobs, states=set(), limit=2, cursor=first.next_cursor)
    failed = page(jobs, states={"failed"}, limit=2, cursor=None)
    assert [j.id[0] for j in first.jobs] == ["c", "b"] and decode_cursor(first.next_cursor) == (jobs[1].created,
                                                                                               "b" * 32)
    assert [j.id[0] for j in second.jobs] == ["a", "d"] and second.next_cursor is None and second.total == 4
    assert [j.id[0] for j in failed.jobs] == ["c"] and failed.total == 1 and failed.next_cursor is None
