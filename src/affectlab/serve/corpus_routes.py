"""Corpus jobs over HTTP: upload a table, follow the job, fetch its report and its scored rows.

The upload is a multipart form (``file``, and ``text_column``, ``time_column``, ``group_column``); it streams to
a job folder of generated names (:mod:`affectlab.serve.jobs`), and the job queues for the one job worker
(:mod:`affectlab.serve.job_runner`).

    curl -F file=@posts.csv -F text_column=body localhost:8000/v1/corpus        # → {"id": "…", "state": "queued"}
    curl 'localhost:8000/v1/corpus?state=running&limit=20'                      # the jobs kept, newest first
    curl localhost:8000/v1/corpus/<id>                                          # progress, then the summary
    curl -o report.html localhost:8000/v1/corpus/<id>/report
    curl -X DELETE localhost:8000/v1/corpus/<id>                                # stops it if it runs; removes it
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.security import HTTPBearer

from affectlab.serve import schemas
from affectlab.serve.errors import ApiError
from affectlab.serve.job_listing import DEFAULT_LIMIT, MAX_LIMIT, page
from affectlab.serve.job_retention import stamp
from affectlab.serve.jobs import Job
from affectlab.serve.routes import ServiceDep
from affectlab.serve.service import Service

corpus = APIRouter(prefix="/v1/corpus", dependencies=[Depends(HTTPBearer(auto_error=False))])

# the report is the corpus runner's own page: inline styles and plots as data: images, no scripts; sandboxed, so
# that even a page with an injection could not act as this origin
REPORT_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                 "base-uri 'none'; form-action 'none'; sandbox")
COLUMN_CHARS = 200
GONE = {410: {"description": "the job was deleted, or expired (the message says which, and when)"}}
UNKNOWN = {404: {"description": "no job with that id"}, **GONE}


def _column(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > COLUMN_CHARS or not value.strip():
        raise ApiError(422, "invalid_request", f"a column name of 1 to {COLUMN_CHARS} characters", field=name)
    return value


FORM_FIELDS = ("file", "text_column", "time_column", "group_column")


def _check_form(form) -> None:
    """Refuse a field the upload does not take (as the JSON endpoints refuse unknown keys) and a field given twice
    (which file, or which column, was meant would be a guess)."""
    for name in form:
        if name not in FORM_FIELDS:
            raise ApiError(422, "invalid_request", f"unknown form field {name!r}; the fields are "
                           f"{', '.join(FORM_FIELDS)}", field=name)
        if len(form.getlist(name)) > 1:
            raise ApiError(422, "invalid_request", f"{name} is given {len(form.getlist(name))} times; give it once",
                           field=name)


def status(job: Job, service: Service) -> dict:
    """What ``GET /v1/corpus/{id}`` answers for ``job``."""
    done = job.state == "complete"
    expires = job.expires(service.store.keep_s)
    counts = (job.summary or {}).get("counts", {})
    progress = service.jobs.progress(job.id) if job.state == "running" else None
    if progress is None and done:
        progress = {"stage": "complete", "rows_done": counts.get("rows", 0), "rows_total": counts.get("rows", 0)}
    return {"schema_version": schemas.SCHEMA_VERSION, "id": job.id, "state": job.state, "created": job.created,
            "finished": job.finished, "expires": expires and stamp(expires),
            "format": job.format, "bytes": job.bytes, "text_column": job.text_column,
            "time_column": job.time_column, "group_column": job.group_column,
            "position": service.jobs.position(job.id) if job.state == "queued" else None,
            "progress": progress, "error": job.error, "summary": job.summary if done else None,
            "report": f"/v1/corpus/{job.id}/report" if done else None,
            "table": f"/v1/corpus/{job.id}/table" if done else None}


def listed(job: Job, service: Service) -> dict:
    """What ``GET /v1/corpus`` tells of ``job``: its state, times, rows and what it has to fetch."""
    done = job.state == "complete"
    expires = job.expires(service.store.keep_s)
    progress = service.jobs.progress(job.id) if job.state == "running" else None
    rows = (job.summary or {}).get("counts", {}).get("rows") if done else None
    if progress is not None:
        rows_done, rows_total = progress["rows_done"], progress["rows_total"]
    else:
        rows_done, rows_total = {"complete": (rows, rows), "failed": (None, None)}.get(job.state, (0, None))
    return {"id": job.id, "state": job.state, "created": job.created, "finished": job.finished,
            "expires": expires and stamp(expires), "rows_done": rows_done,
            "rows_total": rows_total, "error": job.error,
            "report": f"/v1/corpus/{job.id}/report" if done else None,
            "table": f"/v1/corpus/{job.id}/table" if done else None}


@corpus.get("", response_model=schemas.JobList)
async def list_corpus(
    service: ServiceDep,
    state: Annotated[list[Literal["queued", "running", "complete", "failed"]] | None, Query(
        description="only jobs in this state (repeat it for several)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="jobs per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the page before")] = None,
) -> dict:
    """The corpus jobs this server keeps, newest first, a page at a time: each with its state, times, rows scored
    and, once complete, the paths of its report and table."""
    jobs = await asyncio.to_thread(service.store.jobs)
    found = page(jobs, states=set(state or ()), limit=limit, cursor=cursor)
    return {"schema_version": schemas.SCHEMA_VERSION, "jobs": [listed(job, service) for job in found.jobs],
            "total": found.total, "next_cursor": found.next_cursor}


def _complete(job_id: str, service: Service) -> Job:
    job = service.store.get(job_id)
    if job.state != "complete":
        raise ApiError(409, "not_ready", f"the job is not complete (state: {job.state})", field="id")
    return job


@corpus.post("", status_code=202, response_model=schemas.CorpusJob,
          responses={413: {"description": "the upload is over the limit"},
                     429: {"description": "too many jobs wait already"},
                     507: {"description": "the server holds as many jobs, or bytes of them, as it may keep"}})
async def submit_corpus(
    request: Request,
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="the table: CSV (UTF-8, with a header) or Parquet")],
    text_column: Annotated[str, Form(description="the column holding the texts")] = "text",
    time_column: Annotated[str | None, Form(description="a column of post times, for the report's plots over "
                                                        "time")] = None,
    group_column: Annotated[str | None, Form(description="a column to compare groups by")] = None,
) -> dict:
    """Queue a corpus job over the uploaded table: every row scored by the text model, aggregated, reported.
    Jobs run one at a time; follow this one at ``GET /v1/corpus/{id}``."""
    form = await request.form()
    _check_form(form)
    if form.get("text_column") == "":  # FastAPI reads an empty form field as one left out
        raise ApiError(422, "invalid_request", "text_column is empty; leave it out for the column `text`",
                       field="text_column")
    columns = {"text_column": _column("text_column", text_column),
               "time_column": _column("time_column", time_column),
               "group_column": _column("group_column", group_column)}
    service.jobs.admit()
    job = await asyncio.to_thread(service.store.create, file.file, **columns)
    service.jobs.submit(job)
    return status(job, service)


@corpus.get("/{job_id}", response_model=schemas.CorpusJob, responses=UNKNOWN)
async def corpus_status(job_id: str, service: ServiceDep) -> dict:
    """A job's state; while it runs, its progress; once complete, its summary and the paths of its report and
    table; once finished, when it expires."""
    return status(await asyncio.to_thread(service.store.get, job_id), service)


@corpus.delete("/{job_id}", response_model=schemas.DeletedJob,
               responses={**UNKNOWN, 202: {"model": schemas.DeletedJob,
                                           "description": "a running job is stopping; its files go when it stops"}})
async def delete_corpus(job_id: str, service: ServiceDep, response: Response) -> dict:
    """Delete a job and every file of it (its upload, results, report and table). A queued job leaves the queue; a
    running one stops after the batch it is scoring, and its partial results go with it. From then on its id
    answers 410."""
    job = await asyncio.to_thread(service.store.get, job_id)
    removed = await asyncio.to_thread(service.jobs.delete, job, service.settings.request_timeout_s)
    if not removed:
        response.status_code = 202
    return {"schema_version": schemas.SCHEMA_VERSION, "id": job.id, "was": job.state, "removed": removed}


@corpus.get("/{job_id}/report", response_class=HTMLResponse,
         responses={409: {"description": "the job is not complete"}, **UNKNOWN})
async def corpus_report(job_id: str, service: ServiceDep) -> FileResponse:
    """The job's report: one self-contained HTML page (plots inlined)."""
    job = await asyncio.to_thread(_complete, job_id, service)
    return FileResponse(job.report, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": REPORT_POLICY})


@corpus.get("/{job_id}/table", response_class=FileResponse,
         responses={200: {"content": {"application/vnd.apache.parquet": {}}},
                    409: {"description": "the job is not complete"}, **UNKNOWN})
async def corpus_table(job_id: str, service: ServiceDep) -> FileResponse:
    """Every row of the upload with its scores (the corpus runner's columns), in input order, as Parquet."""
    job = await asyncio.to_thread(_complete, job_id, service)
    return FileResponse(job.table, media_type="application/vnd.apache.parquet",
                        filename=f"affectlab-corpus-{job.id}.parquet")
