"""``affectlab bench serve``: how much of the text model's offline throughput ``affectlab serve`` keeps under load.

The same GoEmotions test comments are scored twice in one run: offline, by ``Analyzer.analyze_batch`` (in this
process, before the server starts; the median of three passes), then through the API: ``affectlab serve``
started as a user starts it (its own process, real uvicorn, a free port on 127.0.0.1), sent ``/v1/analyze``
requests of one text each by ``concurrency`` clients at once, each with its own keep-alive connection, for at most
``requests`` requests or ``seconds`` seconds per concurrency. Every answer is checked: a 200 whose body holds a
text's affect, else it counts as an error. Nothing leaves 127.0.0.1. The issue's target: at concurrency 32, at
least 70% of the offline texts/s with p99 latency at most 1 s.

Beside the rates, the CPU time spent per text offline and per request by the server's process and by the load
generator (this process): they share the machine's cores, so on a busy or a quiet machine alike, offline CPU ms
per text over the two together is about what the ratio can reach at high concurrency.

>>> report = bench_serve(Path("../shared/data"), requests=2000, concurrencies=(1, 8, 32))
>>> [(level["concurrency"], round(level["ratio_to_offline"], 2)) for level in report["levels"]]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_goemotions
from affectlab.errors import OptionError
from affectlab.serve.settings import Settings

TARGET = {"concurrency": 32, "min_ratio_to_offline": 0.70, "max_p99_ms": 1000.0}
START_TIMEOUT_S = 300
OFFLINE_PASSES = 3
EMOTIONS = 28  # GoEmotions' labels, in every answer
WORKERS = Settings().workers  # the server runs with its default workers


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q <= 1) of ``values``.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5), percentile([1.0, 2.0, 3.0, 4.0], 0.99)
    (2.0, 4.0)
    """
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def cpu_seconds(process) -> float:
    """User and system CPU seconds of a :class:`psutil.Process` so far, all its threads."""
    times = process.cpu_times()
    return times.user + times.system


def offline_throughput(texts: list[str], threads: int | None, passes: int = OFFLINE_PASSES) -> dict:
    """Texts/s of ``Analyzer.analyze_batch`` over ``texts`` (after a warm-up batch) and its CPU ms per text: the
    median of ``passes`` passes (one pass of a few seconds varies by a tenth from run to run), each pass listed."""
    import psutil

    from affectlab.text import Analyzer

    analyzer = Analyzer(threads=threads)
    analyzer.analyze_batch(texts[:64])
    this = psutil.Process()
    runs = []
    for _ in range(passes):
        start, cpu = time.perf_counter(), cpu_seconds(this)
        analyzer.analyze_batch(texts)
        runs.append((len(texts) / (time.perf_counter() - start), 1000 * (cpu_seconds(this) - cpu) / len(texts)))
    rate, cpu_ms = statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs)
    return {"texts": len(texts), "passes": [round(r, 1) for r, _ in runs], "texts_per_second": round(rate, 1),
            "cpu_ms_per_text": round(cpu_ms, 3)}


class Server:
    """``affectlab serve --port 0 --no-responder`` in its own process, until :meth:`stop`."""

    def __init__(self, threads: int | None, queue_size: int) -> None:
        """``threads``: the cores the server may use, shared among its workers as it does with all the machine's
        cores when there is no bound."""
        self.text_threads = max(1, threads // WORKERS) if threads else Settings().text_threads
        command = [sys.executable, "-m", "affectlab", "serve", "--port", "0", "--no-responder",
                   "--queue-size", str(queue_size)] + (["--threads", str(self.text_threads)] if threads else [])
        env = {k: v for k, v in os.environ.items() if k != "AFFECTLAB_SERVE_TOKEN"}
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
        deadline, said = time.monotonic() + START_TIMEOUT_S, []
        while not (said and said[-1].startswith("serving ")):
            line = self.process.stderr.readline()
            if not line or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("affectlab serve did not start: " + " ".join(said)[-500:])
            said.append(line)
        self.url = said[-1].split()[1]
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self.host, self.port = host, int(port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()


def request_bytes(text: str) -> bytes:
    """The whole HTTP request for one text, built before the clients start (its CPU is not the load's)."""
    body = json.dumps({"text": text}).encode()
    return (b"POST /v1/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def answer_kind(status: int, body: bytes) -> str:
    """``ok`` for a 200 whose body is a text's affect (the 28 emotions, labels and the model), else what went
    wrong: the status, or ``bad_body``.

    >>> answer_kind(200, b'{"model": "m", "labels": [], "emotions": {}}'), answer_kind(429, b"{}")
    ('bad_body', '429')
    """
    if status != 200:
        return str(status)
    try:
        answer = json.loads(body)
    except ValueError:
        return "bad_body"
    fine = isinstance(answer, dict) and answer.get("model") and isinstance(answer.get("labels"), list)
    return "ok" if fine and len(answer.get("emotions") or ()) == EMOTIONS else "bad_body"


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> str:
    """Send one request on a kept-alive connection and read its answer: the head in one read, then the body by
    its length."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])  # HTTP/1.1 200 OK
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        raise ValueError("an answer without Content-Length")
    length = int(head[at + 17:head.index(b"\r\n", at + 2)])
    return answer_kind(status, await reader.readexactly(length))


async def _load(host: str, port: int, requests_of: list[bytes], concurrency: int, requests: int,
                seconds: float) -> dict:
    """``concurrency`` clients sending one text per request until ``requests`` are sent or ``seconds`` pass; every
    answer is checked (status and body)."""
    counter = itertools.count()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        connection = None
        while (index := next(counter)) < requests and time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection = connection or await asyncio.open_connection(host, port)
                kind = await _exchange(*connection, requests_of[index % len(requests_of)])
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                kind, connection = type(exc).__name__, None
            if kind == "ok":
                latencies.append(time.perf_counter() - started)
            else:
                errors[kind] = errors.get(kind, 0) + 1
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    answered = len(latencies)
    return {"concurrency": concurrency, "requests": answered + sum(errors.values()), "ok": answered,
            "errors": sum(errors.values()), "errors_by_kind": errors, "seconds": round(elapsed, 3),
            "requests_per_second": round(answered / elapsed, 1),
            "p50_ms": round(1000 * percentile(latencies, 0.5), 1) if latencies else None,
            "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None}


def bench_serve(data_dir: Path = DEFAULT_DATA_DIR, *, requests: int = 2000, seconds: float = 60.0,
                concurrencies: tuple[int, ...] = (1, 8, 32), threads: int | None = None,
                on_step: Callable[[str], None] | None = None) -> dict:
    """Offline texts/s, then requests/s, p50/p99 latency and errors at each concurrency, and their ratio; beside
    them the CPU time per request of the server's process and of this one, the load generator, which share the
    machine's cores (and so what bounds requests/s when the cores are all busy)."""
    import psutil

    if requests < 1 or seconds <= 0 or not concurrencies or min(concurrencies) < 1:
        raise OptionError("requests and every concurrency must be at least 1, seconds above 0")
    step = on_step or (lambda _: None)
    texts = load_goemotions("test", data_dir).texts[:requests]
    step(f"offline: {len(texts)} texts")
    offline = offline_throughput(texts, threads)
    step("starting affectlab serve")
    requests_of = [request_bytes(text) for text in texts]
    server = Server(threads, queue_size=max(64, 2 * max(concurrencies)))
    try:
        serving, loading = psutil.Process(server.process.pid), psutil.Process()
        levels = []
        for concurrency in concurrencies:
            step(f"concurrency {concurrency}")
            before = cpu_seconds(serving), cpu_seconds(loading)
            level = asyncio.run(_load(server.host, server.port, requests_of, concurrency, requests, seconds))
            spent = cpu_seconds(serving) - before[0], cpu_seconds(loading) - before[1]
            level["ratio_to_offline"] = round(level["requests_per_second"] / offline["texts_per_second"], 3)
            level["cpu_ms_per_request"] = {name: round(1000 * cpu / max(1, level["requests"]), 3)
                                           for name, cpu in zip(("server", "load_generator"), spent)}
            levels.append(level)
    finally:
        server.stop()
    at_target = next((lv for lv in levels if lv["concurrency"] == TARGET["concurrency"]), None)
    meets = None if at_target is None else bool(
        at_target["errors"] == 0 and at_target["ratio_to_offline"] >= TARGET["min_ratio_to_offline"]
        and at_target["p99_ms"] is not None and at_target["p99_ms"] <= TARGET["max_p99_ms"])
    return {"texts": f"GoEmotions test, first {len(texts)} comments, one per request",
            "bounds": {"requests_per_level": requests, "seconds_per_level": seconds},
            "threads": threads or os.cpu_count(), "server_text_threads": server.text_threads, "offline": offline,
            "levels": levels, "target": TARGET, "meets_target": meets}
