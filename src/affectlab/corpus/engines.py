"""Engines run a list of chunks through :class:`ChunkScorer`: in this process, or on Ray actors.

Both call the same scorer on the same chunk specs, so their part files hold the same rows and scores.

>>> engine = LocalEngine(threads=2)          # or RayEngine(address="auto", workers=8)
>>> engine.run(job, plan.chunks, on_chunk=print)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Protocol

import numpy as np

from affectlab.corpus.plan import ChunkSpec, CorpusJob
from affectlab.corpus.scoring import ChunkResult, ChunkScorer
from affectlab.errors import AffectlabError, check_count, check_threads

ENGINES = ("local", "ray")


class EngineError(AffectlabError, RuntimeError):
    """The engine itself could not run (Ray missing, no cluster at the address)."""


class Engine(Protocol):
    name: str

    def describe(self) -> dict:
        """What the manifest records about how the run was executed."""

    def run(self, job: CorpusJob, chunks: list[ChunkSpec], on_chunk: Callable[[ChunkResult], None]) -> None:
        """Score every chunk into its part file, calling ``on_chunk`` as each finishes (in any order)."""


class LocalEngine:
    """One process, chunks in file order; the model uses ``threads`` cores (default: all)."""

    name = "local"

    def __init__(self, threads: int | None = None) -> None:
        check_threads(threads)
        self.threads = threads or os.cpu_count() or 1

    def describe(self) -> dict:
        return {"engine": self.name, "threads": self.threads}

    def run(self, job: CorpusJob, chunks: list[ChunkSpec], on_chunk: Callable[[ChunkResult], None]) -> None:
        if not chunks:
            return
        scorer = ChunkScorer(job, threads=self.threads)
        for spec in chunks:
            on_chunk(scorer(spec))


class _RayChunkScorer:
    """A Ray Data actor: loads the model once, then scores the chunks of each batch it is handed."""

    job: dict = {}
    threads: int = 1

    def __init__(self) -> None:
        self.scorer = ChunkScorer(CorpusJob(**self.job), threads=self.threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        fields = ChunkSpec.__dataclass_fields__
        done = []
        for i in range(len(batch["path"])):
            spec = ChunkSpec(**{k: batch[k][i].item() if hasattr(batch[k][i], "item") else batch[k][i] for k in fields})
            done.append(self.scorer(spec).to_dict())
        return {k: np.array([d[k] for d in done]) for k in ChunkResult.__dataclass_fields__}


class RayEngine:
    """Ray Data ``map_batches`` over the chunk list with a pool of ``workers`` actors.

    ``address=None`` starts a private Ray instance on this machine (and stops it afterwards);
    ``"auto"`` or ``"ray://host:10001"`` joins a running cluster. Every worker needs affectlab
    installed (the same version, ``pip install 'affectlab[ray]'``) and must see the input files and
    the output folder at the same paths (a shared file system): actors read their chunks and write
    their part files themselves, so only chunk descriptions travel through Ray.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, threads_per_worker: int = 1) -> None:
        check_count("threads_per_worker", threads_per_worker)
        check_count("workers", workers, "the cluster's CPUs over threads_per_worker")
        self.address = address
        self.workers = workers
        self.threads_per_worker = threads_per_worker

    def describe(self) -> dict:
        return {"engine": self.name, "address": self.address or "local", "workers": self.workers,
                "threads_per_worker": self.threads_per_worker}

    def run(self, job: CorpusJob, chunks: list[ChunkSpec], on_chunk: Callable[[ChunkResult], None]) -> None:
        if not chunks:
            return
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineError(f"cannot reach a Ray cluster at {self.address!r}: {exc}") from exc
        quiet = logging.getLogger("ray.data")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # Ray Data logs each execution at INFO/WARNING on the console
        try:
            if self.workers is None:
                self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // self.threads_per_worker)
            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = False
            context.print_on_execution_start = False
            items = [asdict(spec) for spec in chunks]
            dataset = ray.data.from_items(items, override_num_blocks=len(items))
            # the job travels inside the class (pickled by value), not as constructor arguments, which
            # Ray would keep in its object store for actor restarts
            scorer = type(
                "ChunkScorerActor", (_RayChunkScorer,), {"job": asdict(job), "threads": self.threads_per_worker}
            )
            scored = dataset.map_batches(
                scorer,
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=self.workers),
                num_cpus=self.threads_per_worker,
            )
            for batch in scored.iter_batches(batch_size=1, batch_format="numpy"):
                values = {k: int(v[0]) for k, v in batch.items()}
                on_chunk(ChunkResult(**values))
        finally:
            quiet.setLevel(level)
            if started_here:
                ray.shutdown()


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise EngineError("the Ray engine needs Ray: pip install 'affectlab[ray]'") from exc
    return ray
