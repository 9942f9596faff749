"""``affectlab bench conversation``: how the cost of analyzing one conversation grows with its length.

For each length (default 30, 300 and 2,000 turns), one conversation is made by joining DailyDialog test
dialogues, and fresh processes load the shipped models and measure it:
- time, alternating over ``rounds`` (median): the conversation end to end (turn emotions, then the causes of
  every emotional turn, as ``analyze``); the worst case for causes (turn emotions, then the causes of every
  turn); and the baseline, the same turns scored as one batch of plain texts by the text model; with
  ``compare``, also the conversation end to end with another turn model (an artifact folder), timed in the
  same rounds, so a new turn model's cost is read as a ratio against the one it replaces (the ratio of the
  medians, and the spread of the ratio round by round: how far one run's figure can move);
- memory, in a process of its own holding only the conversation models (as ``affectlab conversation`` does):
  its peak after loading, after the analysis, and after the worst case.
The figures to compare across lengths are seconds per turn and the peak memory.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_dailydialog
from affectlab.errors import AffectlabError

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


def _emotional(result) -> int:
    return sum(t.emotion != "neutral" for t in result.turns)


def _spread(values: list[float]) -> dict:
    """Lowest, quartiles and highest of ``values``: how much a ratio moves from round to round."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {"min": min(values), "q1": q1, "median": median, "q3": q3, "max": max(values)}


def measure_time(conversation: list[dict], rounds: int, threads: int, compare: Path | None = None) -> dict:
    """Timings of one conversation, the models loaded and warmed up first."""
    from affectlab.dialogue import ConversationAnalyzer
    from affectlab.text import Analyzer

    texts = [turn["text"] for turn in conversation]
    start = time.perf_counter()
    analyzer = ConversationAnalyzer(threads=threads)
    text_analyzer = Analyzer(runtime="torch", threads=threads)
    analyzer.analyze(conversation[:WARM_UP_TURNS])
    text_analyzer.analyze_batch(texts[:WARM_UP_TURNS])
    load_seconds = time.perf_counter() - start
    other = None if compare is None else ConversationAnalyzer(turn_model=compare, threads=threads)
    if other is not None:
        other.analyze(conversation[:WARM_UP_TURNS])

    timed = [analyzer] if other is None else [analyzer, other]
    times: dict[int, list[float]] = {id(a): [] for a in timed}
    results = {}
    worst, baseline = [], []
    for round_ in range(rounds):
        for a in timed if round_ % 2 == 0 else timed[::-1]:  # the two turn models take turns to go first
            start = time.perf_counter()
            results[id(a)] = a.analyze(conversation)
            times[id(a)].append(time.perf_counter() - start)
        start = time.perf_counter()
        analyzer.analyze(conversation, causes=False)
        analyzer.cause_candidates(conversation, [(i, "joy") for i in range(len(conversation))])
        worst.append(time.perf_counter() - start)
        start = time.perf_counter()
        text_analyzer.analyze_batch(texts)
        baseline.append(time.perf_counter() - start)
    turns = len(conversation)
    median, median_worst, median_baseline = (statistics.median(v) for v in (times[id(analyzer)], worst, baseline))
    comparison = {}
    if other is not None:
        median_compared = statistics.median(times[id(other)])
        paired = [a / b for a, b in zip(times[id(analyzer)], times[id(other)])]
        comparison = {"compared_turn_model": str(compare), "compared_seconds": median_compared,
                      "ratio_to_compared": median / median_compared,
                      "ratio_to_compared_by_round": _spread(paired),
                      "compared_emotional_turns": _emotional(results[id(other)])}
    return {
        "turns": turns,
        "emotional_turns": _emotional(results[id(analyzer)]),
        "seconds": median,
        "seconds_per_turn": median / turns,
        "every_turn_emotional_seconds": median_worst,
        "every_turn_emotional_seconds_per_turn": median_worst / turns,
        "baseline_seconds": median_baseline,
        "ratio_to_baseline": median / median_baseline,
        "load_seconds": load_seconds,
        **comparison,
    }


def measure_memory(conversation: list[dict], threads: int) -> dict:
    """Peak memory of a process that holds only the conversation models (meant to be a fresh one)."""
    from affectlab.dialogue import ConversationAnalyzer

    analyzer = ConversationAnalyzer(threads=threads)
    analyzer.analyze(conversation[:WARM_UP_TURNS])
    loaded = _peak_gb()
    analyzer.analyze(conversation)
    analyzed = _peak_gb()
    analyzer.cause_candidates(conversation, [(i, "joy") for i in range(len(conversation))])
    return {"peak_memory_after_loading_gb": round(loaded, 3), "peak_memory_gb": round(analyzed, 3),
            "peak_memory_every_turn_emotional_gb": round(_peak_gb(), 3)}


def _child(measure, args: tuple, pipe) -> None:
    try:
        pipe.send(measure(*args))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it with the length named
        pipe.send(exc)
    finally:
        pipe.close()


def _in_fresh_process(measure, *args) -> dict | str:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(measure, args, send))
    process.start()
    send.close()
    try:
        outcome = receive.recv()
    except EOFError:  # the process died without a word (killed, out of memory)
        process.join()
        outcome = f"exit code {process.exitcode}"
    process.join()
    return outcome


def bench_conversation(data_dir: Path = DEFAULT_DATA_DIR, turns: tuple[int, ...] = (30, 300, 2000), rounds: int = 3,
                       threads: int = 2, on_step: Callable[[str], None] | None = None,
                       compare: Path | None = None) -> dict:
    from affectlab.dialogue.analyzer import DEFAULT_LOOKBACK

    step = on_step or (lambda _: None)
    lengths = []
    for n in turns:
        conversation = conversation_of(n, data_dir)
        step(f"{n} turns: time")
        timing = _in_fresh_process(measure_time, conversation, rounds, threads, compare)
        step(f"{n} turns: memory")
        memory = _in_fresh_process(measure_memory, conversation, threads)
        for outcome in (timing, memory):
            if isinstance(outcome, AffectlabError):  # the user's to fix, such as a turn model to compare that fails
                raise outcome
            if not isinstance(outcome, dict):
                raise RuntimeError(f"the {n}-turn measurement failed: {outcome!r}")
        lengths.append({**timing, **memory})
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
