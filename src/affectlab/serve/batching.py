"""Micro-batching: ``/v1/analyze`` requests that arrive together are scored in one model call, so many
clients sending one text each keep most of the throughput of one client sending batches.

A collector takes the first waiting request, waits for others until ``wait_s`` (a few milliseconds) after that
request arrived unless enough texts wait already (so a request that queued behind a running batch does not wait
again), takes up to ``max_texts`` texts' worth of requests, and scores them in one call on the
:class:`~affectlab.serve.pool.WorkPool`. As many batches run at once as the pool has workers: while one is in
the network, the event loop answers the requests of another and reads new ones, so the cores do not wait for
each other (one batch at a time, the model idled during every answer). Requests that arrive while every worker
is busy queue up and form the next batch, so the busier the server, the larger its batches; while workers are
idle, the waiting texts are divided among them.
At most ``max_waiting`` requests queue (:class:`~affectlab.serve.pool.Busy`, 429, beyond); a request that
times out or is cancelled (its client left) while queued leaves the queue, and its texts are not scored. A batch
already in the model stops at its next step (a batch of windows, or a text to explain) once every request in it
has timed out or left, so abandoned work does not hold a worker for minutes.

>>> batcher = MicroBatcher(analyzer.analyze_batch, pool, max_texts=16, wait_s=0.005, max_waiting=64)
>>> batcher.start()                        # inside the running event loop
>>> results = await batcher.submit(["I love it", "meh"], timeout=30)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from affectlab.serve.pool import Busy, TimedOut, WorkPool

R = TypeVar("R")


class _Abandoned(Exception):
    """Raised from the model's progress callback to stop a batch nobody waits for any more."""


@dataclass(eq=False)  # compared by identity: two requests may hold the same texts
class _Request:
    texts: Sequence[str]
    future: asyncio.Future
    arrived: float  # the event loop's clock


class MicroBatcher(Generic[R]):
    """Scores the texts of many requests with one ``score(texts, on_progress=...) -> results`` call (one result per
    text); ``on_progress`` is called between the model's steps, and what it raises stops the call."""

    def __init__(self, score: Callable[[list[str]], list[R]], pool: WorkPool, *, max_texts: int, wait_s: float,
                 max_waiting: int) -> None:
        self.score, self.pool = score, pool
        self.max_texts, self.wait_s, self.max_waiting = max_texts, wait_s, max_waiting
        self.queue: deque[_Request] = deque()
        self.queued_texts = 0
        self.batches = 0  # model calls made, for /healthz and tests
        self.abandoned = 0  # of them, stopped part-way because every request in them had timed out or left
        self._arrived = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._free = asyncio.Semaphore(pool.workers)  # batches that may run at once
        self._running: set[asyncio.Task] = set()

    @property
    def waiting(self) -> int:
        return len(self.queue)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="affectlab-serve-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._running):
            task.cancel()
        while self.queue:
            self.queue.popleft().future.cancel()

    async def submit(self, texts: Sequence[str], timeout: float | None) -> list[R]:
        """The results for ``texts``, scored with whatever else is waiting. Raises :class:`Busy` when the
        queue is full and :class:`TimedOut` after ``timeout`` seconds, waiting included."""
        if len(self.queue) >= self.max_waiting:
            raise Busy(len(self.queue), self.pool.retry_after_s)
        loop = asyncio.get_running_loop()
        request = _Request(texts, loop.create_future(), loop.time())
        self.queue.append(request)
        self.queued_texts += len(texts)
        self._arrived.set()
        # a timer on the request's own future, rather than asyncio.wait_for's second future and task callbacks
        timer = None if timeout is None else loop.call_later(timeout, _expire, request.future, timeout)
        try:
            return await request.future
        except (TimedOut, asyncio.CancelledError):  # timed out, or the caller was cancelled: give its place back
            self._withdraw(request)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _withdraw(self, request: _Request) -> None:
        try:
            self.queue.remove(request)
        except ValueError:
            return  # the collector has it already, and skips it
        self.queued_texts -= len(request.texts)

    def _take(self) -> _Request:
        request = self.queue.popleft()
        self.queued_texts -= len(request.texts)
        return request

    async def _collect(self) -> None:
        carried: _Request | None = None
        while True:
            await self._free.acquire()
            while carried is None and not self.queue:
                self._arrived.clear()
                await self._arrived.wait()
            first, carried = carried or self._take(), None
            if first.future.done():
                self._free.release()
                continue
            wait = first.arrived + self.wait_s - asyncio.get_running_loop().time()
            if wait > 0 and self.queued_texts + len(first.texts) < self.max_texts:
                await asyncio.sleep(wait)
            limit = self._share(len(first.texts))
            batch, size = [first], len(first.texts)
            while size < limit and self.queue:
                request = self._take()
                if request.future.done():
                    continue
                if size + len(request.texts) > limit:
                    carried = request  # the first of the next batch
                    break
                batch.append(request)
                size += len(request.texts)
            batch = [request for request in batch if not request.future.done()]  # `first` may have gone meanwhile
            if not batch:
                self._free.release()
                continue
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _share(self, first_texts: int) -> int:
        """The most texts this batch takes: the waiting texts divided among the idle workers (this batch's
        included), at most ``max_texts``. Eight waiting texts and two idle workers make two batches of four, one
        on each core, rather than one batch of eight while the other core idles."""
        idle = self.pool.workers - len(self._running)
        return max(1, min(self.max_texts, -(-(self.queued_texts + first_texts) // idle)))

    def _finished(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._free.release()

    async def _run(self, batch: list[_Request]) -> None:
        texts = [text for request in batch for text in request.texts]
        self.batches += 1

        def stop_if_abandoned(_: int) -> None:  # on the worker thread, between the model's steps
            if all(request.future.done() for request in batch):  # every caller timed out or left
                raise _Abandoned

        try:
            results = await self.pool.run(partial(self.score, on_progress=stop_if_abandoned), texts, timeout=None,
                                          admit=False)
        except _Abandoned:
            self.abandoned += 1
            return
        except Exception as exc:  # every request of the batch gets the failure; the other batches go on
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        start = 0
        for request in batch:
            if not request.future.done():
                request.future.set_result(results[start:start + len(request.texts)])
            start += len(request.texts)


def _expire(future: asyncio.Future, timeout: float) -> None:
    if not future.done():
        future.set_exception(TimedOut(timeout))
