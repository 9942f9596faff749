"""The bounded place where model work runs: a fixed pool of threads off the event loop, a bounded number of
jobs waiting for one (:class:`Busy`, answered 429, beyond), and a deadline per job (:class:`TimedOut`, 504).

A job that is still waiting when its deadline passes, or when its caller is cancelled (its client left), is
dropped; one that has started runs to its end (a thread cannot be stopped), but its answer is no longer awaited.

>>> pool = WorkPool(workers=2, max_waiting=64, retry_after_s=1)
>>> result = await pool.run(analyzer.analyze_batch, texts, timeout=30)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from affectlab.serve.errors import ApiError

T = TypeVar("T")


class Busy(ApiError):
    """Too many requests wait already: 429, with ``Retry-After``."""

    def __init__(self, waiting: int, retry_after_s: int) -> None:
        super().__init__(429, "busy", f"the server is busy ({waiting} requests waiting); retry after "
                                      f"{retry_after_s} s", headers={"Retry-After": str(retry_after_s)})


class TimedOut(ApiError):
    """A request did not finish within its limit: 504."""

    def __init__(self, limit_s: float) -> None:
        super().__init__(504, "timeout", f"the request took longer than its limit of {limit_s:g} s")


class WorkPool:
    """``workers`` threads for model calls; at most ``max_waiting`` jobs queued for them."""

    def __init__(self, workers: int, max_waiting: int, retry_after_s: int) -> None:
        self.workers, self.max_waiting, self.retry_after_s = workers, max_waiting, retry_after_s
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="affectlab-serve")
        self.jobs = 0  # submitted and not finished: running (up to `workers`) or waiting

    @property
    def waiting(self) -> int:
        return max(0, self.jobs - self.workers)

    def admit(self) -> None:
        """Raise :class:`Busy` when a new job would have to wait behind ``max_waiting`` others."""
        if self.waiting >= self.max_waiting:
            raise Busy(self.waiting, self.retry_after_s)

    async def run(self, fn: Callable[..., T], *args, timeout: float | None, admit: bool = True) -> T:
        """``fn(*args)`` on a worker thread. ``admit=False`` skips the bound (for work already admitted, such
        as a micro-batch of requests that each passed the batcher's own bound)."""
        if admit:
            self.admit()
        loop = asyncio.get_running_loop()
        job = self.executor.submit(fn, *args)
        self.jobs += 1
        job.add_done_callback(lambda _: _call_soon(loop, self._finished))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(job), timeout)
        except TimeoutError:
            raise TimedOut(timeout) from None
        finally:
            job.cancel()  # timed out or cancelled: dropped if it has not started (nothing once it has ended)

    def _finished(self) -> None:
        self.jobs -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """``callback`` on ``loop``'s thread, unless the loop has closed (a job that ends after shutdown)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)
