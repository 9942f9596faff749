"""``affectlab bench conversation``: seconds to analyze one 30-turn conversation end to end (turn
emotions, then causes of every non-neutral turn), side by side with the baseline of scoring the same
30 turns as one batch of texts with the text model (no context, no causes).

The conversation is the first DailyDialog test dialogues joined until it has ``turns`` turns. Both
sides run in this process with the models already loaded (load time is reported apart), alternating
over ``rounds``; the figure is the median. Since the cost of causes depends on how many turns are
emotional, the worst case is timed too: turn emotions plus the causes of every turn.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_dailydialog


def bench_conversation(data_dir: Path = DEFAULT_DATA_DIR, turns: int = 30, rounds: int = 5, threads: int = 2,
                       on_step: Callable[[str], None] | None = None) -> dict:
    from affectlab.dialogue import ConversationAnalyzer
    from affectlab.text import Analyzer

    conversation: list[dict] = []
    for dialogue in load_dailydialog("test", data_dir):
        conversation += [{"speaker": s, "text": t} for s, t in zip(dialogue.speakers, dialogue.texts)]
        if len(conversation) >= turns:
            break
    conversation = conversation[:turns]
    texts = [turn["text"] for turn in conversation]

    step = on_step or (lambda _: None)
    step("loading models")
    start = time.perf_counter()
    analyzer = ConversationAnalyzer(threads=threads)
    analyzer.analyze(conversation)
    load_seconds = time.perf_counter() - start
    text_analyzer = Analyzer(runtime="torch", threads=threads)
    text_analyzer.analyze_batch(texts)

    conversation_seconds, worst_seconds, text_seconds, result = [], [], [], None
    for r in range(rounds):
        step(f"round {r + 1}/{rounds}")
        start = time.perf_counter()
        result = analyzer.analyze(conversation)
        conversation_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        analyzer.analyze(conversation, causes=False)
        analyzer.cause_candidates(conversation, [(i, "joy") for i in range(len(conversation))])
        worst_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        text_analyzer.analyze_batch(texts)
        text_seconds.append(time.perf_counter() - start)
    median_conversation = statistics.median(conversation_seconds)
    median_text = statistics.median(text_seconds)
    non_neutral = sum(t.emotion != "neutral" for t in result.turns)  # each one's causes were scored
    return {
        "turns": len(conversation),
        "non_neutral_turns": non_neutral,
        "threads": threads,
        "rounds": rounds,
        "conversation_seconds": median_conversation,
        "every_turn_emotional_seconds": statistics.median(worst_seconds),
        "baseline": "the same turns scored as one batch of texts by the text model (torch), no context or causes",
        "baseline_seconds": median_text,
        "ratio_to_baseline": median_conversation / median_text,
        "first_call_seconds_including_model_load": load_seconds,
    }
