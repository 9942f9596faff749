"""``affectlab bench``: texts/second and peak memory of the text model against a roberta-base baseline.

Every configuration runs in its own fresh process (so its peak resident memory is its own) on the
same texts, one after the other, in alternating order over ``rounds``; the reported rate is the
median over rounds. The baseline is a ``RobertaForSequenceClassification`` with 28 outputs, the
architecture of the most-used GoEmotions model, with random weights (the same compute as trained
ones: no roberta weights can be downloaded here). It gets the same token ids (WordPiece, truncated
to the same length; ids fit roberta's larger vocabulary), the same length-sorted batching and the
same thread count, so the ratio compares the networks and runtimes, not the batching.
Each affectlab runtime also reports its batch sensitivity: the first 300 texts scored one at a time
against the same texts scored in the batched run.

Beside the runtimes of the accurate profile, two more configurations: ``fast``, the fast profile (static
token vectors, numpy only), and ``vader``, the VADER lexicon (vaderSentiment) as the anchor of what a
lexicon does at that speed. Every configuration but the baseline also reports its three-way sentiment
macro-F1 on the same texts (:mod:`affectlab.evaluate.three_way`), the one question VADER answers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_goemotions
from affectlab.evaluate import three_way

BASELINE = "roberta-base-28 (torch fp32, random weights)"
FAST = "fast"
LEXICON = "vader"
CONFIGURATIONS = ("onnx", "onnx-int8", "torch", FAST, LEXICON)  # what --runtimes may name, besides the baseline
SENSITIVITY_TEXTS = 300


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_affectlab(name: str, texts: list[str], batch_size: int, threads: int) -> dict:
    from affectlab.text.analyzer import Analyzer

    if name == FAST:
        analyzer = Analyzer(profile="fast", batch_size=batch_size, threads=threads)
    else:
        analyzer = Analyzer(runtime=name, batch_size=batch_size, threads=threads)
    analyzer.analyze_batch(texts[:batch_size])  # warm-up: builds and loads the runtime
    start = time.perf_counter()
    batched = analyzer.analyze_batch(texts)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "texts_per_second": len(texts) / seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "batch_sensitivity": _batch_sensitivity(analyzer, texts[:SENSITIVITY_TEXTS], batched),
        "three_way": [three_way.from_sentiment(r.sentiment) for r in batched],
    }


def _run_lexicon(texts: list[str], batch_size: int) -> dict:
    vader = three_way.Vader()
    vader(texts[:batch_size])
    start = time.perf_counter()
    predicted = vader(texts)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "texts_per_second": len(texts) / seconds, "peak_rss_mb": _peak_rss_mb(),
            "three_way": predicted}


def _batch_sensitivity(analyzer, texts: list[str], batched: list) -> dict:
    """How much a text's scores change when it is scored alone instead of among the others."""
    shifts, changed = [], 0
    for text, in_batch in zip(texts, batched):
        alone = analyzer.analyze(text)
        shifts.append(max(abs(alone.emotions[k] - in_batch.emotions[k]) for k in alone.emotions))
        changed += alone.labels != in_batch.labels
    return {"texts": len(texts), "max_probability_shift": max(shifts), "label_sets_changed": changed}


def _run_baseline(texts: list[str], batch_size: int, threads: int) -> dict:
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    from affectlab.encoders import load_tokenizer
    from affectlab.text.runtime import pad_batch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = RobertaForSequenceClassification(RobertaConfig(num_labels=28, problem_type="multi_label_classification"))
    model.eval()
    tokenizer = load_tokenizer(128)

    def score(batch: list[str]) -> None:
        ids = [e.ids for e in tokenizer.encode_batch(batch)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                input_ids, mask = pad_batch([ids[i] for i in order[start : start + batch_size]])
                torch.sigmoid(model(torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask)).logits)

    score(texts[:batch_size])
    start = time.perf_counter()
    score(texts)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "texts_per_second": len(texts) / seconds, "peak_rss_mb": _peak_rss_mb()}


def _worker(name: str, texts: list[str], batch_size: int, threads: int, queue) -> None:
    try:
        if name == BASELINE:
            result = _run_baseline(texts, batch_size, threads)
        elif name == LEXICON:
            result = _run_lexicon(texts, batch_size)
        else:
            result = _run_affectlab(name, texts, batch_size, threads)
        queue.put(result)
    except Exception as exc:  # reported back to the parent, which names the configuration
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def _in_fresh_process(name: str, texts: list[str], batch_size: int, threads: int) -> dict:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_worker, args=(name, texts, batch_size, threads, queue))
    process.start()
    result = queue.get()
    process.join()
    if "error" in result:
        raise RuntimeError(f"benchmark of {name} failed: {result['error']}")
    return result


def cold_start_seconds(fast: bool = False) -> dict:
    """Wall time of ``affectlab analyze "..."`` in a new process: the very first run on a machine
    (empty cache: the ONNX file is built) and a later one (cache built); with ``fast``, also
    ``affectlab analyze --profile fast "..."`` (it has no cache to build)."""
    command = [sys.executable, "-m", "affectlab", "analyze", "I can't believe you remembered my birthday!"]
    runs = {"first_run": command, "later_runs": command}
    if fast:
        runs["fast_profile"] = [*command[:4], "--profile", "fast", *command[4:]]
    times = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "AFFECTLAB_CACHE": cache}
        for run, words in runs.items():
            start = time.perf_counter()
            subprocess.run(words, check=True, capture_output=True, env=env)
            times[run] = time.perf_counter() - start
    return times


def bench_text(
    runtimes: tuple[str, ...] = CONFIGURATIONS,
    data_dir: Path = DEFAULT_DATA_DIR,
    limit: int | None = None,
    rounds: int = 2,
    batch_size: int = 64,
    threads: int = 2,
    with_baseline: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    data = load_goemotions("test", data_dir)
    texts, labels = data.texts[:limit], data.labels[:limit]
    names = list(runtimes) + ([BASELINE] if with_baseline else [])
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else reversed(names):
            if on_step is not None:
                on_step(f"round {round_index + 1}/{rounds}: {name}")
            runs[name].append(_in_fresh_process(name, texts, batch_size, threads))
    summary = {
        name: {
            "texts_per_second": statistics.median(r["texts_per_second"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            **({"batch_sensitivity": results[0]["batch_sensitivity"]} if "batch_sensitivity" in results[0] else {}),
            **({"three_way_sentiment": three_way.scores(results[0]["three_way"], labels)}
               if "three_way" in results[0] else {}),
            "rounds": [{k: v for k, v in r.items() if k != "three_way"} for r in results],
        }
        for name, results in runs.items()
    }
    if with_baseline:
        base = summary[BASELINE]["texts_per_second"]
        for name in runtimes:
            summary[name]["ratio_to_baseline"] = summary[name]["texts_per_second"] / base
    if on_step is not None:
        on_step("cold start")
    return {
        "texts": len(texts),
        "dataset": "goemotions/test",
        "batch_size": batch_size,
        "threads": threads,
        "configurations": summary,
        "cold_start_seconds": cold_start_seconds(fast=FAST in runtimes),
    }
