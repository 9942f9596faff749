"""The corpus job worker: one thread that runs jobs one at a time, in order of arrival, through affectlab's corpus
runner (:func:`~affectlab.corpus.run_corpus`), with the server's already loaded text model.

A job is scored ``chunk_rows`` rows at a time; each chunk's part file appears whole or not at all, so a job cut
short (the server stopped, or killed) resumes at the next start from its first missing chunk: no row is lost or
scored twice. Stopping the server lets the running batch finish (up to ``stop_wait_s``), then leaves the job
``queued`` for the next start. Deleting a running job stops it the same way, then removes its folder: a part
file half written is never left, as none is ever written in place.

>>> runner = JobRunner(store, analyzer, settings)
>>> runner.start()                          # also queues the jobs a previous server left unfinished
>>> runner.submit(job)
>>> runner.progress(job.id)
{'stage': 'scoring', 'rows_done': 3000, 'rows_total': 12000}
>>> runner.delete(job, wait_s=30)           # blocking; True once its files are gone
>>> runner.stop()
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from affectlab.corpus import build_report, run_corpus
from affectlab.corpus.aggregate import AGGREGATES_DIR, ALL, scores_files
from affectlab.corpus.scoring import ChunkScorer, one_line
from affectlab.io.writers import atomic_target, atomic_write_text
from affectlab.serve.job_retention import JobGone, now, stamp
from affectlab.serve.jobs import Job, JobStore
from affectlab.serve.pool import Busy
from affectlab.serve.settings import Settings

log = logging.getLogger("affectlab.serve")


class Stopping(SystemExit):
    """The server is stopping. A SystemExit, so that the corpus runner records the run as interrupted (it
    resumes), not failed."""


class Cancelled(BaseException):
    """The running job was deleted. Not an Exception, so that no handler of a failed batch or row takes it."""


class Halting:
    """The analyzer, calling ``halt`` (which raises to stop the job) after each batch it runs, when it reports
    its batches (``on_progress``, as :class:`~affectlab.text.Analyzer` does); else the engine's checks between
    chunks are the only ones."""

    def __init__(self, analyzer, halt: Callable[[], None]) -> None:
        self.analyzer, self.halt = analyzer, halt
        self.reports = "on_progress" in inspect.signature(analyzer.analyze_batch).parameters

    def analyze_batch(self, rows, explain: bool = False):
        if self.reports:
            return self.analyzer.analyze_batch(rows, explain=explain, on_progress=lambda _: self.halt())
        return self.analyzer.analyze_batch(rows, explain=explain)


class ServerEngine:
    """The corpus runner's engine inside the server: chunks in order on this thread, with the loaded analyzer,
    calling ``halt`` before each chunk and after each batch."""

    name = "serve"

    def __init__(self, analyzer, halt: Callable[[], None]) -> None:
        self.analyzer, self.halt = Halting(analyzer, halt), halt

    def describe(self) -> dict:
        return {"engine": self.name}

    def run(self, job, chunks, on_chunk) -> None:
        scorer = ChunkScorer(job, analyzer=self.analyzer) if chunks else None
        for spec in chunks:
            self.halt()
            on_chunk(scorer(spec))


class JobRunner:
    def __init__(self, store: JobStore, analyzer, settings: Settings, stop_wait_s: float = 4.0) -> None:
        self.store, self.settings, self.stop_wait_s = store, settings, stop_wait_s
        self._stop = threading.Event()
        self.engine = ServerEngine(analyzer, self._halt)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._order: list[str] = []  # ids queued, oldest first, for positions
        self._progress: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._running: str | None = None
        self._cancelled: dict[str, threading.Event] = {}  # the running job, once deleted: set when its files are gone
        self._thread = threading.Thread(target=self._work, name="affectlab-serve-jobs", daemon=True)

    def start(self) -> None:
        for job in self.store.unfinished():
            self._enqueue(job)
        self._thread.start()

    def admit(self) -> None:
        """Raise :class:`Busy` (429) when ``max_jobs_waiting`` jobs wait already."""
        with self._lock:
            waiting = len(self._order)
        if waiting >= self.settings.max_jobs_waiting:
            raise Busy(waiting, self.settings.retry_after_s)

    def submit(self, job: Job) -> None:
        """Queue a new job (:meth:`admit` first)."""
        self.admit()
        self._enqueue(job)

    def position(self, job_id: str) -> int | None:
        """How many jobs run or wait before this one (0: it is next), None when it is not waiting."""
        with self._lock:
            return self._order.index(job_id) + (self._running is not None) if job_id in self._order else None

    def progress(self, job_id: str) -> dict | None:
        with self._lock:
            found = self._progress.get(job_id)
            return dict(found) if found else None

    def delete(self, job: Job, wait_s: float) -> bool:
        """Remove ``job`` (blocking): at once its tombstone, so that it answers 410 from now on; its files at once
        too, unless it is running, in which case it stops after its running batch and its files go then (waiting
        at most ``wait_s`` for that). True once its files are gone."""
        self.store.bury(job.id, "deleted")
        with self._lock:
            if self._running == job.id:
                gone = self._cancelled.setdefault(job.id, threading.Event())
            else:
                gone = None
                if job.id in self._order:
                    self._order.remove(job.id)  # the worker skips it
        if gone is None:
            self.store.remove(job.id, "deleted")
            return True
        return gone.wait(wait_s)

    def stop(self) -> None:
        """Stop after the running batch (blocking, at most ``stop_wait_s``; a job still running then is left to
        the process's end, and resumes at the next start)."""
        self._stop.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(self.stop_wait_s)

    def _enqueue(self, job: Job) -> None:
        if job.state != "queued":
            job.state = "queued"
            job.save()
        with self._lock:
            self._order.append(job.id)
        self._queue.put(job.id)

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None and not self._stop.is_set():
            with self._lock:
                if job_id not in self._order:
                    continue  # deleted while it waited
                self._order.remove(job_id)
                self._running = job_id
            try:
                self._run(self.store.get(job_id))
            except JobGone:
                pass  # deleted as it started
            except Exception:
                log.exception("corpus job %s could not be run", job_id)
            finally:
                with self._lock:
                    self._running = None
                    self._progress.pop(job_id, None)
                    gone = self._cancelled.pop(job_id, None)
                if gone is not None:
                    self.store.discard(job_id)
                    gone.set()

    def _halt(self) -> None:
        """Raise to stop the running job: :class:`Stopping` when the server stops, :class:`Cancelled` when the job
        was deleted."""
        if self._stop.is_set():
            raise Stopping
        with self._lock:
            if self._running in self._cancelled:
                raise Cancelled

    def _set_progress(self, job_id: str, **values) -> None:
        with self._lock:
            self._progress.setdefault(job_id, {}).update(values)

    def _advance(self, job_id: str, rows: int) -> None:
        with self._lock:
            self._progress[job_id]["rows_done"] += rows

    def _run(self, job: Job) -> None:
        settings = self.settings
        job.state = "running"
        job.save()
        self._set_progress(job.id, stage="planning", rows_done=0, rows_total=None)
        try:
            manifest = run_corpus(
                job.corpus_job(model=settings.text_model, runtime=settings.runtime, chunk_rows=settings.job_chunk_rows),
                self.engine,
                on_plan=lambda plan, todo: self._set_progress(
                    job.id, stage="scoring", rows_total=plan.rows, rows_done=plan.rows - sum(c.rows for c in todo)),
                on_chunk=lambda result: self._advance(job.id, result.rows),
            )
            self._halt()
            self._set_progress(job.id, stage="reporting")
            _write_report(job)
            _write_table(job)
            job.summary = _summary(job, manifest.to_dict())
            job.state = "complete"
        except Stopping:
            job.state = "queued"  # the next start resumes it
        except Cancelled:
            return  # its folder is removed once this returns
        except Exception as exc:
            log.exception("corpus job %s failed", job.id)
            job.state, job.error = "failed", job.public(one_line(exc))
        if job.state != "queued":
            job.finished = stamp(now())
        job.save()


def _write_report(job: Job) -> None:
    """The corpus report, with this server's folders left out of it."""
    build_report(job.results, job.report)
    atomic_write_text(job.report, job.public(job.report.read_text(encoding="utf-8")))


def _write_table(job: Job) -> None:
    """Every scored row in one Parquet file, in input order; ``source`` names the upload as the job does."""
    parts = scores_files(job.results)
    with atomic_target(job.table) as tmp:
        writer = None
        try:
            for part in parts:
                table = pq.read_table(part)
                table = table.set_column(table.schema.get_field_index("source"), "source",
                                         pa.array([job.input.name] * table.num_rows, pa.string()))
                writer = writer or pq.ParquetWriter(tmp, table.schema, compression="zstd")
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()


def _summary(job: Job, manifest: dict) -> dict:
    """What a finished job tells its client: the row counts, the time taken, the model, and the share of posts
    whose dominant Ekman emotion is each emotion."""
    shares = pq.read_table(Path(job.results) / AGGREGATES_DIR / "shares_by_group.parquet").to_pylist()
    head = manifest["model"].get("head")
    return {"counts": manifest["counts"], "seconds": manifest["seconds"], "model": manifest["model"]["name"],
            **({"head": head["name"]} if head else {}),
            "ekman_shares": {r["emotion"]: round(r["share"], 4) for r in shares if r["group"] == ALL},
            "row_errors": [{"row": e["row"], "error": job.public(str(e["error"]))}
                           for e in manifest["row_errors"][:20]]}
