"""``affectlab bench memory``: the emotional memory at 100k and 1M memories on this machine.

The memories are EmpatheticDialogues situations (train and test; valid ones are the queries), repeated until
the size is reached. As in ``bench corpus``, each repeat is lightly varied (a prefix, a suffix, case,
punctuation) and gets a random speaker of five and a random time in 2014-2023. Encoding a million texts
would take this machine hours and is not what is measured here, so a repeat's vectors are its source's
vectors plus a little noise (semantic: a random vector of norm 0.3, i.e. cosine ≈ 0.96 to the original;
emotions and situation emotions ±0.02, VAD ±0.05), not a re-encoding of the varied text; the encoder's own rate
is measured separately on real texts.

For each size: the insert rate of :meth:`EmotionalMemory.add` with vectors given (batches of 10,000, one
commit each), the latency of one single-memory add, the time to compact and the disk size after it (no
index), and for each strategy the latency of :meth:`EmotionalMemory.recall` (k=5, query vectors given) with
``exact=True`` (every memory compared); then for each index type its build time and size, and the latency
of recall through it with how close it comes to the exact recall (:func:`agreement`). An exact recall
takes about half a second at 1M on two cores, so exact recalls are timed on the first ``exact_queries``
queries only (the agreement is measured on those). The first recalls after an index is built read it from
disk; ``WARM_UP`` untimed recalls (of the last valid situations, never timed) come first.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.evaluate.bench_corpus import vary
from affectlab.evaluate.memory import encoded_texts, situations
from affectlab.memory import AffectEncoder, EmotionalMemory, Encoded, MemoryEncoder, distribution

SPEAKERS = ("ana", "ben", "chen", "dara", "eli")
SEMANTIC_NOISE = 0.3  # norm of the noise added to a repeat's semantic vector
BATCH = 10_000
PQ_REFINE = 5  # an IVF_PQ index's candidates re-checked with exact vectors (× k); other indexes hold exact ones
WARM_UP = 10  # untimed recalls after an index is built: the first ones read its partitions from disk
_START = datetime(2014, 1, 1, tzinfo=UTC).timestamp()
_END = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
RECALLS = {
    "semantic": {"strategy": "semantic"},
    "emotion": {"strategy": "emotion"},
    "combined": {"strategy": "combined"},
    "semantic-then-emotion": {"strategy": "semantic-then-emotion"},
    "emotion-then-semantic": {"strategy": "emotion-then-semantic"},
    "combined, speaker and time filter": {"strategy": "combined", "speaker": "ana", "since": "2019-01-01"},
}


def synthetic(texts: list[str], base: Encoded, start: int, count: int, seed: int = 0):
    """Rows ``start..start+count`` of the synthetic memory: texts, speakers, times (epoch seconds), vectors."""
    rows = np.arange(start, start + count)
    source = rows % len(texts)
    repeat = rows >= len(texts)
    rng = np.random.default_rng(seed + start)
    text_rng = random.Random(seed + start)
    semantic = base.semantic[source].copy()
    noise = rng.normal(size=semantic.shape).astype(np.float32) * (SEMANTIC_NOISE / np.sqrt(semantic.shape[1]))
    semantic[repeat] += noise[repeat]
    semantic /= np.linalg.norm(semantic, axis=1, keepdims=True)
    emotions = np.clip(base.emotions[source] + repeat[:, None] * rng.normal(0, 0.02, base.emotions[source].shape),
                       0, 1).astype(np.float32)
    vad = np.clip(base.vad[source] + repeat[:, None] * rng.normal(0, 0.05, base.vad[source].shape), 1, 5)
    told = base.situations[source]
    situations = distribution(told + repeat[:, None] * rng.normal(0, 0.02, told.shape))
    varied = [vary(texts[s], text_rng) if r else texts[s] for s, r in zip(source, repeat)]
    speakers = [SPEAKERS[i] for i in rng.integers(0, len(SPEAKERS), count)]
    times = rng.uniform(_START, _END, count).tolist()
    return varied, speakers, times, Encoded(semantic, emotions, vad.astype(np.float32), situations,
                                               base.model_id)


def _percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2)}


def timed_recalls(memory: EmotionalMemory, queries: list[str], encoded: Encoded, exact: bool,
                  options: dict) -> tuple[dict, list]:
    seconds, recalls = [], []
    for i, query in enumerate(queries):
        started = time.perf_counter()
        recalls.append(memory.recall(query, 5, exact=exact, encoded=encoded.take([i]), **options))
        seconds.append(time.perf_counter() - started)
    return _percentiles(seconds), recalls


def agreement(found: list, truth: list) -> dict:
    """How close indexed recalls come to exact ones (over the queries both ran): the share of the exact top 5
    they contain, and the ratio of their mean score to the exact top 5's (near-ties, frequent among
    emotion vectors, lower the first but not the second)."""
    pairs = list(zip(found, truth))  # the exact run's queries are the first of the indexed run's
    overlap = np.mean([len({h.id for h in a} & {h.id for h in b}) / max(len(b), 1) for a, b in pairs])
    kept = np.mean([np.mean([h.score for h in a]) / np.mean([h.score for h in b]) for a, b in pairs if len(b)])
    return {"overlap_at_5": round(float(overlap), 3), "score_kept": round(float(kept), 4)}


def encoder_rates(encoder: MemoryEncoder, texts: list[str]) -> dict:
    """Texts/s of encoding (meaning and emotions) in batches, and the latency of encoding one query."""
    encoder.encode(texts[:8])  # loads both models
    started = time.perf_counter()
    encoder.encode(texts[:512])
    rate = 512 / (time.perf_counter() - started)
    singles = []
    for text in texts[512:562]:
        started = time.perf_counter()
        encoder.encode([text])
        singles.append(time.perf_counter() - started)
    return {"texts_per_second": round(rate, 1), "one_query": _percentiles(singles)}


def bench_size(size: int, texts: list[str], base: Encoded, queries: list[str], query_vectors: Encoded,
               warm_up: tuple[list[str], Encoded], exact_queries: int, index_types: list[str], folder: Path,
               encoder: MemoryEncoder, step: Callable[[str], None]) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    memory = EmotionalMemory(folder, encoder=encoder)
    insert_seconds = 0.0
    for start in range(0, size, BATCH):
        step(f"{size:,}: inserting {start:,}")
        rows, speakers, times, encoded = synthetic(texts, base, start, min(BATCH, size - start))
        started = time.perf_counter()
        memory.add(rows, speaker=speakers, time=times, encoded=encoded)
        insert_seconds += time.perf_counter() - started
    singles = []
    for i in range(20):
        rows, speakers, times, encoded = synthetic(texts, base, size + i, 1)
        started = time.perf_counter()
        memory.add(rows, speaker=speakers, time=times, encoded=encoded)
        singles.append(time.perf_counter() - started)
    step(f"{size:,}: compacting")
    started = time.perf_counter()
    memory.optimize(prune=True)
    optimize_seconds = time.perf_counter() - started
    disk = memory.info().disk_bytes
    exact = {}
    for name, options in RECALLS.items():
        step(f"{size:,}: exact recall, {name}")
        exact[name] = timed_recalls(memory, queries[:exact_queries], query_vectors, True, options)
    indexes = {}
    for index_type in index_types:
        step(f"{size:,}: building the {index_type} index")
        started = time.perf_counter()
        memory.create_index(index_type)
        memory.refine_factor = PQ_REFINE if index_type == "IVF_PQ" else None
        timed_recalls(memory, *warm_up, False, {})
        entry = {"build_seconds": round(time.perf_counter() - started, 1),
                 "index_mb": round(memory.store.vector_index_bytes() / 2**20, 1),
                 "nprobes": memory.nprobes, "refine_factor": memory.refine_factor, "recall": {}}
        for name, options in RECALLS.items():
            step(f"{size:,}: {index_type} recall, {name}")
            timing, found = timed_recalls(memory, queries, query_vectors, False, options)
            entry["recall"][name] = {**timing, **agreement(found, exact[name][1])}
        indexes[index_type] = entry
    return {
        "memories": len(memory), "inserts_per_second": round(size / insert_seconds),
        "insert_seconds": round(insert_seconds, 1), "single_add": _percentiles(singles),
        "optimize_seconds": round(optimize_seconds, 1), "disk_mb": round(disk / 2**20, 1),
        "exact_recall": {name: timing for name, (timing, _) in exact.items()}, "indexes": indexes,
    }


def bench_memory(sizes: list[int], queries: int = 300, exact_queries: int = 50,
                 index_types: tuple[str, ...] = ("IVF_FLAT", "IVF_PQ"),
                 work_dir: Path = Path("runs/memory-bench"), eval_dir: Path = Path("runs/memory-eval"),
                 data_dir: Path = DEFAULT_DATA_DIR, keep: bool = False, encoder: MemoryEncoder | None = None,
                 on_step: Callable[[str], None] | None = None) -> dict:
    """Build each size from scratch in ``work_dir`` (removed afterwards unless ``keep``) and time it."""
    def step(message: str) -> None:
        if on_step is not None:
            on_step(message)

    encoder = encoder or AffectEncoder()
    step("reading the situations' vectors (encoded first if `eval memory` has not cached them)")
    texts, parts = [], []
    for split in ("train", "test"):
        split_texts = situations(split, data_dir)[0]
        parts.append(encoded_texts(encoder, split_texts, eval_dir / f"vectors-{split}.npz"))
        texts += split_texts
    query_texts = situations("valid", data_dir)[0]
    query_vectors = encoded_texts(encoder, query_texts, eval_dir / "vectors-valid.npz")
    step("timing the encoder")
    rates = encoder_rates(encoder, query_texts)
    runs = []
    for size in sizes:
        folder = work_dir / f"store-{size}"
        warm_up = (query_texts[-WARM_UP:], query_vectors.take(slice(len(query_texts) - WARM_UP, None)))
        runs.append(bench_size(size, texts, Encoded.concat(parts), query_texts[:queries],
                               query_vectors.take(slice(0, queries)), warm_up, min(exact_queries, queries),
                               list(index_types), folder, encoder, step))
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return {"cores": os.cpu_count(), "queries": min(queries, len(query_texts)),
            "exact_queries": min(exact_queries, queries, len(query_texts)), "k": 5,
            "source_texts": len(texts), "batch": BATCH, "semantic_noise": SEMANTIC_NOISE,
            "encoder": {"model_id": encoder.model_id, **rates}, "runs": runs}
