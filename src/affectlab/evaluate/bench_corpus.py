"""``affectlab bench corpus``: rows/second and peak memory of whole corpus runs, engine beside engine.

The input is synthetic but made of real posts: every GoEmotions and EmoBank text (all splits; the
bench measures speed, not accuracy) repeated until the row count is reached, each repeat lightly
varied (case, a prefix, a suffix, punctuation) so no two consecutive copies are the same string;
each row gets a random time in 2014-2023 and one of five communities (seeded). Each configuration
runs as its own ``affectlab corpus run`` process, timed end to end (start-up, planning, scoring,
aggregation); memory is the peak of the summed proportional set size (PSS) of that process and
all its children (Ray's raylet and workers included), sampled every 0.2 s.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from affectlab.corpus.aggregate import scores_glob
from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank, load_goemotions
from affectlab.errors import OptionError
from affectlab.extras import require
from affectlab.io.writers import atomic_target
from affectlab.taxonomy import GOEMOTIONS

COMMUNITIES = ("news", "climate", "health", "sports", "gaming")
_PREFIXES = ("", "", "Honestly, ", "Ok so ", "Update: ", "tbh ")
_SUFFIXES = ("", "", " lol", "!!", " ...", " #thoughts")
_START = datetime(2014, 1, 1, tzinfo=UTC).timestamp()
_END = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def source_texts(data_dir: Path) -> list[str]:
    texts = []
    for split in ("train", "dev", "test"):
        texts += load_goemotions(split, data_dir).texts
        texts += load_emobank(split, data_dir).texts
    return texts


def vary(text: str, rng: random.Random) -> str:
    text = rng.choice(_PREFIXES) + text + rng.choice(_SUFFIXES)
    roll = rng.random()
    if roll < 0.15:
        return text.lower()
    if roll < 0.25:
        return text.replace(".", "!")
    return text


def build_input(data_dir: Path, rows: int, path: Path, seed: int = 0) -> Path:
    """Write the synthetic corpus of ``rows`` rows to ``path`` (Parquet), unless it is already there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return path
    texts = source_texts(data_dir)
    rng = random.Random(seed)
    schema = pa.schema([("id", pa.int64()), ("body", pa.string()), ("created_at", pa.timestamp("s", tz="UTC")),
                        ("community", pa.string())])
    with atomic_target(path) as partial, pq.ParquetWriter(partial, schema) as out:
        for start in range(0, rows, 100_000):
            count = min(100_000, rows - start)
            ids = list(range(start, start + count))
            bodies = [texts[i % len(texts)] if i < len(texts) else vary(texts[i % len(texts)], rng) for i in ids]
            times = [int(rng.uniform(_START, _END)) for _ in ids]
            groups = [rng.choice(COMMUNITIES) for _ in ids]
            columns = {"id": ids, "body": bodies, "created_at": times, "community": groups}
            out.write_table(pa.table(columns, schema=schema))
    return path


def parse_configs(text: str, cores: int) -> list[tuple[str, list[str]]]:
    """``local,ray:1,ray:2`` → names and the engine options of each."""
    configs = []
    for name in (c.strip() for c in text.split(",") if c.strip()):
        if name == "local":
            configs.append((name, ["--engine", "local", "--threads", str(cores)]))
        elif name.startswith("ray:") and name[4:].isdigit() and int(name[4:]) >= 1:
            workers = int(name[4:])
            configs.append((name, ["--engine", "ray", "--workers", str(workers),
                                   "--threads", str(max(1, cores // workers))]))
        else:
            raise OptionError(f"unknown configuration {name!r}; use local or ray:<workers>")
    return configs


def _tree_pss(process) -> int:
    import psutil

    total = 0
    for each in [process, *process.children(recursive=True)]:
        try:
            info = each.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def timed_run(command: list[str], log: Path) -> tuple[float, int]:
    """Run ``command``; wall seconds and peak summed PSS in bytes."""
    psutil = require("psutil", "corpus")

    with log.open("w") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        watcher = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                peak = max(peak, _tree_pss(watcher))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {process.returncode}); see {log}")
    return seconds, peak


def compare_scores(reference: Path, other: Path) -> dict:
    """Rows whose label sets differ, and the largest score difference, between two results folders."""
    columns = [f"emotion_{e}" for e in GOEMOTIONS]
    diff = " , ".join(f"abs(a.{c} - b.{c})" for c in columns)
    query = f"""
        SELECT count(*) AS rows,
               count(*) FILTER (a.labels IS DISTINCT FROM b.labels OR a.status <> b.status) AS label_sets_differ,
               coalesce(max(greatest({diff})), 0) AS max_abs_diff
        FROM read_parquet({scores_glob(reference)}) a JOIN read_parquet({scores_glob(other)}) b USING (source, "row")"""
    rows, differ, largest = require("duckdb", "corpus").execute(query).fetchone()
    return {"rows_compared": rows, "label_sets_differ": differ, "max_abs_score_diff": float(largest)}


def bench_corpus(
    sizes: list[int],
    configs: str,
    work_dir: Path,
    data_dir: Path = DEFAULT_DATA_DIR,
    runtime: str = "onnx",
    cores: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    import os
    import shutil

    require("duckdb", "corpus")  # before the runs, not after them
    cores = cores or os.cpu_count() or 1
    chosen = parse_configs(configs, cores)
    described = __doc__.split("\n\n")[1].replace("\n", " ")
    report: dict = {"input": described, "cores": cores, "runtime": runtime, "runs": []}
    for size in sizes:
        source = build_input(data_dir, size, Path(work_dir) / f"posts-{size}.parquet")
        reference = None
        for name, options in chosen:
            target = Path(work_dir) / f"results-{size}-{runtime}-{name.replace(':', '-')}"
            shutil.rmtree(target, ignore_errors=True)
            if on_step is not None:
                on_step(f"{size:,} rows, {name}")
            command = [sys.executable, "-m", "affectlab", "corpus", "run", str(source), "--text-column", "body",
                       "--time-column", "created_at", "--group-column", "community", "-o", str(target),
                       "--runtime", runtime, "--no-progress", *options]
            seconds, peak = timed_run(command, target.with_suffix(".log"))
            run = {"rows": size, "configuration": name, "command": " ".join(command[1:]), "seconds": round(seconds, 1),
                   "rows_per_second": round(size / seconds, 1), "peak_memory_mb": round(peak / 2**20)}
            if reference is None:
                reference = (target, run)
            else:
                run["compared_with"] = reference[1]["configuration"]
                run["throughput_ratio"] = round(run["rows_per_second"] / reference[1]["rows_per_second"], 3)
                run["same_scores"] = compare_scores(reference[0], target)
            report["runs"].append(run)
    return report
