"""A running server's state: its models, the work pools they run on and the micro-batchers in front of the
text model; started and stopped with the app.

>>> service = Service(settings, Models.load(settings))
>>> service.start()                # inside the running event loop
>>> results = await service.batcher(explain=False).submit(["so happy"], timeout=30)
>>> await service.stop()
"""

from __future__ import annotations

import asyncio
from functools import partial

from affectlab.serve.batching import MicroBatcher
from affectlab.serve.job_runner import JobRunner
from affectlab.serve.job_sweeper import Sweeper
from affectlab.serve.jobs import JobStore
from affectlab.serve.models import Models
from affectlab.serve.pool import WorkPool
from affectlab.serve.settings import Settings
from affectlab.text import TextAffect


class Service:
    """``pool``: the text and conversation models (``settings.workers`` threads); ``llm_pool``: the responder
    (one thread: one language model generates one reply at a time). Texts with and without explanations are
    batched apart (an explanation runs gradients through the torch model, far slower than plain scores).
    ``store``, ``jobs`` and ``sweeper``: the corpus jobs on disk, the one worker that runs them with the text
    model (``models.corpus``: all the cores), and the thread that removes them once expired."""

    def __init__(self, settings: Settings, models: Models) -> None:
        self.settings, self.models = settings, models
        self.pool = WorkPool(settings.workers, settings.queue_size, settings.retry_after_s)
        self.llm_pool = WorkPool(1, settings.queue_size, settings.retry_after_s)
        self._batchers: dict[bool, MicroBatcher[TextAffect]] = {
            explain: MicroBatcher(partial(models.text.analyze_batch, explain=explain), self.pool,
                                  max_texts=settings.batch_texts, wait_s=settings.batch_wait_s,
                                  max_waiting=settings.queue_size)
            for explain in (False, True)
        }
        self.store = JobStore(settings.jobs_dir, keep_s=settings.keep_jobs_s, max_jobs=settings.max_jobs,
                              max_bytes=settings.max_jobs_bytes)
        self.jobs = JobRunner(self.store, models.corpus or models.text, settings)
        self.sweeper = Sweeper(self.store, settings.job_sweep_s)

    def batcher(self, explain: bool) -> MicroBatcher[TextAffect]:
        return self._batchers[explain]

    @property
    def waiting(self) -> int:
        """Requests queued for a model, all endpoints together."""
        return sum(b.waiting for b in self._batchers.values()) + self.pool.waiting + self.llm_pool.waiting

    def start(self) -> None:
        for batcher in self._batchers.values():
            batcher.start()
        self.store.recover()  # before the worker resumes anything
        self.jobs.start()
        self.sweeper.start()

    async def stop(self) -> None:
        for batcher in self._batchers.values():
            await batcher.stop()
        await asyncio.to_thread(self.jobs.stop)
        await asyncio.to_thread(self.sweeper.stop)
        self.pool.close()
        self.llm_pool.close()
