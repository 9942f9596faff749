"""Corpus jobs on disk: one folder per job under the jobs folder, every name in it generated here (the client's
file name is never used, so an upload cannot choose where it lands or what it overwrites).

A job folder holds ``job.json`` (its settings and state), ``input.csv`` or ``input.parquet`` (the upload),
``results/`` (the corpus run: manifest, scored parts, aggregates), and once complete ``report.html`` and
``scores.parquet`` (every scored row, in input order). States: ``queued`` → ``running`` → ``complete`` or
``failed``; a job found ``queued`` or ``running`` when the server starts runs (again) and resumes.

>>> store = JobStore(Path("~/.cache/affectlab/jobs").expanduser())
>>> job = store.create(upload, text_column="body")          # blocking: call it off the event loop
>>> store.get(job.id).state
'queued'
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from affectlab.corpus import CorpusJob
from affectlab.io.readers import InputFileError, table_columns
from affectlab.io.writers import atomic_write_text
from affectlab.serve.errors import ApiError

JOB_ID = re.compile(r"[0-9a-f]{32}")
RECORD = "job.json"
PARQUET_MAGIC = b"PAR1"
UNFINISHED = ("queued", "running")


class JobNotFound(ApiError):
    def __init__(self) -> None:
        super().__init__(404, "not_found", "no corpus job with that id", field="id")


@dataclass
class Job:
    """One corpus job as ``job.json`` records it; ``summary`` is set when it completes, ``error`` when it fails."""

    id: str
    folder: Path
    format: str
    bytes: int
    text_column: str
    time_column: str | None = None
    group_column: str | None = None
    created: str = ""
    state: str = "queued"
    error: str | None = None
    summary: dict | None = field(default=None)

    @property
    def input(self) -> Path:
        return self.folder / f"input.{self.format}"

    @property
    def results(self) -> Path:
        return self.folder / "results"

    @property
    def report(self) -> Path:
        return self.folder / "report.html"

    @property
    def table(self) -> Path:
        return self.folder / "scores.parquet"

    def corpus_job(self, *, model: str, runtime: str, batch_size: int, chunk_rows: int) -> CorpusJob:
        """The corpus runner's job; the same on every run of this job, so that a re-run resumes."""
        return CorpusJob([str(self.input)], str(self.results), self.text_column, self.time_column, self.group_column,
                         chunk_rows=chunk_rows, model=model, runtime=runtime, batch_size=batch_size)

    def public(self, text: str) -> str:
        """``text`` (an error, a report) without this server's folders: ``/srv/jobs/<id>/input.csv`` → ``input.csv``."""
        return text.replace(f"{self.folder}/", "").replace(str(self.folder), "")

    def save(self) -> None:
        record = {k: v for k, v in asdict(self).items() if k != "folder"}
        atomic_write_text(self.folder / RECORD, json.dumps(record, indent=2) + "\n")


class JobStore:
    """The jobs folder ``root`` (created on the first upload)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def create(self, upload: BinaryIO, *, text_column: str, time_column: str | None = None,
               group_column: str | None = None) -> Job:
        """A new ``queued`` job holding a copy of ``upload`` (CSV, or Parquet by its magic bytes), once its columns
        are found in it; else :class:`ApiError` 422 naming the form field, and nothing is kept."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        try:
            head = upload.read(len(PARQUET_MAGIC))
            job = Job(job_id, folder, "parquet" if head == PARQUET_MAGIC else "csv", 0, text_column, time_column,
                      group_column, created=datetime.now(UTC).isoformat(timespec="seconds"))
            with job.input.open("wb") as copy:
                copy.write(head)
                shutil.copyfileobj(upload, copy, 1 << 20)
            job.bytes = job.input.stat().st_size
            _check_columns(job)
            job.save()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return job

    def get(self, job_id: str) -> Job:
        """The job with that id, or :class:`JobNotFound` (404), also for an id that could not be one."""
        if not JOB_ID.fullmatch(job_id):
            raise JobNotFound()
        folder = self.root / job_id
        try:
            record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise JobNotFound() from None
        return Job(folder=folder, **record)

    def unfinished(self) -> list[Job]:
        """Jobs ``queued`` or ``running`` (a server stopped or killed during them), oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            try:
                job = self.get(folder.name)
            except JobNotFound:
                continue  # not a job folder, or one whose upload never completed
            if job.state in UNFINISHED:
                found.append(job)
        return sorted(found, key=lambda job: (job.created, job.id))


def _check_columns(job: Job) -> None:
    if not job.bytes:
        raise ApiError(422, "invalid_request", "the uploaded file is empty", field="file")
    try:
        columns = table_columns(job.input)
    except InputFileError as exc:
        raise ApiError(422, "invalid_file", f"not a readable CSV or Parquet table: {job.public(str(exc))}",
                       field="file") from None
    for name in ("text_column", "time_column", "group_column"):
        column = getattr(job, name)
        if column is not None and column not in columns:
            shown = ", ".join(map(repr, columns[:20])) + (", ..." if len(columns) > 20 else "")
            raise ApiError(422, "invalid_request", f"no column {column!r} in the table; its columns are: {shown}",
                           field=name)
