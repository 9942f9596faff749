"""``affectlab bench conversation``: how the cost of analyzing one conversation grows with its length.

For each length (default 30, 300 and 2,000 turns), one conversation is made by joining DailyDialog test
dialogues, and a fresh process loads the shipped models and times, alternating over ``rounds`` (median):
- the conversation end to end: turn emotions, then the causes of every emotional turn (as ``analyze``);
- the worst case for causes: turn emotions, then the causes of every turn;
- the baseline: the same turns scored as one batch of plain texts by the text model (no context, no causes).
Each length runs in its own process so that its peak memory (the whole process's, models included) is its
own; the figures to compare across lengths are seconds per turn and that peak.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_dailydialog

WARM_UP_TURNS = 8


def conversation_of(turns: int, data_dir: Path = DEFAULT_DATA_DIR) -> list[dict]:
    """``turns`` turns of DailyDialog test dialogues joined in order (repeated if the split runs out)."""
    dialogues = load_dailydialog("test", data_dir)
    conversation: list[dict] = []
    while len(conversation) < turns:
        for dialogue in dialogues:
            conversation += [{"speaker": s, "text": t} for s, t in zip(dialogue.speakers, dialogue.texts)]
            if len(conversation) >= turns:
                break
    return conversation[:turns]


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux


def measure_length(conversation: list[dict], rounds: int, threads: int) -> dict:
    """Timings of one conversation in this process (meant to be a fresh one: its peak memory is reported)."""
    from affectlab.dialogue import ConversationAnalyzer
    from affectlab.text import Analyzer

    texts = [turn["text"] for turn in conversation]
    start = time.perf_counter()
    analyzer = ConversationAnalyzer(threads=threads)
    text_analyzer = Analyzer(runtime="torch", threads=threads)
    analyzer.analyze(conversation[:WARM_UP_TURNS])
    text_analyzer.analyze_batch(texts[:WARM_UP_TURNS])
    load_seconds = time.perf_counter() - start
    loaded_gb = _peak_gb()

    seconds, worst, baseline, result = [], [], [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = analyzer.analyze(conversation)
        seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        analyzer.analyze(conversation, causes=False)
        analyzer.cause_candidates(conversation, [(i, "joy") for i in range(len(conversation))])
        worst.append(time.perf_counter() - start)
        start = time.perf_counter()
        text_analyzer.analyze_batch(texts)
        baseline.append(time.perf_counter() - start)
    turns = len(conversation)
    median, median_worst, median_baseline = (statistics.median(v) for v in (seconds, worst, baseline))
    return {
        "turns": turns,
        "emotional_turns": sum(t.emotion != "neutral" for t in result.turns),
        "seconds": median,
        "seconds_per_turn": median / turns,
        "every_turn_emotional_seconds": median_worst,
        "every_turn_emotional_seconds_per_turn": median_worst / turns,
        "baseline_seconds": median_baseline,
        "ratio_to_baseline": median / median_baseline,
        "peak_memory_gb": round(_peak_gb(), 3),
        "peak_memory_after_loading_gb": round(loaded_gb, 3),
        "load_seconds": load_seconds,
    }


def _child(conversation: list[dict], rounds: int, threads: int, pipe) -> None:
    try:
        pipe.send(measure_length(conversation, rounds, threads))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it with the length named
        pipe.send(exc)
    finally:
        pipe.close()


def bench_conversation(data_dir: Path = DEFAULT_DATA_DIR, turns: tuple[int, ...] = (30, 300, 2000), rounds: int = 3,
                       threads: int = 2, on_step: Callable[[str], None] | None = None) -> dict:
    from affectlab.dialogue.analyzer import DEFAULT_LOOKBACK

    step = on_step or (lambda _: None)
    context = multiprocessing.get_context("spawn")
    lengths = []
    for n in turns:
        step(f"{n} turns in a fresh process")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(conversation_of(n, data_dir), rounds, threads, send))
        process.start()
        send.close()
        try:
            outcome = receive.recv()
        except EOFError:  # the process died without a word (killed, out of memory)
            outcome = f"exit code {process.exitcode}" if process.join() is None else None
        process.join()
        if not isinstance(outcome, dict):
            raise RuntimeError(f"the {n}-turn measurement failed: {outcome!r}")
        lengths.append(outcome)
    per_turn = [m["seconds_per_turn"] for m in lengths]
    growth = per_turn[-1] / per_turn[-2] if len(per_turn) > 1 else None
    return {
        "threads": threads,
        "rounds": rounds,
        "lookback": DEFAULT_LOOKBACK,
        "conversation": "DailyDialog test dialogues joined in order",
        "baseline": "the same turns scored as one batch of texts by the text model (torch), no context or causes",
        "lengths": lengths,
        "seconds_per_turn_longest_over_next": growth,
    }
