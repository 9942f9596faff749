"""Corpus jobs on disk: one folder per job under the jobs folder, every name in it generated here (the client's
file name is never used, so an upload cannot choose where it lands or what it overwrites).

A job folder holds ``job.json`` (its settings and state), ``input.csv`` or ``input.parquet`` (the upload),
``results/`` (the corpus run: manifest, scored parts, aggregates), and once complete ``report.html`` and
``scores.parquet`` (every scored row, in input order). States: ``queued`` → ``running`` → ``complete`` or
``failed``; a job found ``queued`` or ``running`` when the server starts runs (again) and resumes.

A job stays until it is removed (:meth:`JobStore.remove`), or until ``keep_s`` after it finished (complete or
failed): then it expires, on the next :meth:`JobStore.sweep` or when it is next asked for, whichever comes
first. A job that is queued or running never expires. The store refuses a new upload (507) rather than make
room: it removes nothing that has not expired. How removal works: :mod:`affectlab.serve.job_retention`.

>>> store = JobStore(Path("~/.cache/affectlab/jobs").expanduser(), keep_s=7 * 86400, max_jobs=100)
>>> job = store.create(upload, text_column="body")          # blocking: call it off the event loop
>>> store.get(job.id).state
'queued'
>>> store.remove(job.id, "deleted")                          # store.get(job.id) now raises JobGone (410)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from affectlab.corpus import CorpusJob
from affectlab.io.readers import InputFileError, table_columns
from affectlab.io.writers import atomic_write_text
from affectlab.serve.errors import ApiError
from affectlab.serve.job_retention import (
    JobGone,
    StorageFull,
    bury,
    discard,
    disk_full,
    empty_trash,
    is_buried,
    now,
    stamp,
    sweep_tombstones,
    tombstone,
    tree_bytes,
)

JOB_ID = re.compile(r"[0-9a-f]{32}")
RECORD = "job.json"
PARQUET_MAGIC = b"PAR1"
UNFINISHED = ("queued", "running")
FINISHED = ("complete", "failed")


class JobNotFound(ApiError):
    def __init__(self) -> None:
        super().__init__(404, "not_found", "no corpus job with that id", field="id")


@dataclass
class Job:
    """One corpus job as ``job.json`` records it; ``summary`` is set when it completes, ``error`` when it fails,
    ``finished`` when it does either."""

    id: str
    folder: Path
    format: str
    bytes: int
    text_column: str
    time_column: str | None = None
    group_column: str | None = None
    created: str = ""
    finished: str | None = None
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

    def expires(self, keep_s: float | None) -> datetime | None:
        """When a finished job expires (None: it has not finished, or jobs are kept until deleted)."""
        if self.state not in FINISHED or keep_s is None:
            return None
        return datetime.fromisoformat(self.finished or self.created) + timedelta(seconds=keep_s)

    def corpus_job(self, *, model: str, runtime: str, chunk_rows: int) -> CorpusJob:
        """The corpus runner's job (texts through the network as ``affectlab corpus`` runs them); the same on every
        run of this job, so that a re-run resumes."""
        return CorpusJob([str(self.input)], str(self.results), self.text_column, self.time_column, self.group_column,
                         chunk_rows=chunk_rows, model=model, runtime=runtime)

    def public(self, text: str) -> str:
        """``text`` (an error, a report) without this server's folders: ``/srv/jobs/<id>/input.csv`` → ``input.csv``."""
        return text.replace(f"{self.folder}/", "").replace(str(self.folder), "")

    def save(self) -> None:
        record = {k: v for k, v in asdict(self).items() if k != "folder"}
        atomic_write_text(self.folder / RECORD, json.dumps(record, indent=2) + "\n")


class JobStore:
    """The jobs folder ``root`` (created on the first upload). ``keep_s``: how long a finished job is kept (None:
    until it is removed); ``max_jobs`` and ``max_bytes``: how many jobs, and how many bytes in all, it holds at most
    (None: no limit; a new upload past either is refused with :class:`StorageFull`)."""

    def __init__(self, root: Path, *, keep_s: float | None = None, max_jobs: int | None = None,
                 max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.keep_s, self.max_jobs, self.max_bytes = keep_s, max_jobs, max_bytes
        self._room = threading.Lock()  # an upload checks for room and takes it before the next one checks

    def create(self, upload: BinaryIO, *, text_column: str, time_column: str | None = None,
               group_column: str | None = None) -> Job:
        """A new ``queued`` job holding a copy of ``upload`` (CSV, or Parquet by its magic bytes), once its columns
        are found in it; else :class:`ApiError` 422 naming the form field, or :class:`StorageFull` 507, and nothing
        is kept."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        try:
            with self._room:
                self._check_room(_size(upload) or 0)
                folder.mkdir(mode=0o700)
            head = upload.read(len(PARQUET_MAGIC))
            job = Job(job_id, folder, "parquet" if head == PARQUET_MAGIC else "csv", 0, text_column, time_column,
                      group_column, created=stamp(now()))
            with job.input.open("wb") as copy:
                copy.write(head)
                shutil.copyfileobj(upload, copy, 1 << 20)
            job.bytes = job.input.stat().st_size
            _check_columns(job)
            with self._room:
                self._check_room(0, own=folder)  # uploads stored meanwhile count now
                job.save()
        except BaseException as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if disk_full(exc):
                raise StorageFull("the disk of the jobs folder is full", self.keep_s is not None) from None
            raise
        return job

    def get(self, job_id: str) -> Job:
        """The job with that id; :class:`JobGone` (410) for one removed or expired (an expired one is removed
        now), :class:`JobNotFound` (404) for any other id, also one that could not be a job's."""
        if not JOB_ID.fullmatch(job_id):
            raise JobNotFound()
        if (grave := tombstone(self.root, job_id)) is not None:
            raise JobGone(grave)  # removed, or being removed (a running job stopping)
        folder = self.root / job_id
        try:
            job = Job(folder=folder, **json.loads((folder / RECORD).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, TypeError):  # TypeError: a record that is not a job's
            grave = tombstone(self.root, job_id)  # removed meanwhile
            raise (JobGone(grave) if grave is not None else JobNotFound()) from None
        expires = job.expires(self.keep_s)
        if expires is not None and now() >= expires:
            self.remove(job_id, "expired", at=expires)
            raise JobGone(tombstone(self.root, job_id))
        return job

    def remove(self, job_id: str, reason: str, at: datetime | None = None) -> None:
        """Remove the job: :meth:`bury`, then :meth:`discard`. Not for a running job, whose worker writes in its
        folder (see :meth:`JobRunner.delete`)."""
        self.bury(job_id, reason, at)
        self.discard(job_id)

    def bury(self, job_id: str, reason: str, at: datetime | None = None) -> None:
        """Write the job's tombstone (``reason``: deleted or expired; ``at``: when, default now): from now on it
        answers :class:`JobGone`."""
        bury(self.root, job_id, reason, self.keep_s if reason == "expired" else None, at)

    def discard(self, job_id: str) -> None:
        """Remove the job's folder (atomically, as far as any reader can tell)."""
        discard(self.root, job_id)

    def jobs(self) -> list[Job]:
        """Every job kept (an expired one is removed now, and left out), oldest first (by creation, then id)."""
        found = []
        for folder in self._folders():
            try:
                found.append(self.get(folder.name))
            except (JobNotFound, JobGone):
                continue  # one whose upload never completed, or that has just expired
        return sorted(found, key=lambda job: (job.created, job.id))

    def unfinished(self) -> list[Job]:
        """Jobs ``queued`` or ``running`` (a server stopped or killed during them), oldest first."""
        return [job for job in self.jobs() if job.state in UNFINISHED]

    def sweep(self) -> None:
        """Remove the jobs that have expired, the tombstones past their time, and what removals left behind."""
        for folder in self._folders():
            try:
                self.get(folder.name)  # removes it if it has expired
            except (JobNotFound, JobGone):
                continue
        sweep_tombstones(self.root, now())
        empty_trash(self.root)

    def recover(self) -> None:
        """At start, before any job runs or any upload arrives: finish the removals a stopped server left half
        done, remove the uploads it was still receiving (folders without a record), then sweep."""
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if JOB_ID.fullmatch(folder.name) and (is_buried(self.root, folder.name)
                                                      or not (folder / RECORD).exists()):
                    discard(self.root, folder.name)
        self.sweep()

    def _folders(self) -> list[Path]:
        """The folders of jobs that are not being removed."""
        if not self.root.is_dir():
            return []
        return [f for f in self.root.iterdir()
                if JOB_ID.fullmatch(f.name) and f.is_dir() and not is_buried(self.root, f.name)]

    def _check_room(self, adding: int, own: Path | None = None) -> None:
        """Raise :class:`StorageFull` when the jobs other than ``own`` are ``max_jobs`` already, or when the folder
        would hold more than ``max_bytes`` with ``adding`` more."""
        expiring = self.keep_s is not None
        if self.max_jobs is not None:
            held = sum(folder != own for folder in self._folders())
            if held >= self.max_jobs:
                raise StorageFull(f"the server keeps at most {self.max_jobs:,} jobs and holds {held:,}", expiring)
        if self.max_bytes is not None:
            used = tree_bytes(self.root) + adding
            if used > self.max_bytes:
                raise StorageFull(f"the jobs would take {used:,} bytes, over the limit of {self.max_bytes:,}",
                                  expiring)


def _size(upload: BinaryIO) -> int | None:
    """Bytes left to read in ``upload``, when it can tell (a spooled upload can)."""
    try:
        here = upload.tell()
        end = upload.seek(0, os.SEEK_END)
        upload.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return end - here


def _check_columns(job: Job) -> None:
    if not job.bytes:
        raise ApiError(422, "invalid_request", "the uploaded file is empty", field="file")
    if job.format == "csv":
        with job.input.open("rb") as stream:
            sample = stream.read(1 << 16)
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ApiError(422, "invalid_file", "the CSV is UTF-16 text; save it as UTF-8", field="file")
        if sample.count(0) > len(sample) // 100:  # a stray NUL in a field is text's; many are binary data's
            raise ApiError(422, "invalid_file", "not a CSV or Parquet table: the file holds binary data (a "
                           "Parquet file starts with the bytes PAR1)", field="file")
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
